"""The services' clock: now, in UTC (standard library only; imported at cold start).

Domain functions take a `clock`/`now` argument that defaults to `utcnow`, so a test
passes a fixed time instead of patching this module.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC (the contract's timestamps are UTC)."""
    return datetime.now(UTC)
