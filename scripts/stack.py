"""A client for a deployed stack: its outputs, its API, its customers, its inbox.

Used by `make run` (scripts/local.py) and by the end-to-end tests. It speaks only to
public interfaces: CloudFormation outputs, the REST API over HTTP, Cognito, and (on
MiniStack) the local mailbox SES delivers to over SMTP (scripts/mailbox.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from scripts.mailbox import ReceivedEmail, read_mailbox

STACK_NAME = os.environ.get("STACK_NAME", "order-choreography")
DEMO_PASSWORD = "Demo-Passw0rd"  # noqa: S105 - the local emulator's demo customer only

DEMO_CATALOGUE: list[dict[str, Any]] = [
    {"sku": "MUG-001", "name": "Coffee mug", "price_cents": 1299, "currency": "EUR", "stock": 100},
    {"sku": "TEE-001", "name": "T-shirt", "price_cents": 1999, "currency": "EUR", "stock": 100},
    {"sku": "CAP-001", "name": "Baseball cap", "price_cents": 1599, "currency": "EUR", "stock": 50},
    {"sku": "BAG-001", "name": "Tote bag", "price_cents": 899, "currency": "EUR", "stock": 200},
    {"sku": "LAMP-001", "name": "Desk lamp", "price_cents": 4999, "currency": "EUR", "stock": 3},
]


@dataclass
class HttpResponse:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return self.body


@dataclass
class Stack:
    outputs: dict[str, str]
    endpoint_url: str | None  # MiniStack's URL; None on AWS
    region: str
    name: str = STACK_NAME
    maildir: Path | None = None  # where the SMTP server MiniStack relays to files the mail

    @classmethod
    def load(cls, endpoint_url: str | None = None, stack_name: str = STACK_NAME, maildir: Path | None = None) -> Stack:
        endpoint_url = endpoint_url if endpoint_url is not None else os.environ.get("AWS_ENDPOINT_URL")
        region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
        cfn = boto3.client("cloudformation", endpoint_url=endpoint_url, region_name=region)
        stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
        outputs = {out["OutputKey"]: out["OutputValue"] for out in stack.get("Outputs", [])}
        return cls(outputs=outputs, endpoint_url=endpoint_url or None, region=region, name=stack_name, maildir=maildir)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.endpoint_url, region_name=self.region)

    @property
    def is_local(self) -> bool:
        return self.endpoint_url is not None

    @property
    def api_url(self) -> str:
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/_aws/execute-api/{self.outputs['ApiId']}/v1"
        return self.outputs["ApiUrl"]

    # ------------------------------------------------------------------ HTTP
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        raw_body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> HttpResponse:
        data: bytes | None
        if raw_body is not None:
            data = raw_body.encode() if isinstance(raw_body, str) else raw_body
        else:
            data = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if token:
            all_headers["Authorization"] = token
        request = urllib.request.Request(  # noqa: S310 - the URL is our own API
            self.api_url + path, data=data, method=method, headers=all_headers
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status, raw, response_headers = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, response_headers = error.code, error.read(), dict(error.headers)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return HttpResponse(status=status, body=parsed, headers=response_headers)

    # ------------------------------------------------------------------ setup
    def seed_catalogue(self, products: list[dict[str, Any]] = DEMO_CATALOGUE, reset: bool = False) -> int:
        """Put the demo products in the catalogue; existing stock is kept unless reset."""
        ddb = self.client("dynamodb")
        created = 0
        for product in products:
            item = {
                "sku": {"S": product["sku"]},
                "name": {"S": product["name"]},
                "price_cents": {"N": str(product["price_cents"])},
                "currency": {"S": product["currency"]},
                "stock": {"N": str(product["stock"])},
            }
            kwargs: dict[str, Any] = {} if reset else {"ConditionExpression": "attribute_not_exists(sku)"}
            try:
                ddb.put_item(TableName=self.outputs["ProductsTableName"], Item=item, **kwargs)
                created += 1
            except ddb.exceptions.ConditionalCheckFailedException:
                pass
        return created

    def create_customer(self, email: str, password: str = DEMO_PASSWORD) -> None:
        """A confirmed customer who can log in with email and password (idempotent)."""
        cognito = self.client("cognito-idp")
        pool = self.outputs["UserPoolId"]
        with contextlib.suppress(cognito.exceptions.UsernameExistsException):
            cognito.admin_create_user(
                UserPoolId=pool,
                Username=email,
                UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
                MessageAction="SUPPRESS",
            )
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)

    def make_admin(self, email: str) -> None:
        """Put a customer in the Cognito group `admin` (may set stock and prices)."""
        self.client("cognito-idp").admin_add_user_to_group(
            UserPoolId=self.outputs["UserPoolId"], Username=email, GroupName="admin"
        )

    def login(self, email: str, password: str = DEMO_PASSWORD) -> dict[str, str]:
        """Cognito USER_PASSWORD_AUTH: IdToken, AccessToken, RefreshToken."""
        result = self.client("cognito-idp").initiate_auth(
            ClientId=self.outputs["UserPoolClientId"],
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )["AuthenticationResult"]
        return {key: result[key] for key in ("IdToken", "AccessToken", "RefreshToken") if key in result}

    # ------------------------------------------------------------------ resources
    def resources(self) -> dict[str, str]:
        """Logical id -> physical id of every resource of the stack."""
        found = self.client("cloudformation").describe_stack_resources(StackName=self.name)["StackResources"]
        return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in found}

    def queue_url(self, logical_id: str) -> str:
        physical = self.resources()[logical_id]
        if physical.startswith("http"):
            return physical
        return str(self.client("sqs").get_queue_url(QueueName=physical)["QueueUrl"])

    def redrive(self, dlq: str) -> int:
        """Move every message of a DLQ (logical id, e.g. InvoiceDLQ) back to the queue
        it came from, keeping body and attributes. Returns how many were moved.

        Safe to run at any time: consumers are idempotent on the event id. (On AWS,
        `aws sqs start-message-move-task` does the same server-side.)"""
        sqs = self.client("sqs")
        source, target = self.queue_url(dlq), self.queue_url(dlq.removesuffix("DLQ") + "Queue")
        moved = 0
        while True:
            batch = sqs.receive_message(
                QueueUrl=source, MaxNumberOfMessages=10, MessageAttributeNames=["All"], VisibilityTimeout=60
            ).get("Messages", [])
            if not batch:
                return moved
            for message in batch:
                attributes = {
                    name: {key: value for key, value in attr.items() if key in ("DataType", "StringValue")}
                    for name, attr in message.get("MessageAttributes", {}).items()
                }
                sqs.send_message(QueueUrl=target, MessageBody=message["Body"], MessageAttributes=attributes)
                sqs.delete_message(QueueUrl=source, ReceiptHandle=message["ReceiptHandle"])
                moved += 1

    # ------------------------------------------------------------------ inbox
    def emails(self, to: str | None = None) -> list[ReceivedEmail]:
        """The emails that reached the local mailbox (to `to` only), oldest first, as MIME."""
        if self.maildir is None:
            raise RuntimeError("reading emails needs the local mailbox (on AWS, look in the recipient's mailbox)")
        return read_mailbox(self.maildir, to=to)

    def wait_for(self, check: Any, timeout: float = 60, interval: float = 0.5) -> Any:
        """Poll `check()` until it returns something truthy; the last value otherwise."""
        deadline = time.monotonic() + timeout
        value = check()
        while not value and time.monotonic() < deadline:
            time.sleep(interval)
            value = check()
        return value
