"""QR code sizes of verification URLs: version 1 (a digest) and version 2 (a typed document).

For batches of 1, 1,024 and 65,536 documents (proofs of 0, 10 and 16 elements), prints the
compact payload size, the URL length, the QR version needed at error correction M and Q, and
the module size when the symbol (quiet zone excluded) is printed as wide as on the A4 poster.

* v1: ``#v1.`` + base64url, byte mode (no issuer name; with one, 19 bytes more);
* v2: the building permit of issue 10 (docs/proof-format.md, section 10), ``#v2.`` + decimal
  digits: a byte segment for the head, a numeric segment for the digits, as
  `anchor.proof.qr` renders it. Three variants: with the file digest and a private
  commitment (the worked example), with the file digest only, and with the facts alone.

Then, for the permit (file + private commitment) at each batch size and at M and Q, the QR
version and the printed module size on the poster's A4 and A3 pages, from the poster's own
layout (`anchor.poster.layout.qr_placement`: the symbol's real printed width on each page).
Last, for the 1,024-document permit at Q, the longest base URL that still fits version 25.
Run: ``.venv/bin/python bench/qr_sizes.py``.
"""

from __future__ import annotations

import hashlib

from anchor.merkle.hashing import fold_proof, leaf_hash
from anchor.poster.layout import QR_WIDTH_A4_MM, qr_placement
from anchor.proof.bundle import ProofBundle, ProofBundleV2
from anchor.proof.compact import encode_compact, verification_url
from anchor.proof.doctypes import builtin_types
from anchor.proof.qr import qr_version
from anchor.proof.statement import statement_for

BASE_URL = "https://verify.anchor.example.lu/verify"
#: The poster's printed width of the symbol on A4 (the layout's, not a typed-in figure).
PRINT_WIDTH_MM = QR_WIDTH_A4_MM
CASES = [(1, 0), (1_024, 10), (65_536, 16)]
FACTS = {
    "reference": "2026/0042",
    "decisionDate": "2026-03-12",
    "works": "Construction d'une maison unifamiliale avec garage",
    "address": "6, rue de l'Étang, L-5326 Contern",
    "parcel": "Contern, section A, n° 123/4567",
    "validUntil": "2027-03-12",
}
ANCHOR = {
    "chain_id": 24_601,
    "block_number": 12_345_678,
    "anchored_at": 1_772_534_460,
}


def _h(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _anchoring(salt: bytes, digest: bytes, proof_length: int) -> dict[str, object]:
    proof = [_h(f"sibling {i}") for i in range(proof_length)]
    leaf = leaf_hash(salt, digest)
    return {
        "digest": _hex(digest),
        "salt": _hex(salt),
        "leaf": _hex(leaf),
        "proof": tuple(_hex(p) for p in proof),
        "root": _hex(fold_proof(leaf, proof)),
        "registry": _hex(_h("registry")[:20]),
        "tx_hash": _hex(_h("tx")),
        "issuer": _hex(_h("issuer")[:20]),
        **ANCHOR,
    }


def v1_bundle(proof_length: int) -> ProofBundle:
    """A realistic version 1 bundle without issuer name."""
    return ProofBundle(version=1, **_anchoring(_h("salt"), _h("digest"), proof_length))  # type: ignore[arg-type]


def v2_bundle(proof_length: int, *, file: bool, private: bool) -> ProofBundleV2:
    """The building permit of issue 10 as a version 2 bundle."""
    permit = builtin_types().get_type("lu.building-permit")
    facts = permit.validate_facts(FACTS, {"holder": "Marie Schmit"} if private else {})
    statement = statement_for(
        permit, facts, file_digest=_h("file") if file else None, private_salt=_h("private salt")
    )
    fields = _anchoring(_h("salt"), statement.digest(), proof_length)
    return ProofBundleV2(
        version=2,
        type_id=permit.id,
        type_version=permit.version,
        facts=facts.public,
        file=_hex(statement.file) if statement.file else None,
        private=_hex(statement.private) if statement.private else None,
        **fields,  # type: ignore[arg-type]
    )


def _row(form: str, leaves: int, length: int, bundle: ProofBundle) -> str:
    url = verification_url(bundle, BASE_URL)
    size = len(encode_compact(bundle))
    m, q = qr_version(url, "M"), qr_version(url, "Q")
    modules = 17 + 4 * q
    return (
        f"| {form} | {leaves:,} | {length} | {size} | {len(url)} | {m} | {q} | {modules} |"
        f" {PRINT_WIDTH_MM / modules:.2f} |"
    )


def poster_rows() -> list[str]:
    """The permit's QR code on the poster, A4 and A3, at M and Q, per batch size."""
    rows = []
    for leaves, length in CASES:
        url = verification_url(v2_bundle(length, file=True, private=True), BASE_URL)
        for level in ("M", "Q"):
            a4, a3 = qr_placement(url, "A4", level), qr_placement(url, "A3", level)
            rows.append(
                f"| {leaves:,} | {length} | {level} | {a4.version} | {a4.modules} |"
                f" {a4.width_mm:.1f} | {a4.module_mm:.2f} |"
                f" {a3.width_mm:.1f} | {a3.module_mm:.2f} |"
            )
    return rows


def longest_base_url(bundle: ProofBundle, version: int = 25) -> int:
    """The longest ``https://…/verify`` base URL whose URL still fits ``version`` at Q."""
    length = len("https://x/verify")
    while True:
        host = "h" * (length - len("https:///verify") + 1)
        if qr_version(verification_url(bundle, f"https://{host}/verify"), "Q") > version:
            return length
        length += 1


def main() -> None:
    print(f"base URL: {BASE_URL}; qrcode 8.2; v2: byte segment + numeric segment")
    print(f"mm/module: the symbol at Q, quiet zone excluded, printed {PRINT_WIDTH_MM:.0f} mm wide")
    print()
    print("| form | leaves | proof | bytes | URL chars | QR v at M | QR v at Q | modules (Q) |"
          " mm/module (Q) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for leaves, length in CASES:
        print(_row("v1 digest", leaves, length, v1_bundle(length)))
        print(_row("v2 permit, file + private", leaves, length,
                   v2_bundle(length, file=True, private=True)))  # fmt: skip
        print(_row("v2 permit, file", leaves, length, v2_bundle(length, file=True, private=False)))
        print(_row("v2 permit, facts only", leaves, length,
                   v2_bundle(length, file=False, private=False)))  # fmt: skip
    print()
    print("poster (v2 permit, file + private): the symbol as anchor.poster prints it, quiet zone"
          " excluded")  # fmt: skip
    print("| leaves | proof | EC | QR v | modules | A4 mm | A4 mm/module | A3 mm |"
          " A3 mm/module |")  # fmt: skip
    print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for row in poster_rows():
        print(row)
    example = v2_bundle(10, file=True, private=True)
    print()
    print(
        "longest base URL for the 1,024-document permit (file + private) at Q in version 25:"
        f" {longest_base_url(example) - 1} characters (this one: {len(BASE_URL)})"
    )


if __name__ == "__main__":
    main()
