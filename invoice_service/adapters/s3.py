"""The invoice store on S3: the documents, and pre-signed links to download them."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any


class S3InvoiceStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            from events.aws import client as make_client

            client = make_client("s3")
        self.client = client  # events.aws signs S3 links with SigV4 (S3 refuses SigV2 on new buckets)

    def put_html(self, key: str, html: str) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=html.encode("utf-8"),
            ContentType="text/html; charset=utf-8",
        )

    def put_pdf(self, key: str, pdf: bytes) -> None:
        self.client.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            # A browser following the link shows the invoice and saves it under its number.
            ContentDisposition=f'inline; filename="{PurePosixPath(key).name}"',
        )

    def download_link(self, key: str, expires_in: int) -> str:
        # Signed locally with the function's credentials: no call to S3, but the role
        # needs s3:GetObject on the key, or the link answers 403 AccessDenied.
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        )
