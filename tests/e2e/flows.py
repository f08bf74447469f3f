"""Helpers shared by the end-to-end tests."""

from __future__ import annotations

import uuid
from typing import Any

from choreography.samples import sample_order_request
from scripts.mailbox import ReceivedEmail
from scripts.stack import Stack

# Where an order's story ends: delivered, declined, or money back (cancelled before
# payment ends CANCELLED; tests that expect it wait for that status themselves).
FINAL_STATUSES = {"DELIVERED", "PAYMENT_FAILED", "REFUNDED"}
TIMELINE_DELIVERED = ["ORDER_CREATED", "INVOICE_CREATED", "PAYMENT_CONFIRMED", "SHIPPED", "DELIVERED"]
EMAILS_DELIVERED = 5  # received, invoice, payment, shipped, delivered
EMAILS_DECLINED = 3  # received, invoice, payment failed
EMAILS_UNDELIVERABLE = 5  # received, invoice, payment, shipment problem, refund


def order_body(sku: str = "MUG-001", quantity: int = 2, **overrides: Any) -> dict[str, Any]:
    body = sample_order_request((sku, quantity), **overrides)
    return body


def new_product(stack: Stack, stock: int, price_cents: int = 1000) -> str:
    """A product of its own for a test that counts stock."""
    sku = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    stack.seed_catalogue(
        [{"sku": sku, "name": f"Test product {sku}", "price_cents": price_cents, "currency": "EUR", "stock": stock}]
    )
    return sku


def stock_of(stack: Stack, sku: str) -> int:
    response = stack.request("GET", "/products")
    assert response.status == 200, response.body
    return next(int(p["stock"]) for p in response.body["products"] if p["sku"] == sku)


def wait_final(
    customer: Any, order_id: str, timeout: float = 90, statuses: set[str] = FINAL_STATUSES
) -> dict[str, Any]:
    def final() -> dict[str, Any] | None:
        response = customer.get_order(order_id)
        assert response.status == 200, response.body
        return response.body if response.body["status"] in statuses else None

    order = customer.stack.wait_for(final, timeout=timeout)
    assert order, f"order {order_id} did not reach a final status in {timeout}s: {customer.get_order(order_id).body}"
    return order


def emails_for(customer: Any, order_id: str) -> list[ReceivedEmail]:
    return [email for email in customer.emails() if order_id in email.subject]


def wait_emails(customer: Any, order_id: str, count: int, timeout: float = 60) -> list[ReceivedEmail]:
    """Wait for `count` emails about the order, then make sure no more arrive."""
    emails = customer.stack.wait_for(lambda: len(emails_for(customer, order_id)) >= count and True, timeout=timeout)
    assert emails, f"expected {count} emails for {order_id}, got {len(emails_for(customer, order_id))}"
    return emails_for(customer, order_id)
