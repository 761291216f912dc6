"""The compact form of a typed proof bundle (version 2) and its decimal text (pure).

Byte layout (``docs/proof-format.md``, section 8)::

    magic 0xA2 | flags | chainId varint | registry 20 | txHash 32 | blockNumber varint
    | issuer 20 | anchoredAt varint | type: varint length + ASCII | typeVersion varint
    | [file 32, flags bit 0] | [private 32, flags bit 1]
    | facts: one field per public fact of the type, in the type's order
    | salt 32 | n (1 byte) | n x 32 proof

A text fact is a varint byte length then UTF-8 (length 0: the fact is absent); a date fact is
a varint day number, 1 for 0001-01-01 (Python's ``date.toordinal``), 0 when absent. Neither
the digest, the leaf nor the root is carried: a decoder rebuilds the statement, then its
digest, the leaf and the root, so a payload cannot claim any of them.

The text form is ``v2.`` then the payload as decimal digits: each group of 22 bytes (a
big-endian integer) as 53 digits, zero-padded, and the last k < 22 bytes as the digits of
``256**k - 1`` (3, 5, 8, 10, 13, ...). QR numeric mode packs those at 8.03 bits a byte,
against 10.7 for base64url in byte mode.
"""

from __future__ import annotations

import datetime as dt
import re

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof
from anchor.proof._wire import Reader, hexed, varint
from anchor.proof.bundle import (
    BUNDLE_VERSION_TYPED,
    MAX_PROOF_LENGTH,
    ProofBundleV2,
    hex_to_bytes,
)
from anchor.proof.doctypes import DocumentType, TypeRegistry
from anchor.proof.statement import Statement

__all__ = [
    "MAGIC_V2",
    "PREFIX_V2",
    "bytes_to_digits",
    "decode_compact_v2",
    "digits_to_bytes",
    "encode_compact_v2",
]

#: First byte: high nibble 0xA ("anchor"), low nibble the format version (2).
MAGIC_V2 = 0xA0 | BUNDLE_VERSION_TYPED
#: The text form's prefix.
PREFIX_V2 = f"v{BUNDLE_VERSION_TYPED}."
FLAG_FILE = 0x01
FLAG_PRIVATE = 0x02
_KNOWN_FLAGS = FLAG_FILE | FLAG_PRIVATE
#: Bytes of a full decimal group, and the digits of a group of k bytes: len(str(256**k - 1)).
GROUP = 22
_DIGITS = [len(str(256**k - 1)) if k else 0 for k in range(GROUP + 1)]
_BYTES_OF_DIGITS = {d: k for k, d in enumerate(_DIGITS) if k}
_DECIMAL = re.compile(r"[0-9]*")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MAX_ORDINAL = dt.date.max.toordinal()


def encode_compact_v2(bundle: ProofBundleV2, doctype: DocumentType) -> bytes:
    """The compact bytes of a typed ``bundle`` whose type is ``doctype``.

    Raises `ProofError` when the bundle's facts do not fit its type (an unknown fact, a date
    that is not YYYY-MM-DD), or its digest, leaf or root does not follow from its contents.
    """
    if (doctype.id, doctype.version) != (bundle.type_id, bundle.type_version):
        raise ProofError("cannot encode the bundle: it is given another type than its own")
    statement = bundle.statement()
    if statement.digest() != bundle.digest_bytes:
        raise ProofError("cannot encode the bundle: its digest does not follow from its facts")
    leaf = statement.leaf(bundle.salt_bytes)
    if leaf != bundle.leaf_bytes:
        raise ProofError("cannot encode the bundle: its leaf does not follow from salt and digest")
    if fold_proof(leaf, bundle.proof_bytes) != bundle.root_bytes:
        raise ProofError("cannot encode the bundle: its proof does not fold the leaf to its root")
    unknown = set(bundle.facts) - {f.name for f in doctype.facts}
    if unknown:
        raise ProofError(f"cannot encode the bundle: {doctype.key} has no fact {min(unknown)}")
    flags = (FLAG_FILE if bundle.file else 0) | (FLAG_PRIVATE if bundle.private else 0)
    out = bytearray([MAGIC_V2, flags])
    out += varint(bundle.chain_id)
    out += hex_to_bytes(bundle.registry) + hex_to_bytes(bundle.tx_hash)
    out += varint(bundle.block_number)
    out += hex_to_bytes(bundle.issuer)
    out += varint(bundle.anchored_at)
    type_id = bundle.type_id.encode("ascii")
    out += varint(len(type_id)) + type_id + varint(bundle.type_version)
    if bundle.file:
        out += hex_to_bytes(bundle.file)
    if bundle.private:
        out += hex_to_bytes(bundle.private)
    for spec, value in doctype.ordered(bundle.facts):
        if value is None:
            out.append(0)
        elif spec.kind == "date":
            out += varint(_ordinal(value, spec.name))
        else:
            raw = value.encode("utf-8")
            out += varint(len(raw)) + raw
    out += bundle.salt_bytes
    out.append(len(bundle.proof))
    for sibling in bundle.proof_bytes:
        out += sibling
    return bytes(out)


