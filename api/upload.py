"""Hash an uploaded file as it streams in: SHA-256 in chunks, nothing kept in memory or on disk.

The request is ``multipart/form-data`` with one part named ``file``; other parts are ignored.
The body size cap of the route (413) is enforced by the framework while the stream is read.
"""

from __future__ import annotations

import hashlib

from fastapi import HTTPException, Request, status
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from anchor.types import Digest

FIELD = "file"
MAX_BOUNDARY = 70
"""Longest multipart boundary, in characters (RFC 2046, section 5.1.1)."""

OPENAPI_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "The document; only its SHA-256 is kept",
                        }
                    },
                    "required": [FIELD],
                }
            }
        },
    }
}


def _unprocessable(msg: str) -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": ["body", FIELD], "msg": msg, "type": "upload"}],
    )


class _FileHasher:
    """Parser callbacks that feed the ``file`` part into SHA-256."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.files = 0
        self._in_file = False
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._disposition = b""

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._in_file = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if bytes(self._header_name).lower() == b"content-disposition":
            self._disposition = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        if params.get(b"name") == FIELD.encode():
            self.files += 1
            if self.files > 1:
                raise _unprocessable("send exactly one part named 'file'")
            self._in_file = True

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.sha256.update(data[start:end])

    def on_part_end(self) -> None:
        self._in_file = False


async def hash_upload(request: Request) -> Digest:
    """Return the SHA-256 of the ``file`` part, streaming; 415/422 on a malformed upload."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail="send the file as multipart/form-data with a part named 'file'",
        )
    if len(boundary) > MAX_BOUNDARY:
        raise _unprocessable(f"the multipart boundary is longer than {MAX_BOUNDARY} characters")
    hasher = _FileHasher()
    callbacks = {
        "on_part_begin": hasher.on_part_begin,
        "on_header_field": hasher.on_header_field,
        "on_header_value": hasher.on_header_value,
        "on_header_end": hasher.on_header_end,
        "on_headers_finished": hasher.on_headers_finished,
        "on_part_data": hasher.on_part_data,
        "on_part_end": hasher.on_part_end,
    }
    try:
        parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
        async for chunk in request.stream():
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except FormParserError as e:
        raise _unprocessable(f"malformed multipart body: {e}") from e
    if hasher.files == 0:
        raise _unprocessable("no part named 'file' in the upload")
    return Digest(hasher.sha256.digest())
