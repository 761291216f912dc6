"""`anchor up`: the whole stack on its embedded defaults, in one process group.

SQLite in the data directory, a local anvil chain whose state persists there, the registry
deployed on first start, the worker and the HTTP API. For development and demonstrations only:
the chain's keys are anvil's public test keys.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key
from anchor.chain.registry import ISSUER_ROLE, REVOKER_ROLE, Registry, deploy_registry, fee_fields
from anchor.cli.output import fail
from anchor.errors import AnchorError
from anchor.service.logs import configure_logging
from anchor.settings import Settings, load_settings
from api.app import create_app

DEV_ISSUER_NAME = "Development issuer (anvil)"


def _send(w3: Web3, key: str, call: Any) -> None:
    account = Account.from_key(key)
    tx = call.build_transaction(
        {
            "from": account.address,
            "nonce": w3.eth.get_transaction_count(account.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)


def ensure_registry(w3: Web3, manifest: Path) -> str:
    """Return the registry address of the local chain, deploying it on first start."""
    if manifest.exists():
        address = str(json.loads(manifest.read_text())["address"])
        if len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0:
            return address
        typer.echo("the chain state was reset: deploying the registry again")
    admin_key, issuer_key = dev_key(0), dev_key(1)
    admin = Account.from_key(admin_key)
    address, block = deploy_registry(w3, admin)
    contract = Registry(w3, address).contract
    issuer = Account.from_key(issuer_key).address
    _send(w3, admin_key, contract.functions.grantRole(ISSUER_ROLE, issuer))
    _send(w3, admin_key, contract.functions.grantRole(REVOKER_ROLE, admin.address))
    _send(w3, admin_key, contract.functions.setIssuerName(issuer, DEV_ISSUER_NAME))
    manifest.write_text(
        json.dumps(
            {
                "chainId": w3.eth.chain_id,
                "address": address,
                "deploymentBlock": block,
                "deployer": admin.address,
                "issuer": issuer,
            },
            indent=2,
        )
        + "\n"
    )
    return address


def up_command(
    host: Annotated[str, typer.Option(help="Address the API listens on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port of the API")] = 8000,
    data_dir: Annotated[Path, typer.Option(help="SQLite file, chain state, manifest")] = Path(
        "data"
    ),
    chain_port: Annotated[int, typer.Option(help="Port of the local anvil chain")] = 8545,
    block_time: Annotated[float, typer.Option(help="Seconds between blocks")] = 2.0,
    max_batch_age: Annotated[float, typer.Option(help="Close a batch after this long (s)")] = 5.0,
    internal_port: Annotated[
        int | None,
        typer.Option(help="Port of /metrics and the detailed /readyz on 127.0.0.1 [--port + 1]"),
    ] = None,
) -> None:
    """Run the whole stack locally: SQLite, anvil, the registry, the worker and the API.

    Example:

        anchor up --data-dir data --port 8000

    Then make an API key with `anchor keys create --new-integrator "Commune de Contern" -s submit
    -s read` (with ANCHOR_DATA_DIR set to the same data directory) and follow the README's
    quickstart. Stop with Ctrl-C: the chain
    state is saved in the data directory and reloaded next time.
    """
    import uvicorn

    from anchor.service.worker import Worker

    configure_logging(json_lines=False)
    # SIGTERM ends the stack like Ctrl-C: the worker stops and anvil saves its state.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    data_dir.mkdir(parents=True, exist_ok=True)
    chain = Anvil(
        block_time=block_time,
        state_path=data_dir / "anvil-state.json",
        port=chain_port,  # a fixed port, so that the chain's URL stays the same across runs
    )
    try:
        chain.start()
    except AnchorError as e:
        raise fail(f"cannot start the local chain on port {chain_port}: {e}") from e
    worker: Worker | None = None
    try:
        w3 = Web3(Web3.HTTPProvider(chain.url))
        address = ensure_registry(w3, data_dir / "deployment.json")
        settings: Settings = load_settings(
            data_dir=data_dir,
            rpc_urls=[chain.url],
            chain_id=31337,
            registry_address=address,
            confirmations=1,
            max_batch_age=max_batch_age,
            public_base_url=f"http://{host}:{port}",
            internal_host="127.0.0.1",
            internal_port=internal_port or port + 1,
        )
        worker = Worker.from_settings(settings, account=Account.from_key(dev_key(1)))
        thread = threading.Thread(target=worker.run, name="worker", daemon=True)
        thread.start()
        app = create_app(settings, metrics=worker.metrics)
        typer.echo(
            f"\n  chain     {chain.url} (chain id 31337, anvil, state in {data_dir}/)\n"
            f"  registry  {address}\n"
            f"  API       http://{host}:{port}/docs\n"
            f"  page      http://{host}:{port}/verify\n"
            f"  metrics   http://127.0.0.1:{settings.internal_port}/metrics (internal)\n\n"
            f"  make a key: ANCHOR_DATA_DIR={data_dir} anchor keys create"
            f" --new-integrator 'Commune de Contern' -s submit -s read\n"
        )
        # uvicorn re-raises the SIGTERM it caught once it has shut down; the handler above then
        # exits through `finally`, which stops the worker before the chain it talks to.
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except AnchorError as e:
        raise fail(str(e)) from e
    finally:
        if worker is not None:
            worker.stop()
            thread.join(timeout=10)
        chain.stop()
