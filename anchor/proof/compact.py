"""The compact binary form of a proof bundle, for QR codes and verification URLs (pure).

The byte layout is documented field by field in ``docs/proof-format.md``. In short::

    magic 0xA1 | flags | chainId varint | registry 20 | txHash 32 | blockNumber varint
    | issuer 20 | anchoredAt varint | digest 32 | salt 32 | n (1 byte) | n x 32 proof
    | [issuerName: varint length + UTF-8, when flags bit 0 is set]

Integers are unsigned LEB128 varints in their shortest form. The leaf and the root are not
carried: they follow from salt, digest and proof, and `decode_compact` recomputes them. A
payload therefore cannot claim a leaf or root inconsistent with its own contents; a forged
salt, digest or proof shows up as a root the registry never anchored.

The text form is ``v1.`` + base64url without padding; a verification URL carries it in its
fragment (``https://verify.example/verify#v1.<payload>``), which browsers never send to the
server, so the page verifies locally and the issuer learns nothing.
"""

from __future__ import annotations

import base64
import re

from anchor.errors import ProofError
from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof._wire import Reader, hexed, varint
from anchor.proof.bundle import (
    BUNDLE_VERSION,
    BUNDLE_VERSIONS,
    MAX_PROOF_LENGTH,
    ProofBundle,
    ProofBundleV2,
    hex_to_bytes,
)
from anchor.proof.compact2 import (
    MAGIC_V2,
    PREFIX_V2,
    bytes_to_digits,
    decode_compact_v2,
    digits_to_bytes,
    encode_compact_v2,
)
from anchor.proof.doctypes import TypeRegistry, builtin_types

__all__ = [
    "MAGIC",
    "decode_compact",
    "encode_compact",
    "from_text",
    "parse_verification_url",
    "to_text",
    "verification_url",
]

#: First byte of every payload: high nibble 0xA ("anchor"), low nibble the format version.
MAGIC = 0xA0 | BUNDLE_VERSION
#: Flags bit 0: an issuer name follows the proof.
FLAG_ISSUER_NAME = 0x01
_KNOWN_FLAGS = FLAG_ISSUER_NAME
_PREFIX = f"v{BUNDLE_VERSION}."
_B64URL = re.compile(r"[A-Za-z0-9_-]*")
_OTHER_VERSION = re.compile(r"v(\d+)\.")


def encode_compact(bundle: ProofBundle, types: TypeRegistry | None = None) -> bytes:
    """Return the compact bytes of ``bundle`` (version 1, or 2 for a `ProofBundleV2`).

    ``types`` (default: the shipped types) must hold a version 2 bundle's type. Raises
    `ProofError` when the bundle's leaf or root does not follow from its salt, digest and
    proof (and for version 2 its facts), since the compact form could not carry them.
    """
    if isinstance(bundle, ProofBundleV2):
        doctype = (types or builtin_types()).get((bundle.type_id, bundle.type_version))
        if doctype is None:
            raise ProofError(
                f"cannot encode the bundle: its type {bundle.type_id} version "
                f"{bundle.type_version} is not known here"
            )
        return encode_compact_v2(bundle, doctype)
    leaf = leaf_hash(bundle.salt_bytes, bundle.digest_bytes)
    if leaf != bundle.leaf_bytes:
        raise ProofError("cannot encode the bundle: its leaf does not follow from salt and digest")
    if fold_proof(leaf, bundle.proof_bytes) != bundle.root_bytes:
        raise ProofError("cannot encode the bundle: its proof does not fold the leaf to its root")
    name = bundle.issuer_name.encode("utf-8") if bundle.issuer_name else b""
    out = bytearray([MAGIC, FLAG_ISSUER_NAME if name else 0])
    out += varint(bundle.chain_id)
    out += hex_to_bytes(bundle.registry) + hex_to_bytes(bundle.tx_hash)
    out += varint(bundle.block_number)
    out += hex_to_bytes(bundle.issuer)
    out += varint(bundle.anchored_at)
    out += bundle.digest_bytes + bundle.salt_bytes
    out.append(len(bundle.proof))
    for sibling in bundle.proof_bytes:
        out += sibling
    if name:
        out += varint(len(name)) + name
    return bytes(out)


