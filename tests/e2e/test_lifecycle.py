"""The whole order lifecycle on the deployed stack: my orders, cancel (before and
after payment, after shipment, twice, racing the payment), refund on a failed
shipment, delivery, payment status, invoice documents and stock administration."""

from __future__ import annotations

import io
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.e2e.conftest import Customer
from tests.e2e.flows import (
    EMAILS_DELIVERED,
    emails_for,
    new_product,
    order_body,
    stock_of,
    wait_emails,
    wait_final,
)
from tests.e2e.infra import function_env, payment_parked_in_the_shipment_dlq, settle, visibility_timeout

pytestmark = pytest.mark.usefixtures("needs_inbox")


def _cancel(customer, order_id):
    return customer.stack.request("POST", f"/orders/{order_id}/cancel", token=customer.token)


def _payment(customer, order_id):
    response = customer.stack.request("GET", f"/orders/{order_id}/payment", token=customer.token)
    assert response.status == 200, response.body
    return response.body


def _status(customer, order_id):
    return customer.get_order(order_id).body["status"]


def _types(customer, order_id):
    return [e["event_type"] for e in customer.get_order(order_id).body["timeline"]]


def test_my_orders_are_listed_newest_first_across_pages(stack, customer, other_customer):
    sku = new_product(stack, stock=20)
    mine = [customer.post_order(order_body(sku, quantity=1)).body["order_id"] for _ in range(5)]
    other_customer.post_order(order_body(sku, quantity=1))

    seen, cursor, pages = [], None, 0
    while True:
        path = "/orders?limit=2" + (f"&next={cursor}" if cursor else "")
        page = stack.request("GET", path, token=customer.token)
        assert page.status == 200, page.body
        seen += [order["order_id"] for order in page.body["orders"]]
        pages += 1
        cursor = page.body["next"]
        if not cursor:
            break

    assert seen == list(reversed(mine))
    assert pages == 3


def test_cancel_before_payment_never_charges_and_releases_the_stock(stack, customer):
    sku = new_product(stack, stock=5)
    # Hold the chain back before billing: the invoice cannot be stored for now. (The
    # fault switch would not do: a charge that times out may have been taken.) Retries
    # 4 s apart: restoring the function recycles its worker, which may leave the last
    # attempt's idempotency record in progress for up to the function's 10 s timeout, and
    # 5 quicker receives would move the ORDER_CREATED to the DLQ meanwhile.
    with visibility_timeout(stack, 4, ("InvoiceQueue",)):
        with function_env(stack, "InvoiceFunction", INVOICE_BUCKET="no-such-bucket"):
            order_id = customer.post_order(order_body(sku, quantity=2)).body["order_id"]
            assert stack.wait_for(lambda: "ORDER_CREATED" in _types(customer, order_id), timeout=30)
            cancelled = _cancel(customer, order_id)
            assert cancelled.status == 202, cancelled.body
            assert cancelled.body["status"] == "CANCELLING"  # shipment decides
            assert wait_final(customer, order_id, statuses={"CANCELLED"})["status"] == "CANCELLED"
            assert stock_of(stack, sku) == 5
        # The invoice goes through now; billing has seen the cancellation and must not charge.
        assert stack.wait_for(lambda: "INVOICE_CREATED" in _types(customer, order_id), timeout=60)
        settle(5)

    assert _status(customer, order_id) == "CANCELLED"
    payment = _payment(customer, order_id)
    assert payment["state"] == "NOT_CHARGED" and payment["charge_id"] is None
    assert "PAYMENT_CONFIRMED" not in _types(customer, order_id)
    subjects = [e.subject for e in emails_for(customer, order_id)]
    assert any("cancel" in s.lower() for s in subjects), subjects
    assert not any("payment" in s.lower() or "refund" in s.lower() for s in subjects), subjects


def test_cancel_after_payment_while_shipment_lags_stops_the_parcel_and_refunds(stack, customer):
    """The payment waits in the shipment DLQ (shipment's view lags); the cancellation
    reaches shipment first: stopped, refunded, and the redriven payment books nothing."""
    sku = new_product(stack, stock=5)
    with payment_parked_in_the_shipment_dlq(stack) as parked:
        order_id = customer.post_order(order_body(sku, quantity=1)).body["order_id"]
        assert stack.wait_for(lambda: _status(customer, order_id) == "PAID", timeout=30)
        assert parked()
    assert _cancel(customer, order_id).status == 202
    final = wait_final(customer, order_id, statuses={"REFUNDED"})
    assert stack.redrive("ShipmentDLQ") >= 1  # the runbook's redrive: the payment comes back
    settle(6)  # ... and must not book

    assert final["status"] == "REFUNDED"
    assert _status(customer, order_id) == "REFUNDED"
    assert "SHIPPED" not in _types(customer, order_id)
    assert "SHIPMENT_CANCELLED" in _types(customer, order_id)
    payment = _payment(customer, order_id)
    assert payment["state"] == "REFUNDED" and payment["charge_id"]
    assert payment["refunds"][0]["amount"] == payment["amount"]
    assert stock_of(stack, sku) == 5
    wait_emails(customer, order_id, 6)  # received, invoice, paid, cancelling, cancelled, refunded
    settle(2)
    assert len(emails_for(customer, order_id)) == 6


