"""The AnchorRegistry contract as the service and the verifier see it.

The ABI and bytecode come from the committed artifact `anchor/chain/AnchorRegistry.json`;
neither solc nor brownie is needed at run time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, cast

from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3Exception

from anchor.chain import fees
from anchor.chain.eip712 import SignedAnchor, anchor_typed_data, sign_anchor
from anchor.chain.records import (
    AnchorRecord,
    BodyRecord,
    BodyStatus,
    ChangeKind,
    DocumentState,
    KeyRecord,
    Kind,
    Names,
    Purpose,
    RootEntry,
    Status,
    StatusChange,
    allowed,
)
from anchor.errors import ChainError, ConfigError

#: The interface version this package speaks; the service refuses a registry with another.
REGISTRY_VERSION = "2.1.0"

DEFAULT_ADMIN_ROLE = b"\x00" * 32
REGISTRAR_ROLE = bytes(Web3.keccak(text="REGISTRAR_ROLE"))
PAUSER_ROLE = bytes(Web3.keccak(text="PAUSER_ROLE"))
REVOKER_ROLE = bytes(Web3.keccak(text="REVOKER_ROLE"))

__all__ = [
    "DEFAULT_ADMIN_ROLE",
    "PAUSER_ROLE",
    "REGISTRAR_ROLE",
    "REGISTRY_VERSION",
    "REVOKER_ROLE",
    "AnchorRecord",
    "Artifact",
    "BodyRecord",
    "BodyStatus",
    "ChangeKind",
    "DocumentState",
    "KeyRecord",
    "Kind",
    "Names",
    "Purpose",
    "Registry",
    "RootEntry",
    "SignedAnchor",
    "Status",
    "StatusChange",
    "allowed",
    "anchor_typed_data",
    "decode_revert",
    "deploy_registry",
    "fee_fields",
    "load_artifact",
    "sign_anchor",
]


@dataclass(frozen=True)
class Artifact:
    """The compiled contract: ABI, creation and runtime bytecode, compiler and source hash."""

    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str
    sha256: str


@lru_cache(maxsize=1)
def load_artifact() -> Artifact:
    """Load the committed artifact shipped inside the package."""
    raw = resources.files("anchor.chain").joinpath("AnchorRegistry.json").read_bytes()
    data = json.loads(raw)
    return Artifact(
        abi=data["abi"],
        bytecode=data["bytecode"],
        deployed_bytecode=data["deployedBytecode"],
        compiler_version=data["compiler"]["version"],
        sha256="0x" + hashlib.sha256(raw).hexdigest(),
    )


class Registry:
    """A thin typed wrapper over the deployed contract's views (docs/registry.md)."""

    def __init__(self, w3: Web3, address: str) -> None:
        if not Web3.is_address(address):
            raise ConfigError(f"{address!r} is not an Ethereum address")
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=load_artifact().abi)

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self.contract.functions, name)(*args).call()
        except ContractLogicError as e:
            raise ChainError(f"the registry rejected {name}: {e}") from e
        except (Web3Exception, OSError, ValueError) as e:
            raise ChainError(f"cannot call {name} on the registry: {e}") from e

    def version(self) -> str:
        """Return the contract's interface version."""
        return cast(str, self._call("version"))

    def paused(self) -> bool:
        """True when anchoring is paused (status changes never are)."""
        return cast(bool, self._call("paused"))

    def has_role(self, role: bytes, account: str) -> bool:
        """True when ``account`` holds ``role``."""
        return cast(bool, self._call("hasRole", role, Web3.to_checksum_address(account)))

    def anchor_of(self, body_id: int, root: bytes) -> AnchorRecord:
        """Return what the registry holds of ``root`` under ``body_id``."""
        return AnchorRecord.of(self._call("anchorOf", body_id, root))

    def status(self, key: str, root: bytes, proof: list[bytes], leaf: bytes) -> Status:
        """Return inclusion, anchoring, authorisation, the body and the statuses in one call."""
        return Status.of(self._call("status", Web3.to_checksum_address(key), root, proof, leaf))

    def key_of(self, address: str) -> KeyRecord:
        """Return the key record of ``address`` (body 0 when it is no key)."""
        return KeyRecord.of(self._call("keyOf", Web3.to_checksum_address(address)))

    def body_of(self, body_id: int) -> BodyRecord:
        """Return a body (status UNKNOWN when never registered)."""
        return BodyRecord.of(self._call("bodyOf", body_id))

    def body_count(self) -> int:
        """Return the number of registered bodies; ids run from 1 to it."""
        return int(self._call("bodyCount"))

    def body_by_code(self, code: str) -> int:
        """Return the id of the body holding ``code``; 0 when none."""
        return int(self._call("bodyByCode", code))

    def names_of(self, body_id: int) -> list[tuple[int, Names]]:
        """Return every name version of a body as (since, names), oldest first."""
        return [(int(v[0]), Names.of(v[1])) for v in self._call("namesOf", body_id)]

    def name_at(self, body_id: int, timestamp: int) -> Names:
        """Return the names of a body in force at ``timestamp``."""
        return Names.of(self._call("nameAt", body_id, timestamp))

    def keys_of(self, body_id: int) -> list[ChecksumAddress]:
        """Return every key a body ever had, in the order they were added."""
        return [Web3.to_checksum_address(a) for a in self._call("keysOf", body_id)]

    def history_of(
        self, body_id: int, root: bytes, leaf: bytes = b"\x00" * 32
    ) -> list[StatusChange]:
        """Return every status change of a document (leaf zero: of the root), oldest first."""
        return [StatusChange.of(c) for c in self._call("historyOf", body_id, root, leaf)]

    def document_state(self, body_id: int, root: bytes, leaf: bytes) -> DocumentState:
        """Return a document's history folded: its state, extension and successor."""
        return DocumentState.of(self._call("documentState", body_id, root, leaf))

    def root_history(self, body_id: int, root: bytes) -> list[RootEntry]:
        """Return every change under a root (its documents' and its own), in the order made."""
        return [RootEntry.of(e) for e in self._call("rootHistory", body_id, root)]

    def hash_anchor(self, root: bytes, leaf_count: int, relayer: str, deadline: int) -> bytes:
        """Return the EIP-712 digest of a relayed anchor, as the contract computes it."""
        return bytes(
            self._call("hashAnchor", root, leaf_count, Web3.to_checksum_address(relayer), deadline)
        )


