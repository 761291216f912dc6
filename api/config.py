"""Settings of the HTTP layer only (prefix ``ANCHOR_API_``): body caps and the rate limits.

They live apart from `anchor.settings.Settings` because `anchor/` never knows about HTTP.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.ratelimit import parse_limit

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
    verify_limit: str = Field(
        default="30/minute", description="POST /v1/verify requests per client address (429 past)"
    )
    roots_limit: str = Field(
        default="120/minute", description="GET /v1/roots/… requests per client address"
    )
    failed_auth_limit: str = Field(
        default="20/minute",
        description="Failed authentications per client address before 429 (no database query)",
    )
    limit_key_prefix: str = Field(
        default="anchor-limits",
        min_length=1,
        description="Prefix of the rate-limit keys in Redis (ANCHOR_REDIS_URL)",
    )

    @field_validator("verify_limit", "roots_limit", "failed_auth_limit")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        parse_limit(value)
        return value
