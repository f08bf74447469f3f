"""Pre-signed links to invoice documents in the invoice service's bucket."""

from __future__ import annotations

from typing import Any


class InvoiceLinks:
    def __init__(self, bucket: str, expires_in: int, client: Any = None) -> None:
        self.bucket = bucket
        self.expires_in = expires_in
        if client is None:
            from events.aws import client as make_client

            client = make_client("s3")
        self.client = client

    def link(self, key: str) -> str:
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=self.expires_in
            )
        )
