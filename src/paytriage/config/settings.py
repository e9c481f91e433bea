"""Typed settings in one place, read from the environment (``PAYTRIAGE_*``) and validated at start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "get_settings"]


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("paytriage", appauthor=False))


class Settings(BaseSettings):
    """``PAYTRIAGE_DATABASE_URL`` selects the database; the default is a SQLite file in the data dir."""

    model_config = SettingsConfigDict(env_prefix="PAYTRIAGE_", extra="ignore")

    environment: str = Field(default="dev", description="dev, test or prod")
    data_dir: Path = Field(default_factory=_default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    first_response_sla_hours: float = 4.0
    resolution_sla_hours: float = 72.0
    ingest_batch_size: int = 1000
    model_dir: Path | None = Field(
        default=None, description="A trained category model (paytriage model train)"
    )
    intents_dir: Path | None = Field(
        default=None,
        description="Intent groups saved by 'problems cluster --model' on past tickets: the default "
        "--intents of 'problems detect' on the stored queue",
    )
    triage_config_dir: Path | None = Field(default=None, description="Replacement taxonomy/routing/priority")
    notifications_config: Path | None = Field(default=None, description="Replacement notifications.yaml")
    # how much evidence makes a problem systemic: fewer false alarms for later detection (the trade-off
    # is measured by bench/detection.py; see docs/patterns.md)
    problem_min_customers: int = Field(default=3, ge=2, description="Customers a burst must reach")
    problem_alpha: float = Field(default=1e-6, gt=0, lt=1, description="p-value a burst must reach")

    @field_validator("environment")
    @classmethod
    def _known_environment(cls, v: str) -> str:
        if v not in {"dev", "test", "prod"}:
            raise ValueError("environment must be dev, test or prod")
        return v

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'paytriage.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
