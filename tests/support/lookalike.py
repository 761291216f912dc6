"""The attacker's look-alike registry (`LookAlikeRegistry.sol`), compiled with the project's
solc-js wrapper (`build/bin/solc`, see tools/toolchain.py) and deployed by a roleless account."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from anchor.chain.registry import fee_fields
from anchor.merkle.hashing import leaf_hash
from anchor.proof.bundle import ProofBundle
from tests.support.chain import Accounts, send
from tools import toolchain

SOURCE = Path(__file__).with_name("LookAlikeRegistry.sol")
NAME = "LookAlikeRegistry"


@dataclass(frozen=True)
class Compiled:
    abi: list[dict[str, Any]]
    bytecode: str


@lru_cache(maxsize=1)
def compile_lookalike() -> Compiled:
    """Compile the look-alike through the wrapper, with the project's pinned EVM settings."""
    if not toolchain.WRAPPER.exists():
        toolchain.install_wrapper()
    config = toolchain.compiler_config()
    request = {
        "language": "Solidity",
        "sources": {SOURCE.name: {"content": SOURCE.read_text()}},
        "settings": {
            "evmVersion": config["evm_version"],
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    done = subprocess.run(
        [str(toolchain.WRAPPER), "--standard-json"],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    output = json.loads(done.stdout)
    errors = [e for e in output.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    contract = output["contracts"][SOURCE.name][NAME]
    return Compiled(contract["abi"], "0x" + contract["evm"]["bytecode"]["object"])


def deploy_lookalike(w3: Web3, attacker: LocalAccount, issuer: str) -> Any:
    """Deploy the look-alike from ``attacker``, claiming ``issuer``; return the contract."""
    compiled = compile_lookalike()
    factory = w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    tx = factory.constructor(Web3.to_checksum_address(issuer)).build_transaction(
        {
            "from": attacker.address,
            "nonce": w3.eth.get_transaction_count(attacker.address),
            **fee_fields(w3),
        }
    )
    tx_hash = w3.eth.send_raw_transaction(attacker.sign_transaction(tx).raw_transaction)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1
    return w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def forged_bundle(w3: Web3, lookalike: Any, accounts: Accounts) -> ProofBundle:
    """A forged document 'anchored' in the look-alike, claiming the real issuer and a name."""
    salt, digest = os.urandom(32), os.urandom(32)
    root = leaf_hash(salt, digest)
    receipt = send(w3, accounts.other, lookalike.functions.anchor(root))
    block = w3.eth.get_block(receipt["blockNumber"])  # type: ignore[arg-type]
    return ProofBundle.model_validate(
        {
            "version": 1, "digest": "0x" + digest.hex(), "salt": "0x" + salt.hex(),
            "leaf": "0x" + root.hex(), "proof": [], "root": "0x" + root.hex(),
            "chainId": 31337, "registry": lookalike.address,
            "txHash": "0x" + bytes(receipt["transactionHash"]).hex(),  # type: ignore[arg-type]
            "blockNumber": receipt["blockNumber"], "issuer": accounts.issuer.address,
            "anchoredAt": block["timestamp"], "issuerName": "Ministère de l'Intérieur",
        }
    )  # fmt: skip