def test_cancel_while_the_parcel_is_being_booked_is_too_late_and_costs_no_refund(stack, customer):
    sku = new_product(stack, stock=5)
    with function_env(stack, "ShipmentFunction", FAULT_RATE="1"):  # the carrier keeps failing mid-booking
        order_id = customer.post_order(order_body(sku, quantity=1)).body["order_id"]
        assert stack.wait_for(lambda: _status(customer, order_id) == "PAID", timeout=30)
        assert _cancel(customer, order_id).status == 202  # the booking is in flight: shipment waits
        settle(3)
    final = wait_final(customer, order_id, statuses={"DELIVERED"})

    assert final["status"] == "DELIVERED"
    assert "CANCELLATION_REJECTED" in _types(customer, order_id)
    payment = _payment(customer, order_id)
    assert payment["state"] == "CONFIRMED" and payment["refunds"] == []
    assert stock_of(stack, sku) == 4
    assert stack.wait_for(
        lambda: any("could not cancel" in e.subject.lower() for e in emails_for(customer, order_id)), timeout=30
    )


def test_a_shipped_order_cannot_be_cancelled_and_cancelling_twice_is_harmless(stack, customer):
    sku = new_product(stack, stock=5)
    delivered = customer.post_order(order_body(sku, quantity=1)).body["order_id"]
    assert wait_final(customer, delivered)["status"] == "DELIVERED"

    refused = _cancel(customer, delivered)

    assert refused.status == 409 and refused.body["error"]["code"] == "ORDER_ALREADY_SHIPPED"
    delivered_payment = _payment(customer, delivered)
    assert delivered_payment["state"] == "CONFIRMED" and delivered_payment["refunds"] == []  # no refund
    with function_env(stack, "BillingFunction", FAULT_RATE="1"):
        twice = customer.post_order(order_body(sku, quantity=1)).body["order_id"]
        first, second = _cancel(customer, twice), _cancel(customer, twice)
    assert first.status == second.status == 202
    assert wait_final(customer, twice, statuses={"CANCELLED"})["status"] == "CANCELLED"
    settle(6)
    cancellations = [e for e in emails_for(customer, twice) if "cancel" in e.subject.lower()]
    assert len(cancellations) == 2  # the request, and shipment's verdict: once each
    assert stock_of(stack, sku) == 4


def test_cancellations_racing_payments_always_end_consistent(stack, customer):
    sku = new_product(stack, stock=20)
    order_ids = [customer.post_order(order_body(sku, quantity=1)).body["order_id"] for _ in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda oid: _cancel(customer, oid).status, order_ids))

    outcomes = {}
    for order_id, answer in zip(order_ids, answers, strict=True):
        final = wait_final(customer, order_id, statuses={"CANCELLED", "REFUNDED", "DELIVERED", "PAYMENT_FAILED"})
        if final["status"] == "CANCELLED":  # give a refund the time to arrive
            time.sleep(3)
            final = customer.get_order(order_id).body
        payment = _payment(customer, order_id)
        outcomes[order_id] = (answer, final["status"], payment["state"])
        if answer == 202 and final["status"] == "DELIVERED":  # shipment had it already: too late
            assert "CANCELLATION_REJECTED" in _types(customer, order_id), outcomes[order_id]
            assert payment["state"] == "CONFIRMED", outcomes[order_id]
        elif answer == 202:
            assert final["status"] in ("CANCELLED", "REFUNDED"), outcomes[order_id]
            assert "SHIPPED" not in _types(customer, order_id), outcomes[order_id]
            assert payment["state"] in ("NOT_CHARGED", "REFUNDED"), outcomes[order_id]
        else:
            assert answer == 409 and final["status"] == "DELIVERED", outcomes[order_id]
    delivered = sum(1 for _, status, _ in outcomes.values() if status == "DELIVERED")
    assert stack.wait_for(lambda: stock_of(stack, sku) == 20 - delivered, timeout=30), outcomes
    print(f"\nrace outcomes: {sorted(outcomes.values())}")