def deploy_registry(
    w3: Web3, deployer: LocalAccount, admin: str | None = None, delay: int = 0
) -> tuple[str, int]:
    """Deploy the registry with ``deployer``; return (address, block).

    ``admin`` (default: the deployer) becomes the default admin, with a transfer ``delay`` in
    seconds (0 suits development chains only); it holds no other role until it grants one.

    Signs locally, so it works against any node, with an explicit zero gas price when the
    node's base fee is zero (free-gas networks) and EIP-1559 fees otherwise.
    """
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    try:
        tx = factory.constructor(
            delay, Web3.to_checksum_address(admin or deployer.address)
        ).build_transaction(
            {
                "from": deployer.address,
                "nonce": w3.eth.get_transaction_count(deployer.address),
                **fee_fields(w3),
            }
        )
        signed = deployer.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    except (Web3Exception, OSError, ValueError) as e:
        raise ChainError(f"deployment failed: {e}") from e
    if receipt["status"] != 1 or not receipt["contractAddress"]:
        raise ChainError(f"deployment transaction {tx_hash.hex()} reverted")
    return str(receipt["contractAddress"]), int(receipt["blockNumber"])


def fee_fields(w3: Web3) -> dict[str, int]:
    """Explicit fee fields for a transaction: `anchor.chain.fees.fee_fields`, the one policy."""
    return fees.fee_fields(w3)


def error_selectors() -> dict[bytes, tuple[str, list[str]]]:
    """Map each custom error's 4-byte selector to its name and argument types."""
    table: dict[bytes, tuple[str, list[str]]] = {}
    for item in load_artifact().abi:
        if item["type"] == "error":
            types = [i["type"] for i in item["inputs"]]
            signature = f"{item['name']}({','.join(types)})"
            table[Web3.keccak(text=signature)[:4]] = (item["name"], types)
    return table


def decode_revert(data: bytes | str) -> tuple[str, tuple[Any, ...]] | None:
    """Decode revert data into (error name, arguments); None when it is not a known error."""
    from eth_abi.abi import decode
    from eth_abi.exceptions import DecodingError

    raw = (
        bytes.fromhex(data[2:] if data.startswith("0x") else data)
        if isinstance(data, str)
        else data
    )
    entry = error_selectors().get(raw[:4])
    if entry is None:
        return None
    name, types = entry
    try:
        return name, tuple(decode(types, raw[4:]))
    except DecodingError:
        return name, ()
