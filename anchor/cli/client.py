"""`anchor submit`, `anchor proof`, `anchor qr`: an integrator's client of the HTTP API.

Documents are hashed locally (SHA-256, streamed); only digests travel. The API URL and key come
from ``--api-url`` or ``ANCHOR_API_URL``, and the key from ``ANCHOR_API_KEY`` or, with
``--api-key-stdin``, the first line of standard input: never from the command line, where any
user of the machine could read it in the process list.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

from anchor.cli.output import EXIT_NOT_YET, fail

ApiUrl = Annotated[
    str, typer.Option("--api-url", envvar="ANCHOR_API_URL", help="Base URL of the anchor API")
]
ApiKeyStdin = Annotated[
    bool,
    typer.Option(
        "--api-key-stdin",
        help="Read the API key from the first line of standard input instead of ANCHOR_API_KEY",
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON for machines")]

CHUNK = 1 << 20
MAX_PER_REQUEST = 1000


def _api_key(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().strip()
    return os.environ.get("ANCHOR_API_KEY", "").strip()


def _client(api_url: str, key_from_stdin: bool) -> httpx.Client:
    api_key = _api_key(key_from_stdin)
    if not api_key:
        raise fail(
            "no API key: set ANCHOR_API_KEY or pipe it with --api-key-stdin "
            "(see `anchor keys create`)"
        )
    return httpx.Client(
        base_url=api_url.rstrip("/"),
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=30,
    )


def _detail(detail: Any) -> str:
    """The API's error detail as one line: a 422's fields named (``facts.reference: ...``)."""
    if isinstance(detail, list):
        parts = []
        for error in detail:
            if not isinstance(error, dict):
                return str(detail)
            loc = [str(p) for p in error.get("loc", []) if p != "body"]
            parts.append(f"{'.'.join(loc) or 'body'}: {error.get('msg', '')}")
        return "; ".join(parts)
    return str(detail)


def _check(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            detail = _detail(response.json().get("detail", response.text))
        except ValueError:
            detail = response.text
        raise fail(f"the API answered {response.status_code}: {detail}")
    return response.json() if "json" in response.headers.get("content-type", "") else None


def _request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        return client.request(method, path, **kwargs)
    except httpx.HTTPError as e:
        raise fail(f"cannot reach the API at {client.base_url}: {e}") from e


def hash_files(files: list[Path]) -> list[str]:
    """SHA-256 of each file, streamed, with a progress bar on stderr."""
    total = 0
    for path in files:
        if not path.is_file():
            raise fail(f"{path} is not a readable file")
        total += path.stat().st_size
    digests = []
    columns = (TextColumn("hashing"), BarColumn(), TransferSpeedColumn())
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task("hash", total=total)
        for path in files:
            h = hashlib.sha256()
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    h.update(chunk)
                    progress.advance(task, len(chunk))
            digests.append(h.hexdigest())
    return digests


def _pairs(values: list[str] | None, option: str) -> dict[str, str]:
    """``name=value`` options as a dict; a value may hold ``=``; a name appears once."""
    out: dict[str, str] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise fail(
                f"{option} takes name=value (e.g. {option} reference=2026/0042), got {item!r}"
            )
        if name in out:
            raise fail(f"{option} {name} is given twice")
        out[name] = value
    return out


def _document_key(api_key: str, body: dict[str, Any]) -> str:
    """An Idempotency-Key of a document: HMAC-SHA256 under the API key of its content, so that
    the same command sent again returns the same receipt and the key reveals no fact."""
    content = json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
    return hmac.new(api_key.encode(), content, hashlib.sha256).hexdigest()[:32]


def _submit_typed(
    client: httpx.Client,
    doctype: str,
    files: list[Path],
    facts: dict[str, str],
    private: dict[str, str],
) -> list[dict[str, Any]]:
    if len(files) > 1:
        raise fail("--type takes one document at a time: give at most one FILE")
    body: dict[str, Any] = {"type": doctype, "facts": facts}
    if files:
        body["digest"] = hash_files(files)[0]
    if private:
        body["private"] = private
    key = _document_key(str(client.headers["Authorization"]), body)
    answer = _check(
        _request(client, "POST", "/v1/documents", json=body, headers={"Idempotency-Key": key})
    )
    return [
        {
            "file": str(files[0]) if files else None,
            "id": answer["id"],
            "digest": answer["digest"],
            "status": answer["status"],
            "type": answer["type"],
        }
    ]


def submit_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Documents to anchor (hashed locally); with --type, at most one"),
    ] = None,
    doctype: Annotated[
        str | None,
        typer.Option(
            "--type",
            help="Submit ONE typed document with its facts (`lu.building-permit`; the types: "
            "GET /v1/document-types); FILE is then optional unless the type requires it",
        ),
    ] = None,
    fact: Annotated[
        list[str] | None,
        typer.Option("--fact", help="A public fact of the typed document, name=value (repeat)"),
    ] = None,
    private: Annotated[
        list[str] | None,
        typer.Option(
            "--private",
            help="A private fact, name=value (repeat): committed, never shown or in the proof",
        ),
    ] = None,
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key_stdin: ApiKeyStdin = False,
    output: Annotated[Path | None, typer.Option(help="Save the receipts as JSON here")] = None,
    json_output: JsonFlag = False,
) -> None:
    """Hash documents locally and submit their digests; print one receipt per file.

    Only SHA-256 digests leave this machine. Each request carries an
    Idempotency-Key derived from its contents: the same command run again
    returns the same receipts.

    With --type, ONE typed document is submitted with its facts: the public
    facts (--fact) are certified and shown to whoever checks its QR code; the
    private ones (--private) are committed, never shown. FILE's SHA-256 is the
    document's file digest. Dates are YYYY-MM-DD. The types and their facts:
    GET /v1/document-types.

    Examples:

        ANCHOR_API_KEY=ak_... anchor submit permit-0042.pdf permit-0043.pdf \\
            --output receipts.json

        anchor submit --type lu.building-permit \\
            --fact reference=2026/0042 --fact decisionDate=2026-03-12 \\
            --fact "works=Construction d'une maison unifamiliale" \\
            --fact "address=6, rue de l'Étang, L-5326 Contern" \\
            --fact "parcel=Contern, section A, n° 123/4567" \\
            --fact validUntil=2027-03-12 \\
            --private "holder=Marie Schmit" permit-2026-0042.pdf
    """
    paths = files or []
    if doctype is None and (fact or private):
        raise fail("--fact and --private need --type (the document type they belong to)")
    if doctype is None and not paths:
        raise fail("give the documents to anchor, or --type with its --fact options")
    facts, hidden = _pairs(fact, "--fact"), _pairs(private, "--private")
    with _client(api_url, api_key_stdin) as client:
        if doctype is not None:
            rows = _submit_typed(client, doctype, paths, facts, hidden)
        else:
            rows = _submit_digests(client, paths)
    if output is not None:
        output.write_text(json.dumps(rows, indent=2) + "\n")
    if json_output:
        typer.echo(json.dumps(rows, indent=2))
    else:
        for row in rows:
            typer.echo(f"{row['id']}  {row['status']:<9}  {row['file'] or row['type']}")


def _submit_digests(client: httpx.Client, files: list[Path]) -> list[dict[str, Any]]:
    digests = hash_files(files)
    receipts: list[dict[str, Any]] = []
    for start in range(0, len(digests), MAX_PER_REQUEST):
        chunk = digests[start : start + MAX_PER_REQUEST]
        key = hashlib.sha256("".join(chunk).encode()).hexdigest()[:32]
        answer = _check(
            _request(
                client,
                "POST",
                "/v1/receipts",
                json={"digests": chunk},
                headers={"Idempotency-Key": key},
            )
        )
        receipts += answer["receipts"]
    return [
        {"file": str(path), "id": r["id"], "digest": r["digest"], "status": r["status"]}
        for path, r in zip(files, receipts, strict=True)
    ]


def proof_command(
    receipt_id: Annotated[str, typer.Argument(help="Receipt id printed by `anchor submit`")],
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key_stdin: ApiKeyStdin = False,
    output: Annotated[Path | None, typer.Option(help="Save the proof bundle here")] = None,
) -> None:
    """Print the proof bundle of an anchored receipt.

    Exit 3 while it is not anchored yet (ask again later), 1 when it failed (it never will).

    Example:

        anchor proof AaJCkUGALmh2E-SzLSqgzQ --output permit-0042.proof.json
        anchor verify permit-2026-0042.pdf --proof permit-0042.proof.json
    """
    with _client(api_url, api_key_stdin) as client:
        answer = _check(_request(client, "GET", f"/v1/receipts/{receipt_id}"))
    status = answer.get("status")
    if status == "failed":
        raise fail(
            f"receipt {receipt_id} failed: it will never get a proof (its batch failed for good); "
            "the operator can see why with `anchor batches list --state failed` and send it "
            "again with `anchor batches retry`"
        )
    if answer.get("proof") is None:
        typer.echo(f"receipt {receipt_id} is {status}: no proof yet, ask again later", err=True)
        raise typer.Exit(EXIT_NOT_YET)
    text = json.dumps(answer["proof"], indent=2) + "\n"
    if output is not None:
        output.write_text(text)
    else:
        typer.echo(text, nl=False)


def qr_command(
    receipt_id: Annotated[str, typer.Argument(help="Receipt id of an anchored document")],
    output: Annotated[Path, typer.Option(help="Where to write the image")] = Path("qr.png"),
    image_format: Annotated[str, typer.Option("--format", help="png or svg")] = "png",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key_stdin: ApiKeyStdin = False,
) -> None:
    """Save the QR code of an anchored receipt, to print on the document.

    Example:

        anchor qr AaJCkUGALmh2E-SzLSqgzQ --format svg --output permit-0042-qr.svg
    """
    if image_format not in ("png", "svg"):
        raise fail("--format must be png or svg")
    with _client(api_url, api_key_stdin) as client:
        response = _request(client, "GET", f"/v1/receipts/{receipt_id}/qr.{image_format}")
    if response.status_code >= 400:
        _check(response)
    output.write_bytes(response.content)
    typer.echo(f"wrote {output}")
