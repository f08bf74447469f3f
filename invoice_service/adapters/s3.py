"""The invoice store on S3."""

from __future__ import annotations

from typing import Any


class S3InvoiceStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            from events.aws import client as make_client

            client = make_client("s3")
        self.client = client

    def put_html(self, key: str, html: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8",
        )
