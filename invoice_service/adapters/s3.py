"""The invoice store on S3: the documents, and pre-signed links to download them."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

_SIGV4_PRESIGN = "invoice-service-presign-sigv4"


def _presign_with_sigv4(signature_version: str, **_: Any) -> str | None:
    """Sign download links with SigV4 (`X-Amz-Expires`, up to 7 days).

    A client without an explicit signature_version (as events.aws makes them) presigns
    S3 URLs with the legacy SigV2 in the older regions, us-east-1 among them; S3 refuses
    SigV2 for buckets created since mid-2020. Anything but a query-string presign, and
    the asymmetric SigV4a, keeps botocore's own choice (None: ask the next handler).
    """
    if signature_version in ("v4-query", "s3v4-query"):
        return "s3v4-query"
    return None


class S3InvoiceStore:
    def __init__(self, bucket: str, client: Any = None) -> None:
        self.bucket = bucket
        if client is None:
            from events.aws import client as make_client

            client = make_client("s3")
        self.client = client
        # More specific than botocore's own choose-signer.s3 handler, so asked first;
        # registered once per client however many stores share it.
        client.meta.events.register("choose-signer.s3.GetObject", _presign_with_sigv4, unique_id=_SIGV4_PRESIGN)

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
