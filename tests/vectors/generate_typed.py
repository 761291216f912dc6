"""Generate the golden vectors of typed documents, proof format version 2 (output committed).

    .venv/bin/python tests/vectors/generate_typed.py

Writes ``typed.json``: valid version 2 bundles (the worked example of docs/proof-format.md
first, from a batch of 1,024 documents), each with its canonical statement, statement digest,
compact text and the batch's values; and mutated negatives, each with the check that refuses
it. Deterministic: every salt and document follows from a fixed label, so a re-run writes the
same bytes. Read by tests/proof/test_typed_vectors.py (Python), tests/browser/test_statement.py
(the page's statement.js in Chromium) and the same test through @openzeppelin/merkle-tree.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any

from anchor.merkle import build_tree
from anchor.merkle.hashing import fold_proof, keccak256, leaf_hash
from anchor.proof.bundle import ProofBundleV2, parse_bundle
from anchor.proof.compact import encode_compact, to_text
from anchor.proof.doctypes import builtin_types
from anchor.proof.statement import private_commitment, statement_for

HERE = Path(__file__).resolve().parent
TYPES = builtin_types()

#: The example of issue 10 and docs/proof-format.md, section 10.
PERMIT_FACTS = {
    "reference": "2026/0042",
    "decisionDate": "2026-03-12",
    "works": "Construction d'une maison unifamiliale avec garage",
    "address": "6, rue de l'Étang, L-5326 Contern",
    "parcel": "Contern, section A, n° 123/4567",
    "validUntil": "2027-03-12",
}
PERMIT_PRIVATE = {"holder": "Marie Schmit"}
PERMIT_FILE = b"%PDF-1.7\nAutorisation de batir 2026/0042\n"
RESIDENCE_FACTS = {"reference": "RC-2026-118734", "issueDate": "2026-04-02"}
RESIDENCE_PRIVATE = {
    "surname": "Weber",
    "givenNames": "Jean Paul",
    "birthDate": "1984-11-23",
    "address": "12, rue Principale, L-5367 Schuttrange",
}
ANCHOR = {
    "chainId": 24601,
    "registry": "0x872491a30d60d598962de6e7b834ab76b2aa65fb",
    "txHash": "0x1b5b9ccb3e8d006a5230de9bda23ff91edc794d4f56410560830b418528e446c",
    "blockNumber": 12345678,
    "issuer": "0x535c6f8eb511f5d966a1b0725df92ebf27514fab",
    "anchoredAt": 1772534460,
}


def hx(data: bytes) -> str:
    return "0x" + data.hex()


def label(text: str) -> bytes:
    return keccak256(text.encode())


def flip(hex_value: str) -> str:
    data = bytearray(bytes.fromhex(hex_value[2:]))
    data[-1] ^= 1
    return hx(bytes(data))


def typed_case(
    name: str,
    type_id: str,
    facts: dict[str, str],
    private: dict[str, str],
    file: bytes | None,
    batch_size: int,
    index: int,
) -> dict[str, Any]:
    """One valid typed document at ``index`` of a batch of ``batch_size`` documents."""
    doctype = TYPES.get_type(type_id)
    valid = doctype.validate_facts(facts, private, file_given=file is not None)
    file_digest = hashlib.sha256(file).digest() if file is not None else None
    private_salt = label(f"private salt {name}")
    statement = statement_for(doctype, valid, file_digest=file_digest, private_salt=private_salt)
    salt = label(f"salt {name}")
    values = [(label(f"salt {name} {i}"), hashlib.sha256(f"{name} {i}".encode()).digest())
              for i in range(batch_size)]  # fmt: skip
    values[index] = (salt, statement.digest())
    tree = build_tree(values)
    bundle = ProofBundleV2.model_validate(
        {
            "version": 2,
            "digest": hx(statement.digest()),
            "salt": hx(salt),
            "leaf": hx(tree.leaf(index)),
            "proof": [hx(p) for p in tree.proof(index)],
            "root": hx(tree.root),
            **ANCHOR,
            "type": doctype.id,
            "typeVersion": doctype.version,
            "facts": valid.public,
            "file": hx(file_digest) if file_digest else None,
            "private": hx(statement.private) if statement.private else None,
        }
    )
    assert leaf_hash(salt, statement.digest()) == tree.leaf(index)
    compact = encode_compact(bundle)
    return {
        "desc": f"{name}: valid, index {index} of a batch of {batch_size}",
        "bundle": bundle.to_dict(),
        "issuer": {  # what the issuer keeps: never in a bundle
            "fileHex": file.hex() if file is not None else None,
            "privateFacts": valid.private,
            "privateSalt": hx(private_salt) if valid.private else None,
        },
        "privateCommitment": hx(private_commitment(private_salt, valid.private))
        if valid.private
        else None,
        "canonical": statement.canonical().decode("utf-8"),
        "statementDigest": hx(statement.digest()),
        "compactHex": compact.hex(),
        "text": to_text(bundle),
        "batch": [[hx(s), hx(d)] for s, d in values],
        "expected": {"statement": True, "leaf": True, "root": True, "verdict": "valid"},
    }


def check(bundle: dict[str, Any]) -> dict[str, bool]:
    """The offline checks, recomputed here, so that a wrong expectation fails at generation."""
    b = parse_bundle(bundle)
    assert isinstance(b, ProofBundleV2)
    statement = b.statement().digest() == b.digest_bytes
    leaf = leaf_hash(b.salt_bytes, b.digest_bytes) == b.leaf_bytes
    root = fold_proof(b.leaf_bytes, b.proof_bytes) == b.root_bytes
    return {"statement": statement, "leaf": leaf, "root": root}


def mutated(desc: str, base: dict[str, Any], *, refused_by: str, **change: Any) -> dict[str, Any]:
    """``base``'s bundle with ``change`` applied (None deletes a field)."""
    bundle = json.loads(json.dumps(base["bundle"]))
    for key, value in change.items():
        if value is None:
            bundle.pop(key, None)
        else:
            bundle[key] = value
    flags = check(bundle)
    expected = {**flags, "verdict": "invalid"}
    assert not flags[refused_by], desc
    assert all(flags[k] for k in ("statement", "leaf", "root") if k != refused_by), desc
    return {"desc": desc, "bundle": bundle, "refusedBy": refused_by, "expected": expected}


