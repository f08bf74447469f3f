"""boto3 clients with timeouts and retries on every outbound call."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    """One client per service and process, created on first use (not at import)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 4, "mode": "standard"},
    )
    return boto3.client(service, config=config)
