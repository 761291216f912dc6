"""The self-contained proof bundle of one document, version 1 (pure: no I/O, no web3).

A bundle carries everything a verifier needs to check a document without the issuer's database:
the document's SHA-256 digest and salt, the leaf and its Merkle proof, the root, and where and
when the root was anchored (chain id, registry, transaction, block, issuer, time). Its JSON form
is described in ``docs/proof-format.md`` and by the JSON Schema
``anchor/schemas/proof-bundle-v1.schema.json``; the model and the schema accept the same
documents.

Hex values are normalised to lower case with a ``0x`` prefix. Every malformed input raises
`ProofError` with one sentence naming the field; a bundle of another version is refused with a
sentence saying which version this verifier reads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    StrictInt,
    StrictStr,
    ValidationError,
    field_serializer,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_camel

from anchor.errors import ProofError
from anchor.proof.statement import Statement

__all__ = [
    "BUNDLE_VERSION",
    "BUNDLE_VERSIONS",
    "MAX_FACT_LENGTH",
    "MAX_ISSUER_NAME",
    "MAX_PROOF_LENGTH",
    "ProofBundle",
    "ProofBundleV2",
    "hex_to_bytes",
    "parse_bundle",
]

#: Version 1: the leaf commits to the file digest alone.
BUNDLE_VERSION: Final = 1
#: Version 2: the leaf commits to a typed document's statement (`anchor.proof.statement`).
BUNDLE_VERSION_TYPED: Final = 2
#: The versions `parse_bundle` reads.
BUNDLE_VERSIONS: Final = (BUNDLE_VERSION, BUNDLE_VERSION_TYPED)
#: Longest fact value a bundle may carry, in characters (a type sets its own, lower, bound).
MAX_FACT_LENGTH = 1000
#: Most facts a bundle may carry (a type has at most 32 public facts).
MAX_FACTS = 32
_FACT_NAME = re.compile(r"[a-z][A-Za-z0-9]{0,31}")
#: A registry tree has at most 2**32 leaves (``leafCount`` is a uint32), so at most 32 levels.
MAX_PROOF_LENGTH = 32
#: Longest issuer display name, in characters.
MAX_ISSUER_NAME = 128
#: Largest integer the registry stores (uint64) for times, and a sane bound for ids and blocks.
MAX_UINT64 = 2**64 - 1

_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def _hex_checker(pattern: re.Pattern[str], what: str) -> Any:
    def check(value: object) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise ValueError(f"must be {what}, 0x-prefixed")
        return value.lower()

    return BeforeValidator(check)


Hex32 = Annotated[str, _hex_checker(_HEX32, "32 bytes as 64 hex digits")]
"""32 bytes as ``0x`` + 64 lower-case hex digits (upper case is accepted and lowered)."""
Address = Annotated[str, _hex_checker(_ADDRESS, "an address as 40 hex digits")]
"""An account address as ``0x`` + 40 lower-case hex digits (checksum case is accepted)."""
Uint64 = Annotated[StrictInt, Field(ge=0, le=MAX_UINT64)]


class ProofBundle(BaseModel):
    """A frozen, validated proof bundle, version 1. Build it with `parse_bundle` or by keywords.

    Python attributes are snake case (``chain_id``); the JSON names are camel case (``chainId``).
    Both are accepted when building; `to_json` writes the JSON names.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", alias_generator=to_camel, populate_by_name=True
    )
    #: The version this class reads; `ProofBundleV2` reads 2.
    VERSION: ClassVar[int] = BUNDLE_VERSION

    version: Literal[1]
    digest: Hex32
    salt: Hex32
    leaf: Hex32
    proof: tuple[Hex32, ...] = Field(max_length=MAX_PROOF_LENGTH)
    root: Hex32
    chain_id: Annotated[Uint64, Field(ge=1)]
    registry: Address
    tx_hash: Hex32
    block_number: Uint64
    issuer: Address
    anchored_at: Annotated[Uint64, Field(ge=1)]
    issuer_name: str | None = Field(default=None, min_length=1, max_length=MAX_ISSUER_NAME)
    """Read for compatibility, never trusted: verifiers show the registry's name. The service
    no longer writes it."""

    @model_serializer(mode="wrap")
    def _without_null_name(self, handler: SerializerFunctionWrapHandler) -> Any:
        """No ``issuerName: null`` in any dump (the API's too): the schema has a string or none."""
        data = handler(self)
        if isinstance(data, dict) and self.issuer_name is None:
            data.pop("issuerName", None)
            data.pop("issuer_name", None)
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _as_proof_error(cls, data: Any, handler: ModelWrapValidatorHandler[ProofBundle]) -> Any:
        """Refuse other versions by name, and turn validation errors into one `ProofError`."""
        if isinstance(data, dict):
            version = data.get("version")
            if "version" in data and type(version) is not int:
                raise ProofError(f"the proof bundle version must be the integer {cls.VERSION}")
            if version is not None and version != cls.VERSION:
                raise ProofError(_unsupported(version))
            if cls.VERSION == BUNDLE_VERSION_TYPED and "issuerName" in data:
                raise ProofError(
                    "the proof bundle has an unknown field issuerName: a version 2 bundle never "
                    "names its issuer, whose name comes from the registry"
                )
        try:
            return handler(data)
        except ValidationError as e:
            raise ProofError(_describe(e, cls.VERSION)) from e

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON object of the bundle (JSON names, no null ``issuerName``)."""
        data = self.model_dump(by_alias=True, exclude_none=True)
        data["proof"] = list(self.proof)
        return data

    def to_json(self, *, indent: int | None = 2) -> str:
        """Return the bundle as JSON text, fields in the documented order."""
        separators = (",", ": ") if indent is not None else (",", ":")
        return json.dumps(self.to_dict(), indent=indent, separators=separators, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ProofBundle:
        """Parse a bundle from JSON text; raise `ProofError` when it is malformed."""
        return parse_bundle(text)

    # Typed byte views, for the verifier and the compact encoding.
    @property
    def digest_bytes(self) -> bytes:
        """The document digest as 32 bytes."""
        return hex_to_bytes(self.digest)

    @property
    def salt_bytes(self) -> bytes:
        """The salt as 32 bytes."""
        return hex_to_bytes(self.salt)

    @property
    def leaf_bytes(self) -> bytes:
        """The leaf as 32 bytes."""
        return hex_to_bytes(self.leaf)

    @property
    def root_bytes(self) -> bytes:
        """The root as 32 bytes."""
        return hex_to_bytes(self.root)

    @property
    def proof_bytes(self) -> list[bytes]:
        """The proof as a list of 32-byte siblings, leaf side first."""
        return [hex_to_bytes(p) for p in self.proof]


class ProofBundleV2(ProofBundle):
    """A frozen, validated proof bundle of a typed document, version 2.

    Version 1's fields without ``issuerName`` (a name comes from the registry only), plus the
    document's type (``type``, ``typeVersion``), its public ``facts``, the SHA-256 of its
    ``file`` (optional) and the commitment to its ``private`` facts (optional). ``digest`` is
    the statement digest (`anchor.proof.statement`), not a file hash. A subclass of
    `ProofBundle`, so that every consumer of a bundle's anchoring fields reads both versions.
    """

    VERSION: ClassVar[int] = BUNDLE_VERSION_TYPED

    version: Literal[2]  # type: ignore[assignment]
    issuer_name: None = Field(default=None, exclude=True)
    type_id: str = Field(alias="type", pattern=r"^[a-z][a-z0-9]*(?:[.-][a-z0-9]+)*$", max_length=64)
    type_version: Annotated[StrictInt, Field(ge=1, le=65535)]
    facts: Mapping[str, StrictStr] = Field(max_length=MAX_FACTS)
    file: Hex32 | None = None
    private: Hex32 | None = None

    @field_validator("facts")
    @classmethod
    def _fact_names(cls, facts: Mapping[str, str]) -> Mapping[str, str]:
        for name, value in facts.items():
            if not _FACT_NAME.fullmatch(name):
                raise ValueError(f"the fact name {name!r} is not a name of the type's form")
            if len(value) > MAX_FACT_LENGTH:
                raise ValueError(f"the fact {name} is longer than {MAX_FACT_LENGTH} characters")
        return MappingProxyType(dict(facts))

    @field_serializer("facts")
    def _facts_as_dict(self, facts: Mapping[str, str]) -> dict[str, str]:
        return dict(facts)

    def statement(self) -> Statement:
        """The statement the bundle's type, file, facts and private commitment make."""
        return Statement(
            self.type_id,
            self.type_version,
            dict(self.facts),
            hex_to_bytes(self.file) if self.file else None,
            hex_to_bytes(self.private) if self.private else None,
        )