def decode_compact(data: bytes, types: TypeRegistry | None = None) -> ProofBundle:
    """Return the bundle encoded in ``data``, with its leaf and root recomputed.

    A version 2 payload needs its type in ``types`` (default: the shipped types). Raises
    `ProofError` on a bad magic byte, unknown flags, truncated or trailing bytes, a
    non-minimal varint, an over-long proof or an issuer name that is not UTF-8.
    """
    if data[:1] == bytes([MAGIC_V2]):
        return decode_compact_v2(data, types or builtin_types())
    reader = Reader(data)
    magic = reader.byte("magic byte")
    if magic != MAGIC:
        if magic >> 4 == 0xA:
            raise ProofError(
                f"compact proof version {magic & 0x0F} is not supported by this verifier; "
                "it reads versions 1 and 2"
            )
        raise ProofError(
            f"not a compact proof: its first byte is 0x{magic:02x}, expected 0x{MAGIC:02x}"
        )
    flags = reader.byte("flags")
    if flags & ~_KNOWN_FLAGS:
        raise ProofError(f"compact proof has unknown flags 0x{flags:02x}")
    chain_id = reader.varint("chainId")
    registry = reader.take(20, "registry")
    tx_hash = reader.take(32, "txHash")
    block_number = reader.varint("blockNumber")
    issuer = reader.take(20, "issuer")
    anchored_at = reader.varint("anchoredAt")
    digest = reader.take(32, "digest")
    salt = reader.take(32, "salt")
    count = reader.byte("proof length")
    if count > MAX_PROOF_LENGTH:
        raise ProofError(f"compact proof has {count} proof elements; at most {MAX_PROOF_LENGTH}")
    proof = [reader.take(32, f"proof[{i}]") for i in range(count)]
    issuer_name = None
    if flags & FLAG_ISSUER_NAME:
        raw = reader.take(reader.varint("issuerName length"), "issuerName")
        try:
            issuer_name = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ProofError("compact proof issuerName is not valid UTF-8") from e
    reader.finish()
    leaf = leaf_hash(salt, digest)
    return ProofBundle(
        version=BUNDLE_VERSION,
        digest=hexed(digest),
        salt=hexed(salt),
        leaf=hexed(leaf),
        proof=tuple(hexed(p) for p in proof),
        root=hexed(fold_proof(leaf, proof)),
        chain_id=chain_id,
        registry=hexed(registry),
        tx_hash=hexed(tx_hash),
        block_number=block_number,
        issuer=hexed(issuer),
        anchored_at=anchored_at,
        issuer_name=issuer_name,
    )


def to_text(bundle: ProofBundle, types: TypeRegistry | None = None) -> str:
    """Return the text form: ``v1.<base64url, no padding>``, or ``v2.<decimal digits>``."""
    if isinstance(bundle, ProofBundleV2):
        return PREFIX_V2 + bytes_to_digits(encode_compact(bundle, types))
    return _PREFIX + base64.urlsafe_b64encode(encode_compact(bundle)).rstrip(b"=").decode("ascii")


def from_text(text: str, types: TypeRegistry | None = None) -> ProofBundle:
    """Return the bundle of a text form made by `to_text`; raise `ProofError` if malformed."""
    text = text.strip()
    if text.startswith(PREFIX_V2):
        data = digits_to_bytes(text[len(PREFIX_V2) :])
        if data[:1] != bytes([MAGIC_V2]):
            raise ProofError("a v2. compact proof must hold a version 2 payload")
        return decode_compact_v2(data, types or builtin_types())
    if not text.startswith(_PREFIX):
        if (match := _OTHER_VERSION.match(text)) and int(match.group(1)) not in BUNDLE_VERSIONS:
            raise ProofError(
                f"compact proof version {match.group(1)} is not supported by this verifier; "
                "it reads versions 1 and 2"
            )
        raise ProofError(f"a compact proof starts with {_PREFIX!r}")
    body = text[len(_PREFIX) :]
    if not _B64URL.fullmatch(body) or len(body) % 4 == 1:
        raise ProofError("the compact proof is not valid base64url")
    data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != body:
        raise ProofError("the compact proof is not canonical base64url (stray bits at the end)")
    if data[:1] == bytes([MAGIC_V2]):
        raise ProofError("a v1. compact proof must hold a version 1 payload")
    return decode_compact(data)


def verification_url(bundle: ProofBundle, base_url: str, types: TypeRegistry | None = None) -> str:
    """Return ``<base_url>#v1.<payload>`` (or ``#v2.<digits>``): the page there verifies it."""
    if "#" in base_url:
        raise ValueError("the base URL must not have a fragment")
    return f"{base_url}#{to_text(bundle, types)}"


def parse_verification_url(url: str, types: TypeRegistry | None = None) -> ProofBundle:
    """Return the bundle carried in the fragment of a verification URL."""
    _, sep, fragment = url.strip().partition("#")
    if not sep or not fragment:
        raise ProofError("the verification URL has no #v1.… or #v2.… fragment carrying a proof")
    return from_text(fragment, types)
