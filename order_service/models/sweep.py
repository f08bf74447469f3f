"""What the outbox sweeper is invoked with."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SweepRequest(BaseModel):
    """EventBridge's scheduled event (its fields are ignored: the configured age applies),
    or a manual invocation: {"older_than_seconds": 0} sweeps every entry now."""

    model_config = ConfigDict(extra="ignore")

    older_than_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
