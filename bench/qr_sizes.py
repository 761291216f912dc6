"""QR code sizes of verification URLs, for proofs from batches of 1,000 to 1,000,000 leaves.

Prints, for each proof length, with and without the optional issuer name: the compact payload
size, the URL length, the QR version needed at error correction M in byte mode (the published
form: base64url), and the module size when the symbol is printed 6 cm wide. The last column,
for comparison only, is the version an upper-case base32 URL would need in alphanumeric mode.
Run: ``.venv/bin/python bench/qr_sizes.py``.
"""

from __future__ import annotations

import base64
import hashlib

import qrcode
from qrcode.util import MODE_8BIT_BYTE, QRData

from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.proof.bundle import ProofBundle
from anchor.proof.compact import encode_compact, verification_url

BASE_URL = "https://verify.anchor.example.lu/verify"
PRINT_WIDTH_MM = 60.0
CASES = [(1_000, 10), (65_536, 16), (1_000_000, 20)]


def _h(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def sample_bundle(proof_length: int, issuer_name: str | None) -> ProofBundle:
    """A realistic bundle: production-sized chain id, block number and timestamp."""
    salt, digest = _h("salt"), _h("digest")
    proof = [_h(f"sibling {i}") for i in range(proof_length)]
    leaf = leaf_hash(salt, digest)
    return ProofBundle(
        version=1,
        digest="0x" + digest.hex(),
        salt="0x" + salt.hex(),
        leaf="0x" + leaf.hex(),
        proof=tuple("0x" + p.hex() for p in proof),
        root="0x" + fold_proof(leaf, proof).hex(),
        chain_id=24_601,
        registry="0x" + _h("registry")[:20].hex(),
        tx_hash="0x" + _h("tx").hex(),
        block_number=12_345_678,
        issuer="0x" + _h("issuer")[:20].hex(),
        anchored_at=1_772_534_460,
        issuer_name=issuer_name,
    )


def qr_version(text: str) -> int:
    """Smallest QR version holding ``text`` in byte mode at error correction M."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(QRData(text.encode("ascii"), mode=MODE_8BIT_BYTE))
    qr.make(fit=True)
    return int(qr.version)


def alphanumeric_version(bundle: ProofBundle) -> int:
    """For comparison only: an upper-case URL with a base32 payload, QR alphanumeric mode.

    ``#`` is not in the QR alphanumeric set, so the encoder mixes a byte-mode segment for the
    URL head with an alphanumeric segment for the payload.
    """
    payload = base64.b32encode(encode_compact(bundle)).decode("ascii").rstrip("=")
    url = BASE_URL.upper() + "#V1." + payload
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    qr.add_data(url, optimize=20)
    qr.make(fit=True)
    return int(qr.version)


def main() -> None:
    print(f"base URL: {BASE_URL}; QR error correction M, byte mode")
    print(f"module size: symbol (quiet zone excluded) printed {PRINT_WIDTH_MM:.0f} mm wide")
    print(
        f"{'leaves':>9} {'proof':>5} {'name':>4} {'bytes':>5} {'URL':>5} {'QR v':>4}"
        f" {'modules':>7} {'mm/module':>9} {'b32 alnum v':>11}"
    )
    for leaves, length in CASES:
        for name in ("Commune de Contern", None):
            bundle = sample_bundle(length, name)
            url = verification_url(bundle, BASE_URL)
            version = qr_version(url)
            modules = 17 + 4 * version
            size = len(encode_compact(bundle))
            print(
                f"{leaves:>9,} {length:>5} {'yes' if name else 'no':>4} {size:>5}"
                f" {len(url):>5} {version:>4} {modules:>7} {PRINT_WIDTH_MM / modules:>9.2f}"
                f" {alphanumeric_version(bundle):>11}"
            )


if __name__ == "__main__":
    main()
