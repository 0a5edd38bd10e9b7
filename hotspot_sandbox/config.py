"""The sandbox's own settings, from environment variables and `.env` (the pipeline's are
`settings.py`; the sandbox reads none of them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from hotspot_sandbox import SANDBOX_PARTNER_KEY

CATALOGUE = Path(__file__).resolve().parent / "spots.json"


class SandboxSettings(BaseSettings):
    """Where the sandbox listens, the spots it knows and the partner key it accepts."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", hide_input_in_errors=True)

    host: str = Field(default="127.0.0.1", validation_alias="SANDBOX_HOST")
    port: int = Field(default=8765, validation_alias="SANDBOX_PORT")
    catalogue: Path = Field(default=CATALOGUE, validation_alias="SANDBOX_CATALOGUE")
    partner_key: SecretStr = Field(
        default=SecretStr(SANDBOX_PARTNER_KEY), validation_alias="HOTSPOT_PARTNER_KEY"
    )