def parse_statement_digest(bundle: dict[str, Any]) -> bytes:
    b = parse_bundle(bundle)
    assert isinstance(b, ProofBundleV2)
    return b.statement().digest()


def mutated_vectors(permit: dict[str, Any], bare: dict[str, Any]) -> list[dict[str, Any]]:
    facts = permit["bundle"]["facts"]
    nfd = {**facts, "address": unicodedata.normalize("NFD", facts["address"])}
    assert nfd["address"] != facts["address"]
    forged = {**facts, "reference": "2026/0043"}
    forged_digest = parse_statement_digest({**permit["bundle"], "facts": forged})
    forged_leaf = leaf_hash(bytes.fromhex(permit["bundle"]["salt"][2:]), forged_digest)
    s = "statement"
    return [
        mutated("one character of a fact changed (2026/0042 to 2026/0043)", permit,
                refused_by=s, facts=forged),
        mutated("one character of a fact changed: an apostrophe made typographic", permit,
                refused_by=s, facts={**facts, "works": facts["works"].replace("'", "\u2019")}),
        mutated("a fact removed (validUntil)", permit, refused_by=s,
                facts={k: v for k, v in facts.items() if k != "validUntil"}),
        mutated("a fact added (a second date)", permit, refused_by=s,
                facts={**facts, "issueDate": "2026-03-13"}),
        mutated("a fact's value emptied", permit, refused_by=s, facts={**facts, "parcel": ""}),
        mutated("two facts swapped (the dates)", permit, refused_by=s,
                facts={**facts, "decisionDate": facts["validUntil"],
                       "validUntil": facts["decisionDate"]}),
        mutated("the address in NFD (decomposed É) instead of NFC", permit, refused_by=s,
                facts=nfd),
        mutated("the type changed (lu.residence-certificate)", permit, refused_by=s,
                type="lu.residence-certificate"),
        mutated("the type version changed (2)", permit, refused_by=s, typeVersion=2),
        mutated("the file digest changed (one bit)", permit, refused_by=s,
                file=flip(permit["bundle"]["file"])),
        mutated("the file digest removed", permit, refused_by=s, file=None),
        mutated("the private commitment changed (one bit)", permit, refused_by=s,
                private=flip(permit["bundle"]["private"])),
        mutated("the private commitment removed", permit, refused_by=s, private=None),
        mutated("a private commitment added to a document without one", bare,
                refused_by=s, private=hx(hashlib.sha256(b"a guess").digest())),
        mutated("a file digest added to a document without one", bare,
                refused_by=s, file=hx(hashlib.sha256(PERMIT_FILE).digest())),
        mutated("forged facts with the digest recomputed: the leaf no longer follows", permit,
                refused_by="leaf", facts=forged, digest=hx(forged_digest)),
        mutated("forged facts with digest and leaf recomputed: the proof misses the root",
                permit, refused_by="root", facts=forged, digest=hx(forged_digest),
                leaf=hx(forged_leaf)),
    ]  # fmt: skip


def main() -> None:
    permit = typed_case(
        "building permit", "lu.building-permit", PERMIT_FACTS, PERMIT_PRIVATE, PERMIT_FILE,
        1024, 42,
    )  # fmt: skip
    valid = [
        permit,
        typed_case("building permit without file nor private facts", "lu.building-permit",
                   {k: v for k, v in PERMIT_FACTS.items() if k != "validUntil"}, {}, None, 1, 0),
        typed_case("residence certificate", "lu.residence-certificate", RESIDENCE_FACTS,
                   RESIDENCE_PRIVATE, None, 7, 6),
        typed_case("facts with JSON escapes and astral characters", "lu.building-permit",
                   {**PERMIT_FACTS, "works": 'Réfection "toiture" \\ façade 𝄞 ✓',
                    "address": "1, Bd Royal, L-2449 Lëtzebuerg"}, {"holder": "Zoë Ünsal"},
                   PERMIT_FILE, 3, 1),
    ]  # fmt: skip
    vectors = {
        "desc": "Typed documents (proof format version 2): valid bundles and mutated negatives",
        "valid": valid,
        "mutated": mutated_vectors(permit, valid[1]),
    }
    text = json.dumps(vectors, indent=2, ensure_ascii=False) + "\n"
    (HERE / "typed.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
