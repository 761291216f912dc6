"""`anchor up`: the whole stack on its embedded defaults, in one process group.

SQLite in the data directory, a local anvil chain whose state persists there, the registry
deployed on first start (the deployer is its admin, registrar, pauser and revoker), the worker
and the HTTP API. Every issuing body of the store (`anchor issuers add`) is onboarded on this
chain by the deployer: at start, and within `ONBOARD_EVERY` seconds of being added while the
stack runs. The first start creates no body; it prints how to add one. For development and
demonstrations only: the chain's keys are anvil's public test keys, and the bodies' keystores
use the development password unless ANCHOR_KEYSTORE_PASSWORD(_FILE) is set.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from eth_account import Account
from web3 import Web3

from anchor.chain.devchain import Anvil, dev_key, fund_on_anvil
from anchor.chain.onboard import onboard_body
from anchor.chain.registry import (
    PAUSER_ROLE,
    REGISTRAR_ROLE,
    REVOKER_ROLE,
    Kind,
    Purpose,
    Registry,
    deploy_registry,
)
from anchor.chain.signer import KeystoreSigner, Signer
from anchor.cli.output import fail
from anchor.errors import AnchorError
from anchor.service.logs import configure_logging
from anchor.settings import Settings, load_settings
from anchor.store import Issuer, Store
from anchor.types import KeyPurpose
from api.app import create_app

if TYPE_CHECKING:
    from anchor.service.worker import Worker

#: Seconds between two looks at the store for bodies to onboard while the stack runs.
ONBOARD_EVERY = 2.0

FIRST_BODY = (
    'anchor issuers add "Commune de Contern" --kind commune --code 0301',
    'anchor keys create --issuer 1 --new-integrator "Contern: civil registry" -s submit -s read',
)


def _send(w3: Web3, signer: Signer, call: object) -> None:
    from anchor.chain.fees import fee_fields

    tx = call.build_transaction(  # type: ignore[attr-defined]
        {
            "from": signer.address,
            "nonce": w3.eth.get_transaction_count(signer.address, "pending"),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(signer.sign_transaction(tx).raw_transaction)
    w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60)


def ensure_registry(w3: Web3, manifest: Path) -> str:
    """Return the registry address of the local chain, deploying it on first start.

    The deployer (development key 0) is admin, registrar, pauser and revoker; the relayer
    (development key 1) holds no role.
    """
    if manifest.exists():
        address = str(json.loads(manifest.read_text())["address"])
        if len(w3.eth.get_code(Web3.to_checksum_address(address))) > 0:
            return address
        typer.echo("the chain state was reset: deploying the registry again")
    admin = Account.from_key(dev_key(0))
    deployer = KeystoreSigner(admin)
    address, block = deploy_registry(w3, admin)
    contract = Registry(w3, address).contract
    for role in (REGISTRAR_ROLE, PAUSER_ROLE, REVOKER_ROLE):
        _send(w3, deployer, contract.functions.grantRole(role, admin.address))
    manifest.write_text(
        json.dumps(
            {
                "chainId": w3.eth.chain_id,
                "address": address,
                "deploymentBlock": block,
                "deployer": admin.address,
                "relayer": Account.from_key(dev_key(1)).address,
            },
            indent=2,
        )
        + "\n"
    )
    return address


def onboard_store_bodies(w3: Web3, registry: Registry, store: Store) -> list[Issuer]:
    """Register on the local chain every body of the store whose anchoring key it does not know
    (the deployer is the registrar); return those onboarded now."""
    registrar: KeystoreSigner | None = None  # derived only when a body needs it (costly)
    done = []
    for issuer in store.list_issuers(onboarded=False):
        anchoring = issuer.key_for(KeyPurpose.ANCHORING)
        if anchoring is None or registry.key_of(anchoring.address).registered:
            continue  # the worker records the body id of a key already registered
        registrar = registrar or KeystoreSigner(Account.from_key(dev_key(0)))
        keys = [(k.address, int(Purpose[k.purpose.name])) for k in issuer.keys if not k.retired_at]
        names = (issuer.name_fr, issuer.name_de or "", issuer.name_en or "", issuer.name_lb or "")
        body_id = onboard_body(
            w3, registrar, registry, int(Kind.from_slug(issuer.kind.value)), issuer.code or "",
            names, keys,
        )  # fmt: skip
        for address, _ in keys:
            fund_on_anvil(w3, address)  # its status key sends its own transactions
        done.append(store.set_chain_body_id(issuer.id, body_id))
        typer.echo(f"onboarded issuing body {issuer.id} ({issuer.name_fr}) as body {body_id}")
    return done


def _keep_onboarding(w3: Web3, registry: Registry, store: Store, stopping: threading.Event) -> None:
    """Onboard the bodies `anchor issuers add` makes while the stack runs."""
    while not stopping.wait(ONBOARD_EVERY):
        try:
            onboard_store_bodies(w3, registry, store)
        except (AnchorError, OSError, ValueError) as e:
            typer.echo(f"could not onboard the new bodies now: {e}", err=True)


def _run_locked(worker: Worker) -> None:
    """The worker's loop under its relayer's one-writer lock, as `anchor worker` runs it: an
    `anchor worker` started on the same store waits instead of racing for the nonces."""
    with worker.store.writer_lock(worker.submitter.relayer.address):
        worker.run()


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

    Then, with ANCHOR_DATA_DIR set to the same data directory, add an issuing body with
    `anchor issuers add "Commune de Contern" --kind commune --code 0301` (it is onboarded on
    the local chain within seconds) and make an API key bound to it with `anchor keys create
    --issuer 1 --new-integrator "Contern: civil registry" -s submit -s read`; then follow the
    README's quickstart. Stop with Ctrl-C: the chain state is saved in the data directory and
    reloaded next time.
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
    threads: list[threading.Thread] = []
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
        registry = Registry(w3, address)
        onboard_store_bodies(w3, registry, worker.store)
        threads.append(
            threading.Thread(
                target=_keep_onboarding,
                args=(w3, registry, worker.store, worker.stopping),
                name="onboarding",
                daemon=True,
            )
        )
        threads.append(
            threading.Thread(target=_run_locked, args=(worker,), name="worker", daemon=True)
        )
        for thread in threads:
            thread.start()
        app = create_app(settings, metrics=worker.metrics)
        typer.echo(
            f"\n  chain     {chain.url} (chain id 31337, anvil, state in {data_dir}/)\n"
            f"  registry  {address}\n"
            f"  API       http://{host}:{port}/docs\n"
            f"  page      http://{host}:{port}/verify\n"
            f"  metrics   http://127.0.0.1:{settings.internal_port}/metrics (internal)\n"
        )
        bodies = worker.store.list_issuers()
        if bodies:
            typer.echo(f"  bodies    {', '.join(f'{b.id} {b.name_fr}' for b in bodies)}\n")
        else:
            typer.echo(
                "  no issuing body yet: add one, then a key bound to it (onboarded here within "
                "seconds):\n"
                + "".join(f"    ANCHOR_DATA_DIR={data_dir} {line}\n" for line in FIRST_BODY)
            )
        # uvicorn re-raises the SIGTERM it caught once it has shut down; the handler above then
        # exits through `finally`, which stops the worker before the chain it talks to.
        uvicorn.run(app, host=host, port=port, log_level="warning")
    except AnchorError as e:
        raise fail(str(e)) from e
    finally:
        if worker is not None:
            worker.stop()
        for thread in threads:
            thread.join(timeout=10)
        chain.stop()
