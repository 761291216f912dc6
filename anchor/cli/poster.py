"""`anchor poster`: save the poster of an anchored typed document, through the HTTP API.

Like `anchor proof`, the API URL and key come from ``--api-url`` / ``ANCHOR_API_URL`` and
``ANCHOR_API_KEY`` or ``--api-key-stdin``; the PDF is ``GET /v1/receipts/{id}/poster.pdf``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from anchor.cli.client import ApiKeyStdin, ApiUrl, _check, _client, _request
from anchor.cli.output import fail

SIZES = ("A4", "A3")
LANGUAGES = ("fr", "de", "en")


def poster_command(
    receipt_id: Annotated[str, typer.Argument(help="Receipt id of an anchored typed document")],
    output: Annotated[Path, typer.Option(help="Where to write the PDF")],
    size: Annotated[str, typer.Option(help="Paper size, portrait: A4 or A3")] = "A4",
    lang: Annotated[str, typer.Option(help="Language of the poster: fr, de or en")] = "fr",
    api_url: ApiUrl = "http://127.0.0.1:8000",
    api_key_stdin: ApiKeyStdin = False,
) -> None:
    """Save the poster to print and post near the site: the document's facts, its legal
    notice and its QR code (12.4 cm wide on A4).

    Example:

        anchor poster AaJCkUGALmh2E-SzLSqgzQ --output permit-0042-poster.pdf --size A3 --lang de
    """
    size = size.upper()
    if size not in SIZES:
        raise fail("--size must be A4 or A3")
    if lang not in LANGUAGES:
        raise fail("--lang must be fr, de or en")
    with _client(api_url, api_key_stdin) as client:
        response = _request(
            client,
            "GET",
            f"/v1/receipts/{receipt_id}/poster.pdf",
            params={"size": size, "lang": lang},
        )
    if response.status_code >= 400:
        _check(response)
    output.write_bytes(response.content)
    typer.echo(f"wrote {output} ({size}, {lang})")
