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
from anchor.proof.bundle import BUNDLE_VERSION, MAX_PROOF_LENGTH, ProofBundle, hex_to_bytes

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


def encode_compact(bundle: ProofBundle) -> bytes:
    """Return the compact bytes of ``bundle``.

    Raises `ProofError` when the bundle's leaf or root does not follow from its salt, digest
    and proof, since the compact form could not carry them.
    """
    leaf = leaf_hash(bundle.salt_bytes, bundle.digest_bytes)
    if leaf != bundle.leaf_bytes:
        raise ProofError("cannot encode the bundle: its leaf does not follow from salt and digest")
    if fold_proof(leaf, bundle.proof_bytes) != bundle.root_bytes:
        raise ProofError("cannot encode the bundle: its proof does not fold the leaf to its root")
    name = bundle.issuer_name.encode("utf-8") if bundle.issuer_name else b""
    out = bytearray([MAGIC, FLAG_ISSUER_NAME if name else 0])
    out += _varint(bundle.chain_id)
    out += hex_to_bytes(bundle.registry) + hex_to_bytes(bundle.tx_hash)
    out += _varint(bundle.block_number)
    out += hex_to_bytes(bundle.issuer)
    out += _varint(bundle.anchored_at)
    out += bundle.digest_bytes + bundle.salt_bytes
    out.append(len(bundle.proof))
    for sibling in bundle.proof_bytes:
        out += sibling
    if name:
        out += _varint(len(name)) + name
    return bytes(out)


def decode_compact(data: bytes) -> ProofBundle:
    """Return the bundle encoded in ``data``, with its leaf and root recomputed.

    Raises `ProofError` on a bad magic byte, unknown flags, truncated or trailing bytes, a
    non-minimal varint, an over-long proof or an issuer name that is not UTF-8.
    """
    reader = _Reader(data)
    magic = reader.byte("magic byte")
    if magic != MAGIC:
        if magic >> 4 == 0xA:
            raise ProofError(
                f"compact proof version {magic & 0x0F} is not supported by this verifier; "
                f"it reads version {BUNDLE_VERSION}"
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
        digest=_hex(digest),
        salt=_hex(salt),
        leaf=_hex(leaf),
        proof=tuple(_hex(p) for p in proof),
        root=_hex(fold_proof(leaf, proof)),
        chain_id=chain_id,
        registry=_hex(registry),
        tx_hash=_hex(tx_hash),
        block_number=block_number,
        issuer=_hex(issuer),
        anchored_at=anchored_at,
        issuer_name=issuer_name,
    )


def to_text(bundle: ProofBundle) -> str:
    """Return the text form ``v1.<base64url of the compact bytes, no padding>``."""
    return _PREFIX + base64.urlsafe_b64encode(encode_compact(bundle)).rstrip(b"=").decode("ascii")


def from_text(text: str) -> ProofBundle:
    """Return the bundle of a text form made by `to_text`; raise `ProofError` if malformed."""
    text = text.strip()
    if not text.startswith(_PREFIX):
        if match := _OTHER_VERSION.match(text):
            raise ProofError(
                f"compact proof version {match.group(1)} is not supported by this verifier; "
                f"it reads version {BUNDLE_VERSION}"
            )
        raise ProofError(f"a compact proof starts with {_PREFIX!r}")
    body = text[len(_PREFIX) :]
    if not _B64URL.fullmatch(body) or len(body) % 4 == 1:
        raise ProofError("the compact proof is not valid base64url")
    data = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii") != body:
        raise ProofError("the compact proof is not canonical base64url (stray bits at the end)")
    return decode_compact(data)


def verification_url(bundle: ProofBundle, base_url: str) -> str:
    """Return ``<base_url>#v1.<payload>``: the page at ``base_url`` verifies the fragment."""
    if "#" in base_url:
        raise ValueError("the base URL must not have a fragment")
    return f"{base_url}#{to_text(bundle)}"


def parse_verification_url(url: str) -> ProofBundle:
    """Return the bundle carried in the fragment of a verification URL."""
    _, sep, fragment = url.strip().partition("#")
    if not sep or not fragment:
        raise ProofError("the verification URL has no #v1.… fragment carrying a proof")
    return from_text(fragment)


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _varint(value: int) -> bytes:
    """Unsigned LEB128."""
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class _Reader:
    """A cursor over the payload that names the field it could not read."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int, field: str) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise ProofError(f"compact proof is truncated: it ends inside {field}")
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def byte(self, field: str) -> int:
        return self.take(1, field)[0]

    def varint(self, field: str) -> int:
        value = shift = 0
        for _ in range(10):  # 10 x 7 bits cover a uint64
            b = self.byte(field)
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                if b == 0 and shift > 7:
                    raise ProofError(f"compact proof {field} is not a minimal varint")
                return value
        raise ProofError(f"compact proof {field} is longer than a 64-bit varint")

    def finish(self) -> None:
        extra = len(self.data) - self.pos
        if extra:
            raise ProofError(f"compact proof has {extra} trailing byte(s) after its last field")