def decode_compact_v2(data: bytes, types: TypeRegistry) -> ProofBundleV2:
    """The typed bundle in ``data``, its digest, leaf and root recomputed.

    ``types`` must hold the payload's type (its facts' names and order). Raises `ProofError`
    on a bad magic byte, unknown flags, an unknown type, truncated or trailing bytes, a
    non-minimal varint, an out-of-range date, text that is not UTF-8, an over-long proof.
    """
    r = Reader(data)
    magic = r.byte("magic byte")
    if magic != MAGIC_V2:
        raise ProofError(f"not a compact proof of version 2: its first byte is 0x{magic:02x}")
    flags = r.byte("flags")
    if flags & ~_KNOWN_FLAGS:
        raise ProofError(f"compact proof has unknown flags 0x{flags:02x}")
    chain_id = r.varint("chainId")
    registry = r.take(20, "registry")
    tx_hash = r.take(32, "txHash")
    block_number = r.varint("blockNumber")
    issuer = r.take(20, "issuer")
    anchored_at = r.varint("anchoredAt")
    raw_type = r.take(r.varint("type length"), "type")
    type_version = r.varint("typeVersion")
    try:
        type_id = raw_type.decode("ascii")
    except UnicodeDecodeError as e:
        raise ProofError("compact proof type is not ASCII") from e
    doctype = types.get((type_id, type_version))
    if doctype is None:
        raise ProofError(
            f"the proof is of document type {type_id!r} version {type_version}, "
            "which this verifier does not know"
        )
    file = r.take(32, "file") if flags & FLAG_FILE else None
    private = r.take(32, "private") if flags & FLAG_PRIVATE else None
    facts: dict[str, str] = {}
    for spec in doctype.facts:
        if spec.kind == "date":
            ordinal = r.varint(f"facts.{spec.name}")
            if ordinal:
                if ordinal > _MAX_ORDINAL:
                    raise ProofError(f"compact proof facts.{spec.name} is not a date")
                facts[spec.name] = dt.date.fromordinal(ordinal).isoformat()
        else:
            raw = r.take(r.varint(f"facts.{spec.name} length"), f"facts.{spec.name}")
            if raw:
                try:
                    facts[spec.name] = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise ProofError(f"compact proof facts.{spec.name} is not UTF-8") from e
    salt = r.take(32, "salt")
    count = r.byte("proof length")
    if count > MAX_PROOF_LENGTH:
        raise ProofError(f"compact proof has {count} proof elements; at most {MAX_PROOF_LENGTH}")
    proof = [r.take(32, f"proof[{i}]") for i in range(count)]
    r.finish()
    fields = {
        "version": BUNDLE_VERSION_TYPED,
        "type": type_id,
        "typeVersion": type_version,
        "facts": facts,
        "file": hexed(file) if file else None,
        "private": hexed(private) if private else None,
    }
    statement = Statement(type_id, type_version, facts, file, private)
    leaf = statement.leaf(salt)
    return ProofBundleV2.model_validate(
        {
            **fields,
            "digest": hexed(statement.digest()),
            "salt": hexed(salt),
            "leaf": hexed(leaf),
            "proof": [hexed(p) for p in proof],
            "root": hexed(fold_proof(leaf, proof)),
            "chainId": chain_id,
            "registry": hexed(registry),
            "txHash": hexed(tx_hash),
            "blockNumber": block_number,
            "issuer": hexed(issuer),
            "anchoredAt": anchored_at,
        }
    )


def bytes_to_digits(data: bytes) -> str:
    """Decimal digits of ``data``: each 22 bytes a 53-digit number, the rest as few as needed."""
    out = []
    for start in range(0, len(data), GROUP):
        chunk = data[start : start + GROUP]
        out.append(str(int.from_bytes(chunk, "big")).zfill(_DIGITS[len(chunk)]))
    return "".join(out)


def digits_to_bytes(text: str) -> bytes:
    """The bytes of `bytes_to_digits` output; `ProofError` unless it is exactly such output."""
    if not _DECIMAL.fullmatch(text):
        raise ProofError("the compact proof is not decimal digits")
    full, rest = divmod(len(text), _DIGITS[GROUP])
    if rest and rest not in _BYTES_OF_DIGITS:
        raise ProofError(f"the compact proof cannot have {len(text)} digits")
    out = bytearray()
    sizes = [GROUP] * full + ([_BYTES_OF_DIGITS[rest]] if rest else [])
    pos = 0
    for size in sizes:
        width = _DIGITS[size]
        value = int(text[pos : pos + width])
        pos += width
        if value >= 256**size:
            raise ProofError("the compact proof has a digit group out of range")
        out += value.to_bytes(size, "big")
    return bytes(out)


def _ordinal(value: str, name: str) -> int:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value).toordinal()
    except ValueError as e:
        raise ProofError(f"cannot encode the bundle: facts.{name} is not a YYYY-MM-DD date") from e