def test_delivery_payment_status_and_the_invoice_pdf(stack, customer):
    order_id = customer.post_order(order_body(new_product(stack, stock=3), quantity=1)).body["order_id"]
    final = wait_final(customer, order_id)
    assert final["status"] == "DELIVERED" and final["delivered_at"]
    emails = wait_emails(customer, order_id, EMAILS_DELIVERED)
    assert any("deliver" in e.subject.lower() for e in emails)

    payment = _payment(customer, order_id)
    assert payment["state"] == "CONFIRMED" and payment["charge_id"].startswith("ch_")
    assert payment["amount"] == final["total"] and payment["currency"] == final["currency"]

    link = stack.request("GET", f"/orders/{order_id}/invoice", token=customer.token)
    assert link.status == 200, link.body
    with urllib.request.urlopen(link.body["url"], timeout=10) as response:  # noqa: S310 - our own bucket
        pdf = response.read()
    assert pdf.startswith(b"%PDF-")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert link.body["invoice_number"] in text and order_id in text
    invoice_email = next(e for e in emails if link.body["invoice_number"] in e.subject)
    assert "http" in invoice_email.text

    stranger = Customer(stack, f"e2e-stranger-{uuid.uuid4().hex[:8]}@example.com")
    assert stack.request("GET", f"/orders/{order_id}/invoice", token=stranger.token).status == 404


def test_only_admins_restock_and_everyone_sees_one_product(stack, customer):
    sku = new_product(stack, stock=1)
    admin = Customer(stack, f"e2e-admin-{uuid.uuid4().hex[:8]}@example.com")
    stack.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=stack.outputs["UserPoolId"], Username=admin.email, GroupName="admin"
    )
    admin.token = stack.login(admin.email)["IdToken"]

    refused = stack.request("PUT", f"/inventory/{sku}", {"stock": 50}, token=customer.token)
    done = stack.request("PUT", f"/inventory/{sku}", {"stock": 50, "price": "12.00"}, token=admin.token)
    shown = stack.request("GET", f"/products/{sku}")

    assert refused.status == 403 and refused.body["error"]["code"] == "FORBIDDEN"
    assert done.status == 200, done.body
    assert shown.status == 200 and shown.body["stock"] == 50 and shown.body["price"] == "12.00"
    assert stack.request("PUT", f"/inventory/{sku}", {"stock": -1}, token=admin.token).status == 422


@pytest.mark.parametrize("shards", [1, 8], ids=["one-stock-item", "8-stock-shards"])
def test_concurrent_orders_cancels_and_restocks_never_oversell(stack, customer, other_customer, shards):
    """With 8 shards the 5 units are one each on shards 0-4: most orders first pick an empty
    shard and take from another, and the order of 2 must split its line."""
    sku = new_product(stack, stock=5)  # as seeded before shards: one item
    admin = Customer(stack, f"e2e-admin-{uuid.uuid4().hex[:8]}@example.com")
    stack.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=stack.outputs["UserPoolId"], Username=admin.email, GroupName="admin"
    )
    admin.token = stack.login(admin.email)["IdToken"]
    if shards > 1:
        spread = stack.request("PUT", f"/inventory/{sku}", {"stock": 5, "shards": shards}, token=admin.token)
        assert spread.status == 200 and spread.body["stock"] == 5, spread.body
    observed = []

    def order(i):
        who = customer if i % 2 else other_customer
        quantity = 2 if i == 0 else 1
        return who, quantity, who.post_order(order_body(sku, quantity=quantity))

    with ThreadPoolExecutor(max_workers=8) as pool:
        placing = [pool.submit(order, i) for i in range(24)]
        restock = pool.submit(
            lambda: (time.sleep(0.3), stack.request("PUT", f"/inventory/{sku}", {"stock": 3}, token=admin.token))[1]
        )
        for _ in range(10):
            observed.append(stock_of(stack, sku))
        results = [f.result() for f in placing]
        assert restock.result().status == 200
    accepted = [(who, quantity, r.body["order_id"]) for who, quantity, r in results if r.status == 201]
    refused = [r for _, _, r in results if r.status != 201]
    assert all(r.status == 409 and r.body["error"]["code"] == "OUT_OF_STOCK" for r in refused)
    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(lambda a: _cancel(a[0], a[2]).status, accepted[:2]))
    cancelled = sum(quantity for (_, quantity, _), status in zip(accepted, statuses, strict=False) if status == 202)
    for who, _, order_id in accepted:
        wait_final(who, order_id, statuses={"DELIVERED", "CANCELLED", "REFUNDED"})
    observed.append(stock_of(stack, sku))

    units = sum(quantity for _, quantity, _ in accepted)
    assert min(observed) >= 0
    assert 3 <= units <= 5 + 3  # what stock allowed: the restock overwrites what was left
    assert observed[-1] >= cancelled
    print(f"\noversell, {shards} shards: {len(accepted)} of {len(results)} orders ({units} units), stock {observed}")
