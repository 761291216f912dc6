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
from anchor.errors import ChainError, ConfigError

#: The interface version this package speaks; the service refuses a registry with another.
REGISTRY_VERSION = "1.0.0"

ISSUER_ROLE = Web3.keccak(text="ISSUER_ROLE")
REVOKER_ROLE = Web3.keccak(text="REVOKER_ROLE")
DEFAULT_ADMIN_ROLE = b"\x00" * 32


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


@dataclass(frozen=True)
class AnchorRecord:
    """What the registry holds of a root; ``anchored_at`` is 0 when it was never anchored."""

    issuer: ChecksumAddress
    anchored_at: int
    leaf_count: int

    @property
    def anchored(self) -> bool:
        """True when the root is anchored."""
        return self.anchored_at != 0


@dataclass(frozen=True)
class Revocation:
    """A revocation record; ``revoked_at`` is 0 when there is none."""

    revoked_by: ChecksumAddress
    revoked_at: int
    reason: int


@dataclass(frozen=True)
class Status:
    """The registry's answer for a (root, proof, leaf) triple, read in one call."""

    included: bool
    anchored_at: int
    issuer: ChecksumAddress
    issuer_name: str
    leaf_count: int
    leaf_revoked_at: int
    leaf_revocation_reason: int
    root_revoked_at: int
    root_revocation_reason: int
    issuer_authorised_at_anchor: bool


class Registry:
    """A thin typed wrapper over the deployed contract."""

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

    def anchor_of(self, root: bytes) -> AnchorRecord:
        """Return what the registry holds of ``root``."""
        issuer, anchored_at, leaf_count = self._call("anchorOf", root)
        return AnchorRecord(Web3.to_checksum_address(issuer), anchored_at, leaf_count)

    def status(self, root: bytes, proof: list[bytes], leaf: bytes) -> Status:
        """Return inclusion, anchoring, issuer and revocation of a leaf in one call."""
        s = self._call("status", root, proof, leaf)
        return Status(
            included=s[0],
            anchored_at=s[1],
            issuer=Web3.to_checksum_address(s[2]),
            issuer_name=s[3],
            leaf_count=s[4],
            leaf_revoked_at=s[5],
            leaf_revocation_reason=s[6],
            root_revoked_at=s[7],
            root_revocation_reason=s[8],
            issuer_authorised_at_anchor=s[9],
        )

    def root_revocation(self, root: bytes) -> Revocation:
        """Return the revocation of a whole root."""
        by, at, reason = self._call("rootRevocation", root)
        return Revocation(Web3.to_checksum_address(by), at, reason)

    def document_revocation(self, root: bytes, leaf: bytes) -> Revocation:
        """Return the revocation of one document (a leaf under a root)."""
        by, at, reason = self._call("documentRevocation", root, leaf)
        return Revocation(Web3.to_checksum_address(by), at, reason)

    def issuer_name(self, issuer: str) -> str:
        """Return the display name of an issuer."""
        return cast(str, self._call("issuerName", Web3.to_checksum_address(issuer)))

    def has_role(self, role: bytes, account: str) -> bool:
        """True when ``account`` holds ``role``."""
        return cast(bool, self._call("hasRole", role, Web3.to_checksum_address(account)))

    def paused(self) -> bool:
        """True when anchoring and revocation are paused."""
        return cast(bool, self._call("paused"))


def deploy_registry(w3: Web3, deployer: LocalAccount, admin: str | None = None) -> tuple[str, int]:
    """Deploy the registry with ``deployer`` (admin defaults to it); return (address, block).

    Signs locally, so it works against any node, with an explicit zero gas price when the
    node's base fee is zero (free-gas networks) and EIP-1559 fees otherwise.
    """
    artifact = load_artifact()
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    try:
        tx = factory.constructor(
            Web3.to_checksum_address(admin or deployer.address)
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
