"""Commands behind `make run` and `make inbox` for the stack deployed on MiniStack.

python -m scripts.local setup            seed the catalogue, create the demo customer, print how to use it
python -m scripts.local info             print the API URL, a curl example and where the emails are
python -m scripts.local token [EMAIL]    print a fresh ID token
python -m scripts.local inbox [EMAIL]    print the emails a customer received
python -m scripts.local dlq              print how many messages wait in each DLQ
python -m scripts.local redrive [QUEUE]  move a DLQ's messages back to its queue
                                         (QUEUE: invoice, billing, shipment, email, order-status,
                                         carrier-tracking; default all)
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from datetime import UTC, datetime

from events.samples import sample_order_request
from scripts.stack import DEMO_PASSWORD, Stack

DEMO_EMAIL = os.environ.get("DEMO_EMAIL", "customer@example.com")


def _stack() -> Stack:
    return Stack.load(os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))


def setup(stack: Stack) -> None:
    created = stack.seed_catalogue()
    stack.create_customer(DEMO_EMAIL)
    print(f"Catalogue seeded ({created} new products); demo customer {DEMO_EMAIL} / {DEMO_PASSWORD}")
    info(stack)


def info(stack: Stack) -> None:
    token = stack.login(DEMO_EMAIL)["IdToken"]
    body = sample_order_request(("MUG-001", 2), ("TEE-001", 1))
    api = stack.api_url
    client = stack.outputs["UserPoolClientId"]
    you = {"ClientId": client, "Username": "you@example.com"}
    sign_up = {**you, "Password": "Sup3rSecret!", "UserAttributes": [{"Name": "email", "Value": "you@example.com"}]}
    confirm = {**you, "ConfirmationCode": "123456"}
    log_in = {
        "ClientId": client,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": "you@example.com", "PASSWORD": "Sup3rSecret!"},
    }
    print(f"""
The order system is running on MiniStack ({stack.endpoint_url}).

  API base URL   {api}
  Catalogue      curl -s {api}/products

  An ID token for {DEMO_EMAIL} (valid one hour; `make token` prints a fresh one):
    export TOKEN={token}

  Place an order:
    curl -s -X POST {api}/orders -H "Authorization: $TOKEN" -H 'Content-Type: application/json' \\
      -d {shlex.quote(json.dumps(body))}

  Follow it (CREATED -> INVOICED -> PAID -> SHIPPED -> DELIVERED within seconds):
    curl -s {api}/orders/ORDER_ID -H "Authorization: $TOKEN"

  Read the customer's emails:
    make inbox                                   (in the terminal)
    curl -s {stack.endpoint_url}/_ministack/ses/messages   (every email SES sent, as JSON)

  More: GET {api}/orders (your orders), POST {api}/orders/ORDER_ID/cancel (cancel),
  GET {api}/orders/ORDER_ID/payment, GET {api}/orders/ORDER_ID/invoice (PDF link).
  Try a declined card with "payment_token": "tok_chargeDeclined", an undeliverable
  address with "postal_code": "00000".

  A new account, with plain HTTP (the confirmation code arrives in `make inbox EMAIL=you@example.com`):
    T=X-Amz-Target:AWSCognitoIdentityProviderService; H='Content-Type: application/x-amz-json-1.1'
    curl -s {stack.endpoint_url}/ -H "$H" -H "$T.SignUp" -d {shlex.quote(json.dumps(sign_up))}
    curl -s {stack.endpoint_url}/ -H "$H" -H "$T.ConfirmSignUp" -d {shlex.quote(json.dumps(confirm))}
    curl -s {stack.endpoint_url}/ -H "$H" -H "$T.InitiateAuth" -d {shlex.quote(json.dumps(log_in))}

  Stop everything with `make stop`.
""")


def _when(timestamp: object) -> str:
    try:
        return datetime.fromtimestamp(float(str(timestamp)), tz=UTC).isoformat(timespec="seconds")
    except ValueError:
        return str(timestamp)


def inbox(stack: Stack, email: str) -> None:
    messages = stack.sent_emails(to=email)
    if not messages:
        print(f"No email for {email} yet.")
    for message in messages:
        print("=" * 78)
        print(f"Date:    {_when(message.get('Timestamp'))}")
        print(f"From:    {message.get('Source')}")
        print(f"To:      {', '.join(message.get('To') or [])}")
        print(f"Subject: {message.get('Subject')}")
        print("-" * 78)
        print((message.get("BodyText") or "").strip())
    print("=" * 78 if messages else "", end="\n" if messages else "")
    print(f"{len(messages)} email(s) for {email}.")


DLQS = {
    "invoice": "InvoiceDLQ",
    "billing": "BillingDLQ",
    "shipment": "ShipmentDLQ",
    "email": "EmailDLQ",
    "order-status": "OrderStatusDLQ",
    "carrier-tracking": "CarrierTrackingDLQ",
}


def dlq(stack: Stack) -> None:
    sqs = stack.client("sqs")
    for name, logical_id in DLQS.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.queue_url(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        print(f"{name:13} {logical_id:15} {attributes['ApproximateNumberOfMessages']} message(s)")


def redrive(stack: Stack, queue: str) -> None:
    names = list(DLQS) if queue in ("", "all") else [queue]
    unknown = [name for name in names if name not in DLQS]
    if unknown:
        raise SystemExit(f"unknown queue {unknown[0]!r}; one of: {', '.join(DLQS)}, all")
    for name in names:
        moved = stack.redrive(DLQS[name])
        print(f"{name:13} moved {moved} message(s) from {DLQS[name]} back to its queue")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.local", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("command", choices=["setup", "info", "token", "inbox", "dlq", "redrive"])
    parser.add_argument("argument", nargs="?", default="", help="EMAIL for token/inbox, QUEUE for redrive")
    args = parser.parse_args(argv)
    stack = _stack()
    if args.command == "setup":
        setup(stack)
    elif args.command == "info":
        info(stack)
    elif args.command == "token":
        print(stack.login(args.argument or DEMO_EMAIL)["IdToken"])
    elif args.command == "inbox":
        inbox(stack, args.argument or DEMO_EMAIL)
    elif args.command == "dlq":
        dlq(stack)
    else:
        redrive(stack, args.argument)
    return 0


if __name__ == "__main__":
    sys.exit(main())
