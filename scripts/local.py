"""Commands behind `make run` and `make inbox` for the stack deployed on MiniStack.

python -m scripts.local setup            seed the catalogue, create the demo customer, print how to use it
python -m scripts.local info             print the API URL, a curl example and where the emails are
python -m scripts.local token [EMAIL]    print a fresh ID token
python -m scripts.local inbox [EMAIL] [--open]
                                         print the emails a customer received (EMAIL=all: everyone's),
                                         from the local Maildir; --open shows the newest in a browser
python -m scripts.local dlq              print how many messages wait in each DLQ
python -m scripts.local redrive [QUEUE]  move a DLQ's messages back to its queue
                                         (QUEUE: a consumer's queue as `make dlq` names it,
                                         e.g. billing or carrier-tracking; default all)
python -m scripts.local sweep            run the outbox sweeper now, on every entry
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from choreography.catalogue import CONSUMERS, Consumer
from choreography.samples import sample_order_request
from scripts.stack import DEMO_PASSWORD, Stack

DEMO_EMAIL = os.environ.get("DEMO_EMAIL", "customer@example.com")
DEMO_ADMIN = os.environ.get("DEMO_ADMIN", "admin@example.com")
MAILDIR_SHOWN = ".local/maildir"  # scripts.mailbox.MAILDIR, relative to the project


def _stack() -> Stack:
    return Stack.load(os.environ.get("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"))


def setup(stack: Stack) -> None:
    created = stack.seed_catalogue()
    stack.create_customer(DEMO_EMAIL)
    stack.create_customer(DEMO_ADMIN)
    stack.make_admin(DEMO_ADMIN)
    print(f"Catalogue seeded ({created} new products); demo customer {DEMO_EMAIL} / {DEMO_PASSWORD}")
    print(f"Demo admin (may change stock and prices): {DEMO_ADMIN} / {DEMO_PASSWORD}")
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

  Read the customer's emails (they arrive by SMTP in the Maildir {MAILDIR_SHOWN}):
    make inbox                                   (in the terminal; EMAIL=... for another customer)
    make inbox OPEN=1                            (the newest one, as HTML, in your browser)
    mutt -f {MAILDIR_SHOWN}                       (or any mail client that reads a Maildir)

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


def inbox(email: str, open_html: bool = False) -> int:
    from scripts.mailbox import MAILDIR, print_inbox, read_mailbox
    from scripts.mailbox import open_html as show

    if not (MAILDIR / "new").is_dir():
        print(f"No mailbox at {MAILDIR} yet: `make run` starts the mail server that fills it.")
        return 1
    mails = read_mailbox(MAILDIR, to=None if email == "all" else email)
    who = "anyone" if email == "all" else email
    if not open_html:
        print_inbox(mails, who)
        return 0
    if not mails:
        print(f"No email for {who} yet.")
        return 1
    show(mails[-1])
    return 0


def dead_letter_queues(consumers: tuple[Consumer, ...] = CONSUMERS) -> dict[str, str]:
    """`make redrive QUEUE=<name>` names -> DLQ logical ids, one per consumer of the catalogue."""
    return {consumer.redrive_name: consumer.dlq for consumer in consumers}


DLQS = dead_letter_queues()


def dlq(stack: Stack) -> None:
    sqs = stack.client("sqs")
    for name, logical_id in DLQS.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=stack.queue_url(logical_id), AttributeNames=["ApproximateNumberOfMessages"]
        )["Attributes"]
        print(f"{name:13} {logical_id:15} {attributes['ApproximateNumberOfMessages']} message(s)")
    failed = sqs.get_queue_attributes(
        QueueUrl=stack.queue_url("OutboxRelayFailedQueue"), AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]["ApproximateNumberOfMessages"]
    print(f"outbox relay gave up on {failed} stream batch(es) (OutboxRelayFailedQueue; `make sweep` publishes them)")


def sweep(stack: Stack) -> None:
    """The runbook's flush: the sweeper on every outbox entry, whatever its age."""
    function = stack.resources()["OrderOutboxSweepFunction"]
    response = stack.client("lambda").invoke(FunctionName=function, Payload=b'{"older_than_seconds": 0}')
    result = json.loads(response["Payload"].read())
    if "FunctionError" in response:
        raise SystemExit(f"the sweeper failed: {result}")
    print(f"republished {result['republished']} outbox entr(ies), {result['failed']} failed")


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
    parser.add_argument("command", choices=["setup", "info", "token", "inbox", "dlq", "redrive", "sweep"])
    parser.add_argument("argument", nargs="?", default="", help="EMAIL for token/inbox, QUEUE for redrive")
    parser.add_argument("--open", action="store_true", help="inbox: open the newest email's HTML part")
    args = parser.parse_args(argv)
    if args.command == "inbox":  # the mailbox is a folder: no stack needed
        return inbox(args.argument or DEMO_EMAIL, open_html=args.open)
    stack = _stack()
    if args.command == "setup":
        setup(stack)
    elif args.command == "info":
        info(stack)
    elif args.command == "token":
        print(stack.login(args.argument or DEMO_EMAIL)["IdToken"])
    elif args.command == "dlq":
        dlq(stack)
    elif args.command == "sweep":
        sweep(stack)
    else:
        redrive(stack, args.argument)
    return 0


if __name__ == "__main__":
    sys.exit(main())
