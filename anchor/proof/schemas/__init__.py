"""JSON Schemas of the formats anchor publishes; load one with `load_schema`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

#: File name of the proof bundle schema, version 1.
PROOF_BUNDLE_V1 = "proof-bundle-v1.schema.json"
#: File name of the proof bundle schema, version 2 (a typed document).
PROOF_BUNDLE_V2 = "proof-bundle-v2.schema.json"


@lru_cache(maxsize=4)
def load_schema(name: str = PROOF_BUNDLE_V1) -> dict[str, Any]:
    """Return a schema shipped in this package, as a JSON object."""
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath(name).read_text("utf-8"))
    return data
