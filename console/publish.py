"""Upload the web console to the stack's static site (`make deploy-console`).

Deploy the stack with HostConsole=true first (S3 bucket + CloudFront, outputs ConsoleUrl,
ConsoleBucketName, ConsoleDistributionId). This puts console/site/ in the bucket with a
config.json naming the stack's API and Cognito client, then asks CloudFront to drop its
cached copies. The API's CORS already allows the distribution's origin.

    python -m console.publish [--stack NAME]
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

from scripts.stack import STACK_NAME, Stack

SITE = Path(__file__).resolve().parent / "site"


def site_config(stack: Stack) -> dict[str, Any]:
    return {
        "apiUrl": stack.outputs["ApiUrl"],
        "cognitoUrl": f"https://cognito-idp.{stack.region}.amazonaws.com/",
        "clientId": stack.outputs["UserPoolClientId"],
        "region": stack.region,
        "mailbox": False,  # customers read their emails in their own mailbox
    }


def publish(stack: Stack) -> str:
    missing = [key for key in ("ConsoleBucketName", "ConsoleDistributionId", "ConsoleUrl") if key not in stack.outputs]
    if missing:
        raise SystemExit(f"stack {stack.name} has no {', '.join(missing)}: deploy it with HostConsole=true first")
    s3 = stack.client("s3")
    bucket = stack.outputs["ConsoleBucketName"]
    files = {path.relative_to(SITE).as_posix(): path.read_bytes() for path in sorted(SITE.rglob("*")) if path.is_file()}
    files["config.json"] = json.dumps(site_config(stack), indent=2).encode()
    for key, body in files.items():
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith(("javascript", "json")):
            content_type += "; charset=utf-8"
        # Small files that change together: browsers revalidate each time.
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type, CacheControl="no-cache")
        print(f"  s3://{bucket}/{key}")
    stack.client("cloudfront").create_invalidation(
        DistributionId=stack.outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": str(time.time())},
    )
    return stack.outputs["ConsoleUrl"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.publish", description=__doc__.split("\n")[0])
    parser.add_argument("--stack", default=STACK_NAME)
    args = parser.parse_args(argv)
    url = publish(Stack.load(stack_name=args.stack))
    print(f"The console is at {url} (CloudFront may take a minute to serve the new files).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
