"""``anchor tree``: build and check OpenZeppelin ``standard-v1`` Merkle tree dumps, for auditors.

Both commands read files and print JSON or one-line verdicts; every bad input ends with a
one-sentence reason and exit status 1, never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from anchor.cli.output import fail
from anchor.errors import ProofError
from anchor.merkle import MerkleTree, Pair, build_tree, load_dump

app = typer.Typer(
    help="Build and check the Merkle trees of anchored batches (OpenZeppelin standard-v1 format).",
    no_args_is_help=True,
    add_completion=False,
)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise fail(f"cannot read {path}: {e.strerror or e}.") from e
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise fail(f"{path} is not valid JSON ({e}).") from e


def _parse_pairs(data: Any) -> list[Pair]:
    if not isinstance(data, list) or not data:
        raise ProofError("the input must be a non-empty JSON list of [salt, digest] pairs")
    pairs: list[Pair] = []
    for i, item in enumerate(data):
        if not isinstance(item, list) or len(item) != 2:
            raise ProofError(f"item {i} is not a [salt, digest] pair")
        salt, digest = (
            _hex32(x, f"item {i} {what}") for x, what in zip(item, ("salt", "digest"), strict=True)
        )
        pairs.append((salt, digest))
    return pairs


def _hex32(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not text.startswith(("0x", "0X")) or len(text) != 66:
        raise ProofError(f"{what} is not a 0x-prefixed 32-byte hex string")
    try:
        return bytes.fromhex(text[2:])
    except ValueError as e:
        raise ProofError(f"{what} is not valid hex") from e


@app.command()
def build(
    pairs_file: Annotated[
        Path,
        typer.Argument(metavar="PAIRS.json", help="JSON list of \\[salt, digest] 0x-hex pairs."),
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the dump to FILE, not stdout.")
    ] = None,
) -> None:
    """Build the tree of PAIRS.json and print its standard-v1 dump.

    Example: anchor tree build pairs.json --output dump.json
    """
    try:
        tree = build_tree(_parse_pairs(_read_json(pairs_file)))
    except ProofError as e:
        raise fail(f"{e}.") from e
    text = json.dumps(tree.dump(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise fail(f"cannot write {output}: {e.strerror or e}.") from e
    typer.echo(f"root 0x{tree.root.hex()} ({tree.leaf_count} leaves) written to {output}", err=True)


@app.command()
def verify(
    dump_file: Annotated[
        Path,
        typer.Argument(metavar="DUMP.json", help="A standard-v1 dump (ours or OpenZeppelin's)."),
    ],
) -> None:
    """Check that DUMP.json is internally consistent: exit 0 if so, 1 with the reason if not.

    Every value must hash to its leaf and every inner node to the hash of its children.

    Example: anchor tree verify dump.json
    """
    try:
        tree: MerkleTree = load_dump(_read_json(dump_file))
    except ProofError as e:
        raise fail(f"inconsistent dump: {e}.") from e
    typer.echo(f"ok: root 0x{tree.root.hex()}, {tree.leaf_count} leaves, every proof verifies")
