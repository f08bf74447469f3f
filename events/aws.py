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
        # Pre-signed S3 links must be SigV4: S3 refuses the SigV2 botocore may pick.
        signature_version="s3v4" if service == "s3" else None,
    )
    return boto3.client(service, config=config)
