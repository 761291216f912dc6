"""Settings of the anchoring service, from the environment (prefix ``ANCHOR_``).

One pydantic-settings class, served by a cached `get_settings()`. Settings are validated when
built: a malformed address, an empty RPC list or a placeholder secret fails fast with one clear
sentence instead of failing later in the middle of a batch.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from anchor.errors import ConfigError
from anchor.private_files import read_private_bytes, read_private_text
from anchor.trust import TrustedRegistry, parse_trusted_registries

_PLACEHOLDERS = {"", "changeme", "change-me", "password", "secret", "xxx", "todo"}

#: The password of the bodies' keystores on a development machine where none is set (``anchor
#: up``, the quick start); refused in production, where ANCHOR_KEYSTORE_PASSWORD(_FILE) must be.
DEV_KEYSTORE_PASSWORD = "anchor-development-only"  # noqa: S105 - public on purpose


class Settings(BaseSettings):
    """Every setting of the service; see docs/operations.md for each one."""

    model_config = SettingsConfigDict(env_prefix="ANCHOR_", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default=Path("data"), description="Directory of the SQLite file and locks"
    )
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<data_dir>/anchor.db"
    )
    idempotency_pepper_file: Path | None = Field(
        default=None,
        description="Private file (mode 0600) of random bytes that keys the stored hash of "
        "Idempotency-Keys; default for SQLite: beside the database; required for PostgreSQL",
    )

    rpc_urls: Annotated[list[str], NoDecode] = Field(
        default=["http://127.0.0.1:8545"],
        description="JSON-RPC URLs, tried in turn (comma separated)",
    )
    chain_id: int = Field(
        default=31337, gt=0, description="Expected chain id; refuse to start on another"
    )
    registry_address: str | None = Field(default=None, description="Address of the AnchorRegistry")
    poa: bool = Field(
        default=False, description="Inject ExtraDataToPOAMiddleware (Besu QBFT, Clique)"
    )
    rpc_timeout: float = Field(
        default=10.0, gt=0, description="Seconds before an RPC call times out"
    )
    public_rpc_urls: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="JSON-RPC URLs of the API's public reads and verifications; "
        "default ANCHOR_RPC_URLS",
    )
    trusted_registries: Annotated[list[TrustedRegistry], NoDecode] = Field(
        default=[],
        description="More registries verifications trust, ADDRESS[@CHAIN_ID][:FROM..TO] "
        "(comma separated); ANCHOR_REGISTRY_ADDRESS is always trusted",
    )
    registry_cache_ttl: float = Field(
        default=5.0, ge=0, description="Seconds a registry reading is reused by the API (0: off)"
    )
    watch_from_block: int | None = Field(
        default=None, ge=0, description="Block the watcher starts at the first time; default head"
    )

    fee_mode: Literal["zero", "eip1559"] = Field(
        default="eip1559", description="zero: free-gas network, gasPrice 0; eip1559: explicit fees"
    )
    max_fee_gwei: float = Field(default=100.0, ge=0, description="Cap on maxFeePerGas (EIP-1559)")
    priority_fee_gwei: float = Field(default=1.0, ge=0, description="Initial maxPriorityFeePerGas")
    gas_limit: int = Field(
        default=120_000, gt=21_000, description="Gas limit of an anchor transaction"
    )
    stuck_after: float = Field(
        default=60.0, gt=0, description="Seconds before a pending tx is bumped"
    )
    stall_blocks: int = Field(
        default=30, ge=1, description="Blocks without an anchored batch, work pending: stalled"
    )
    submit_mode: Literal["relay", "direct"] = Field(
        default="relay",
        description="relay: one relayer transaction carries the bodies' signed anchors; "
        "direct: each body's anchoring key sends its own",
    )
    relay_max_anchors: int = Field(
        default=50, ge=1, le=500, description="Signed anchors in one relayed transaction at most"
    )
    relay_gas_cap: int = Field(
        default=8_000_000,
        gt=21_000,
        description="Gas limit of a relayed transaction at most (its estimate plus 25%, capped)",
    )
    max_in_flight: int = Field(
        default=3,
        ge=1,
        le=16,
        description="Transactions of one signer waiting for inclusion at once at most; beyond "
        "the first, one goes out in each block's send window (1: one a block)",
    )
    send_lead: float = Field(
        default=0.5,
        gt=0,
        description="Seconds before the predicted next block at which its send window opens",
    )

    keystore_path: Path | None = Field(
        default=None, description="eth-account encrypted keystore of the relayer"
    )
    keystore_password: SecretStr | None = Field(default=None, description="Keystore password")
    keystore_password_file: Path | None = Field(
        default=None, description="File holding the password"
    )

    confirmations: int = Field(
        default=2, ge=0, description="Depth at which a batch is final (0: QBFT)"
    )
    max_batch_size: int = Field(
        default=10_000, ge=1, le=4_000_000, description="Close a batch at this size"
    )
    max_batch_age: float = Field(
        default=30.0, gt=0, description="Close a batch when its oldest is this old"
    )
    poll_interval: float = Field(default=1.0, gt=0, description="Seconds between worker iterations")

    public_base_url: str = Field(
        default="http://127.0.0.1:8000", description="Base URL of the public verification page"
    )

    doctypes_dir: Path | None = Field(
        default=None,
        description="Folder of the operator's own document types (<id>.v<version>.json), "
        "beside the shipped ones",
    )

    env: Literal["development", "production"] = Field(
        default="development",
        description="production: refuse settings only fit for development (an http:// page)",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis URL (redis://host:port/db) where API processes share rate limits",
    )
    internal_host: str = Field(
        default="127.0.0.1", min_length=1, description="Address of the internal HTTP port"
    )
    internal_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port of /metrics and the detailed /readyz (unset: not served)",
    )

    @field_validator("rpc_urls", "public_rpc_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: object) -> object:
        if isinstance(value, str):
            return [u.strip() for u in value.split(",") if u.strip()]
        return value

    @field_validator("trusted_registries", mode="before")
    @classmethod
    def _parse_trusted(cls, value: object) -> object:
        if isinstance(value, str) or (
            isinstance(value, list) and all(isinstance(v, str) for v in value)
        ):
            try:
                return parse_trusted_registries(value)
            except ConfigError as e:
                raise ValueError(str(e)) from e
        return value

    @field_validator("rpc_urls", "public_rpc_urls")
    @classmethod
    def _check_urls(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not value and info.field_name == "rpc_urls":
            raise ValueError("at least one RPC URL is needed")
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"RPC URL {url!r} must start with http:// or https://")
        return value

    @field_validator("registry_address")
    @classmethod
    def _check_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from eth_utils.address import is_address, to_checksum_address

        if not is_address(value):
            raise ValueError(f"{value!r} is not an Ethereum address")
        return str(to_checksum_address(value))

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"Redis URL {value!r} must start with redis://, rediss:// or unix://")
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env == "production" and not self.public_base_url.startswith("https://"):
            raise ValueError(
                f"ANCHOR_PUBLIC_BASE_URL {self.public_base_url!r} must start with https:// in "
                "production (ANCHOR_ENV=production): citizens open it from the QR codes"
            )
        return self

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        password = self.keystore_password
        if password is not None and password.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("ANCHOR_KEYSTORE_PASSWORD is a placeholder; set the real password")
        return self

    def idempotency_pepper(self) -> bytes | None:
        """The pepper of Idempotency-Keys from its file, or None when the setting is not made."""
        if self.idempotency_pepper_file is None:
            return None
        return read_private_bytes(self.idempotency_pepper_file, "idempotency pepper file")

    @property
    def verification_rpc_urls(self) -> list[str]:
        """The URLs of public reads and verifications: ANCHOR_PUBLIC_RPC_URLS, else the worker's."""
        return self.public_rpc_urls or self.rpc_urls

    def trust_list(self) -> tuple[TrustedRegistry, ...]:
        """The registries verifications trust: ANCHOR_REGISTRY_ADDRESS, then the listed ones.

        An entry without a chain id is on ``chain_id``; a listed entry for the configured
        address (with its own period) replaces the unbounded one.
        """
        listed = [
            e if e.chain_id is not None else TrustedRegistry(e.address, self.chain_id,
                                                             e.valid_from, e.valid_until)
            for e in self.trusted_registries
        ]  # fmt: skip
        current = self.registry_address.lower() if self.registry_address else None
        if current and not any(e.address == current for e in listed):
            listed.insert(0, TrustedRegistry(current, self.chain_id))
        return tuple(listed)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'anchor.db').resolve()}"

    def keystore_secret(self) -> str:
        """Return the keystore password, from the environment or from the password file."""
        if self.keystore_password is not None:
            return self.keystore_password.get_secret_value()
        if self.keystore_password_file is not None:
            secret = read_private_text(
                self.keystore_password_file, "keystore password file"
            ).rstrip("\n")
            if secret.strip().lower() in _PLACEHOLDERS:
                raise ConfigError("the keystore password file holds a placeholder, not a password")
            return secret
        raise ConfigError("set ANCHOR_KEYSTORE_PASSWORD or ANCHOR_KEYSTORE_PASSWORD_FILE")

    def body_keystore_secret(self) -> str:
        """The password of the bodies' keystores: the keystore password when one is set; on a
        development machine without one, `DEV_KEYSTORE_PASSWORD`."""
        if self.keystore_password is None and self.keystore_password_file is None:
            if self.env == "development":
                return DEV_KEYSTORE_PASSWORD
            raise ConfigError(
                "set ANCHOR_KEYSTORE_PASSWORD_FILE (or ANCHOR_KEYSTORE_PASSWORD): it encrypts "
                "the keystores of the bodies' keys"
            )
        return self.keystore_secret()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment and ``overrides``, or raise `ConfigError`."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as e:
        first = e.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        if not first["loc"]:  # a check across settings says itself what is wrong
            raise ConfigError(message) from e
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"invalid setting {where}: {message}") from e


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, built once from the environment."""
    return load_settings()
