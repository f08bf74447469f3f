"""Security end to end: what a customer types is escaped in every email, and payment
tokens, addresses and emails never reach the functions' logs."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from scripts.stack import STACK_NAME
from tests.e2e.flows import EMAILS_DECLINED, EMAILS_DELIVERED, order_body, wait_emails, wait_final

XSS_NAME = "<script>alert(1)</script>"
ESCAPED_NAME = "&lt;script&gt;alert(1)&lt;/script&gt;"
SUCCESS_TOKEN = "tok_visa"  # the simulated provider's accepted token
DECLINED_TOKEN = "tok_chargeDeclined"
# Functions that never see an order which ships (the sweeper only sees what the relay
# failed to publish); every other function's logs must mention such an order, which
# proves these are the logs being read.
NOT_ON_THE_SHIPPED_PATH = {"OrderOutboxSweepFunction"}
NOT_ON_THE_DECLINED_PATH = {"ShipmentFunction", "DeliveryFunction", "OrderOutboxSweepFunction"}


def test_a_script_in_the_shipping_name_is_escaped_in_every_email(stack, customer, needs_inbox):
    body = order_body()
    body["shipping_address"]["name"] = XSS_NAME

    placed = customer.post_order(body)

    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    assert wait_final(customer, order_id)["status"] == "DELIVERED"
    emails = wait_emails(customer, order_id, EMAILS_DELIVERED)
    assert len(emails) == EMAILS_DELIVERED
    for email in emails:
        html = email.html
        assert ESCAPED_NAME in html, email.subject
        assert "<script" not in html.lower(), email.subject


# ------------------------------------------------------------------ logs
def _functions(stack) -> dict[str, str]:
    """The stack's functions: logical id -> deployed function name."""
    cfn = stack.client("cloudformation")
    found: dict[str, str] = {}
    kwargs: dict[str, Any] = {"StackName": STACK_NAME}
    while True:
        page = cfn.list_stack_resources(**kwargs)
        for res in page["StackResourceSummaries"]:
            if res["ResourceType"] == "AWS::Lambda::Function":
                found[res["LogicalResourceId"]] = res["PhysicalResourceId"]
        if not page.get("NextToken"):
            return found
        kwargs["NextToken"] = page["NextToken"]


def _log_messages(stack, function_name: str, since_ms: int) -> list[str]:
    """What the function wrote to CloudWatch Logs (/aws/lambda/<name>) since `since_ms`."""
    logs = stack.client("logs")
    messages: list[str] = []
    kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{function_name}", "startTime": since_ms}
    while True:
        try:
            page = logs.filter_log_events(**kwargs)
        except logs.exceptions.ResourceNotFoundException:
            return messages  # the function has not logged yet
        messages += [event["message"] for event in page.get("events", [])]
        if not page.get("nextToken") or page["nextToken"] == kwargs.get("nextToken"):
            return messages
        kwargs["nextToken"] = page["nextToken"]


def _distinct_address() -> dict[str, str]:
    tag = uuid.uuid4().hex[:12]
    return {
        "name": f"Ada Secretname{tag}",
        "line1": f"{tag} Secretline Row",
        "line2": f"Flat {tag}b",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }


def test_card_tokens_addresses_and_emails_never_reach_the_logs(stack, customer):
    since_ms = int(time.time() * 1000) - 5_000
    paid_address, declined_address = _distinct_address(), _distinct_address()

    paid = customer.post_order(order_body(shipping_address=paid_address, payment_token=SUCCESS_TOKEN))
    declined = customer.post_order(order_body(shipping_address=declined_address, payment_token=DECLINED_TOKEN))

    assert paid.status == 201, paid.body
    assert declined.status == 201, declined.body
    paid_id, declined_id = paid.body["order_id"], declined.body["order_id"]
    assert wait_final(customer, paid_id)["status"] == "DELIVERED"
    assert wait_final(customer, declined_id)["status"] == "PAYMENT_FAILED"
    if stack.is_local:
        wait_emails(customer, paid_id, EMAILS_DELIVERED)
        wait_emails(customer, declined_id, EMAILS_DECLINED)

    functions = _functions(stack)
    assert {"OrderApiFunction", "InvoiceFunction", "BillingFunction", "EmailFunction"} <= set(functions)
    should_mention = {
        paid_id: set(functions) - NOT_ON_THE_SHIPPED_PATH,
        declined_id: set(functions) - NOT_ON_THE_DECLINED_PATH,
    }

    def read_all() -> dict[str, str] | None:
        logs = {logical: "\n".join(_log_messages(stack, name, since_ms)) for logical, name in functions.items()}
        missing = [(o, f) for o, fns in should_mention.items() for f in fns if o not in logs[f]]
        return None if missing else logs

    # Logs land a little after the work they describe (on AWS, seconds after).
    logs = stack.wait_for(read_all, timeout=60, interval=1)
    if logs is None:
        logs = {logical: "\n".join(_log_messages(stack, name, since_ms)) for logical, name in functions.items()}
        missing = {f: [o for o, fns in should_mention.items() if f in fns and o not in logs[f]] for f in functions}
        pytest.fail(f"order ids never showed in these functions' logs, so they are not the logs read: {missing}")

    secrets = {
        "success token": SUCCESS_TOKEN,
        "declined token": DECLINED_TOKEN,
        "customer email": customer.email,
        **{f"paid order address {k}": v for k, v in paid_address.items() if k in ("name", "line1", "line2")},
        **{f"declined order address {k}": v for k, v in declined_address.items() if k in ("name", "line1", "line2")},
    }
    leaks = {
        f"{function}: {what}"
        for function, text in logs.items()
        for what, secret in secrets.items()
        if secret.lower() in text.lower()
    }
    assert not leaks, "found in the logs:\n" + "\n".join(sorted(leaks))
