"""Settings of the HTTP layer only (prefix ``ANCHOR_API_``): body caps and the rate limit.

They live apart from `anchor.settings.Settings` because `anchor/` never knows about HTTP.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MiB = 1024 * 1024


class ApiSettings(BaseSettings):
    """Limits of the HTTP API; every value can be set from the environment."""

    model_config = SettingsConfigDict(env_prefix="ANCHOR_API_", extra="forbid", frozen=True)

    max_json_bytes: int = Field(
        default=2 * MiB, ge=1024, description="Largest JSON request body, in bytes (else 413)"
    )
    max_upload_bytes: int = Field(
        default=100 * MiB, ge=1, description="Largest file upload request, in bytes (else 413)"
    )
    rate_per_second: float = Field(
        default=20.0, gt=0, description="Requests per second allowed to one API key, sustained"
    )
    rate_burst: int = Field(
        default=100, ge=1, description="Requests one API key may send at once before 429"
    )
