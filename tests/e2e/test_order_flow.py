"""The choreography end to end: an order placed over HTTP goes through invoice,
payment and shipment, and the customer gets an email at every stage."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from tests.e2e.flows import (
    EMAILS_DECLINED,
    EMAILS_DELIVERED,
    EMAILS_UNDELIVERABLE,
    TIMELINE_DELIVERED,
    emails_for,
    new_product,
    order_body,
    stock_of,
    wait_emails,
    wait_final,
)

pytestmark = pytest.mark.usefixtures("needs_inbox")


def test_catalogue_is_public_and_lists_stock(stack):
    response = stack.request("GET", "/products")

    assert response.status == 200
    skus = {p["sku"]: p for p in response.body["products"]}
    assert {"MUG-001", "TEE-001"} <= set(skus)
    assert Decimal(skus["MUG-001"]["price"]) == Decimal("12.99")
    assert skus["MUG-001"]["stock"] >= 0


def test_order_is_priced_by_the_server_and_is_delivered_with_an_email_at_every_stage(stack, customer):
    sku = new_product(stack, stock=10, price_cents=1250)
    body = order_body(sku, quantity=2)
    body["items"][0]["price"] = "0.01"  # a client price is never used

    placed = customer.post_order(body)

    assert placed.status == 201, placed.body
    order = placed.body
    assert order["status"] == "CREATED"
    assert order["lines"] == [
        {"sku": sku, "name": f"Test product {sku}", "quantity": 2, "unit_price": "12.50", "line_total": "25.00"}
    ]
    assert order["total"] == "25.00"
    assert stock_of(stack, sku) == 8

    final = wait_final(customer, order["order_id"])
    assert final["status"] == "DELIVERED"
    assert [entry["event_type"] for entry in final["timeline"]] == TIMELINE_DELIVERED
    assert final["tracking_number"]

    emails = wait_emails(customer, order["order_id"], EMAILS_DELIVERED)
    time.sleep(2)  # nothing more may arrive
    emails = emails_for(customer, order["order_id"])
    assert len(emails) == EMAILS_DELIVERED, [e.subject for e in emails]
    assert all(order["order_id"] in e.text and order["order_id"] in e.html for e in emails)
    assert any(final["tracking_number"] in e.text for e in emails)
    assert all(e.sender_address == stack.outputs["SenderEmail"] for e in emails)
    assert stock_of(stack, sku) == 8


def test_declined_payment_fails_the_order_releases_stock_and_sends_three_emails(stack, customer):
    sku = new_product(stack, stock=5)

    placed = customer.post_order(order_body(sku, quantity=3, payment_token="tok_chargeDeclined"))

    assert placed.status == 201, placed.body
    assert stock_of(stack, sku) == 2
    order_id = placed.body["order_id"]
    final = wait_final(customer, order_id)
    assert final["status"] == "PAYMENT_FAILED"
    assert [e["event_type"] for e in final["timeline"]] == ["ORDER_CREATED", "INVOICE_CREATED", "PAYMENT_FAILED"]
    assert stack.wait_for(lambda: stock_of(stack, sku) == 5, timeout=30)
    wait_emails(customer, order_id, EMAILS_DECLINED)
    time.sleep(2)
    emails = emails_for(customer, order_id)
    assert len(emails) == EMAILS_DECLINED, [e.subject for e in emails]
    assert "declined" in emails[-1].text.lower()


def test_undeliverable_address_fails_the_shipment_refunds_and_releases_stock(stack, customer):
    sku = new_product(stack, stock=4)
    body = order_body(sku, quantity=1)
    body["shipping_address"]["postal_code"] = "00000"

    placed = customer.post_order(body)

    assert placed.status == 201, placed.body
    order_id = placed.body["order_id"]
    final = wait_final(customer, order_id)
    assert final["status"] == "REFUNDED"
    assert [e["event_type"] for e in final["timeline"]][-2:] == ["SHIPMENT_ERROR", "PAYMENT_REFUNDED"]
    assert stack.wait_for(lambda: stock_of(stack, sku) == 4, timeout=30)
    payment = customer.stack.request("GET", f"/orders/{order_id}/payment", token=customer.token).body
    assert payment["state"] == "REFUNDED" and payment["refunds"][0]["amount"] == final["total"]
    wait_emails(customer, order_id, EMAILS_UNDELIVERABLE)
    time.sleep(2)
    emails = emails_for(customer, order_id)
    assert len(emails) == EMAILS_UNDELIVERABLE, [e.subject for e in emails]
    assert "00000" not in emails[-1].subject


def test_quantity_above_stock_is_a_conflict_and_changes_nothing(stack, customer):
    sku = new_product(stack, stock=2)

    response = customer.post_order(order_body(sku, quantity=3))

    assert response.status == 409, response.body
    assert response.body["error"]["code"] == "OUT_OF_STOCK"
    assert response.body["error"]["details"][0]["sku"] == sku
    assert stock_of(stack, sku) == 2
    time.sleep(2)
    assert customer.emails() == []


def test_a_burst_of_concurrent_orders_each_ends_with_its_exact_emails(stack, customer, other_customer):
    sku = new_product(stack, stock=100)
    declined = {3, 7}
    bodies = [
        (
            customer if i % 2 else other_customer,
            order_body(sku, quantity=1, payment_token="tok_chargeDeclined" if i in declined else "tok_visa"),
        )
        for i in range(12)
    ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        responses = list(pool.map(lambda cb: (cb[0], cb[1], cb[0].post_order(cb[1])), bodies))

    assert all(r.status == 201 for _, _, r in responses), [r.body for _, _, r in responses if r.status != 201]
    for who, body, response in responses:
        order_id = response.body["order_id"]
        final = wait_final(who, order_id, timeout=120)
        expected_status, expected_emails = (
            ("PAYMENT_FAILED", EMAILS_DECLINED)
            if body["payment_token"] == "tok_chargeDeclined"
            else ("DELIVERED", EMAILS_DELIVERED)
        )
        assert final["status"] == expected_status
        wait_emails(who, order_id, expected_emails)
    time.sleep(2)
    for who, body, response in responses:
        expected = EMAILS_DECLINED if body["payment_token"] == "tok_chargeDeclined" else EMAILS_DELIVERED
        assert len(emails_for(who, response.body["order_id"])) == expected
    assert stock_of(stack, sku) == 100 - (len(bodies) - len(declined))