def hex_to_bytes(value: str) -> bytes:
    """Return the bytes of a ``0x``-prefixed hex string."""
    return bytes.fromhex(value[2:])


def parse_bundle(data: str | bytes | dict[str, Any]) -> ProofBundle:
    """Return the bundle in ``data`` (JSON text or an already decoded object).

    A version 2 bundle is a `ProofBundleV2`. Raises `ProofError` with one sentence when the
    JSON is malformed, a field is missing, unknown or malformed, or the version is not 1 or 2.
    """
    if isinstance(data, str | bytes):
        try:
            data = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ProofError(f"the proof bundle is not valid JSON: {e}") from e
    if not isinstance(data, dict):
        raise ProofError("the proof bundle must be a JSON object")
    if "version" not in data:
        raise ProofError(
            "the proof bundle has no version field; this verifier reads versions 1 and 2"
        )
    version = data["version"]
    if type(version) is int and version not in BUNDLE_VERSIONS:
        raise ProofError(_unsupported(version))
    if version == BUNDLE_VERSION_TYPED and type(version) is int:
        return ProofBundleV2.model_validate(data)
    return ProofBundle.model_validate(data)


def _unsupported(version: object) -> str:
    return (
        f"proof bundle version {version} is not supported by this verifier; "
        "it reads versions 1 and 2"
    )


def _describe(error: ValidationError, version: int) -> str:
    """One sentence for the first validation error, naming the field by its JSON name."""
    first = error.errors()[0]
    loc = [str(p) for p in first["loc"]]
    field = loc[0] if loc else "bundle"
    where = field + "".join(f"[{p}]" for p in loc[1:])
    kind = first["type"]
    if kind == "missing":
        return f"the proof bundle has no {where} field"
    if kind == "extra_forbidden":
        return f"the proof bundle has an unknown field {where}"
    if kind == "literal_error" and field == "version":
        return f"the proof bundle version must be the integer {version}"
    message = first["msg"].removeprefix("Value error, ")
    return f"the proof bundle field {where} is malformed: {message}"
