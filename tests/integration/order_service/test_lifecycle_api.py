"""The lifecycle endpoints in-process against moto: my orders, cancel, payment,
invoice link, one product, inventory."""

from __future__ import annotations

import pytest

from events.models import OrderCancelled, ShipmentCancelled, ShipmentCancelledData
from tests import builders
from tests.integration.conftest import json_body
from tests.integration.order_service.tables import outbox_size, stock_of

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
EVE = builders.customer_claims(sub="cust-eve", email="eve@example.com")
ADMIN = {**builders.customer_claims(sub="cust-root", email="root@example.com"), "cognito:groups": "[admin]"}


def call(api, method, path, body=None, claims=ADA, resource=None, params=None, query=None):
    event = builders.api_event(method, path, body, claims=claims, resource=resource or path, path_parameters=params)
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in (query or {}).items()} or None
    return api.handler(event, builders.lambda_context("order-api"))


def place(api, quantity=1, sku="LAMP-001", claims=ADA):
    body = builders.address().model_dump(exclude_none=True)
    response = call(
        api,
        "POST",
        "/orders",
        {"items": [{"sku": sku, "quantity": quantity}], "shipping_address": body, "payment_token": "tok_visa"},
        claims=claims,
    )
    assert response["statusCode"] == 201, response["body"]
    return json_body(response)["order_id"]


def on_order(api, method, order_id, suffix="", claims=ADA):
    return call(
        api,
        method,
        f"/orders/{order_id}{suffix}",
        claims=claims,
        resource="/orders/{order_id}" + suffix,
        params={"order_id": order_id},
    )


def test_my_orders_come_newest_first_in_pages_with_an_opaque_cursor(api):
    mine = [place(api, sku="MUG-001") for _ in range(5)]
    place(api, sku="MUG-001", claims=EVE)

    seen, cursor, pages = [], None, 0
    while True:
        page = json_body(call(api, "GET", "/orders", query={"limit": "2", **({"next": cursor} if cursor else {})}))
        seen += [o["order_id"] for o in page["orders"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == list(reversed(mine))


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjogMX0", "W10"])
def test_a_forged_cursor_names_no_page_404(api, cursor):
    response = call(api, "GET", "/orders", query={"next": cursor})

    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "INVALID_CURSOR"


@pytest.mark.parametrize("cursor", ["eyJ4IjogMX0=", "not a cursor", "a/b"])
def test_a_cursor_outside_its_documented_alphabet_is_a_validation_error(api, cursor):
    response = call(api, "GET", "/orders", query={"next": cursor})

    assert response["statusCode"] == 422
    assert json_body(response)["error"]["details"][0]["field"] == "next"


def test_another_customers_cursor_is_refused(api):
    for _ in range(3):
        place(api, sku="MUG-001", claims=EVE)
    eves_cursor = json_body(call(api, "GET", "/orders", claims=EVE, query={"limit": "1"}))["next"]

    response = call(api, "GET", "/orders", query={"next": eves_cursor})

    assert response["statusCode"] == 404  # as unknown as another customer's order


def test_cancel_queues_order_cancelled_keeps_the_stock_until_shipment_decides_and_twice_is_harmless(
    api, relay, topic, monkeypatch, env
):
    from tests.integration.conftest import load_handler

    order_id = place(api, quantity=2)
    assert stock_of("LAMP-001") == 1

    first = on_order(api, "POST", order_id, "/cancel")
    again = on_order(api, "POST", order_id, "/cancel")

    assert first["statusCode"] == again["statusCode"] == 202
    assert json_body(first)["status"] == "CANCELLING"
    assert stock_of("LAMP-001") == 1  # the parcel may have left already
    assert outbox_size() == 2  # ORDER_CREATED and one ORDER_CANCELLED

    relay()
    cancelled = next(event for event in topic.published() if event.event_type.value == "ORDER_CANCELLED")
    consumer = load_handler("order_service.handlers.handle_order_events", env, monkeypatch)
    stopped = ShipmentCancelled.caused_by(cancelled, data=ShipmentCancelledData(order=cancelled.data.order))
    consumer.handler(builders.sqs_batch(cancelled, stopped), builders.lambda_context())

    assert json_body(on_order(api, "GET", order_id))["status"] == "CANCELLED"
    assert stock_of("LAMP-001") == 3


def test_a_shipped_order_cannot_be_cancelled(api, relay, topic, monkeypatch, env):
    from tests.integration.conftest import load_handler

    order_id = place(api)
    relay()
    created = topic.published()[0]
    consumer = load_handler("order_service.handlers.handle_order_events", env, monkeypatch)
    consumer.handler(
        builders.sqs_batch(builders.shipped(builders.payment_confirmed(builders.invoice_created(created)))),
        builders.lambda_context(),
    )

    response = on_order(api, "POST", order_id, "/cancel")

    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "ORDER_ALREADY_SHIPPED"
    assert stock_of("LAMP-001") == 2


def test_the_cancellation_reaches_the_topic_in_the_orders_chain(api, relay, topic):
    order_id = place(api)
    relay()
    created = topic.published()[0]
    on_order(api, "POST", order_id, "/cancel")
    relay()

    [cancelled] = topic.published()
    assert isinstance(cancelled, OrderCancelled)
    assert cancelled.order_id == order_id and cancelled.correlation_id == created.correlation_id


def test_nobody_cancels_or_reads_the_payment_of_another_customers_order(api):
    order_id = place(api)

    assert on_order(api, "POST", order_id, "/cancel", claims=EVE)["statusCode"] == 404
    assert on_order(api, "GET", order_id, "/payment", claims=EVE)["statusCode"] == 404
    assert stock_of("LAMP-001") == 2


def test_payment_is_pending_until_billing_says_otherwise_and_never_shows_the_token(api):
    order_id = place(api)

    response = on_order(api, "GET", order_id, "/payment")

    assert response["statusCode"] == 200
    payment = json_body(response)
    assert payment["state"] == "PENDING" and payment["amount"] == "49.99" and payment["refunds"] == []
    assert "tok_" not in response["body"]


def test_the_invoice_link_needs_an_invoice(api, relay, topic, env, monkeypatch):
    from tests.integration.conftest import load_handler

    order_id = place(api)
    not_ready = on_order(api, "GET", order_id, "/invoice")
    assert not_ready["statusCode"] == 409  # the order exists; its invoice follows: ask again later
    assert json_body(not_ready)["error"]["code"] == "INVOICE_NOT_READY"
    assert not_ready["multiValueHeaders"]["Retry-After"] == ["2"]
    relay()
    created = topic.published()[0]
    invoiced = builders.invoice_created(created)
    invoiced = invoiced.model_copy(
        update={"data": invoiced.data.model_copy(update={"invoice_pdf_key": f"invoices/{order_id}/INV-1.pdf"})}
    )
    consumer = load_handler("order_service.handlers.handle_order_events", env, monkeypatch)
    consumer.handler(builders.sqs_batch(invoiced), builders.lambda_context())

    response = on_order(api, "GET", order_id, "/invoice")

    assert response["statusCode"] == 200
    link = json_body(response)
    assert f"invoices/{order_id}/INV-1.pdf" in link["url"] and "Signature" in link["url"]
    assert link["invoice_number"] == invoiced.data.invoice_number


def test_one_product_is_public(api):
    assert (
        json_body(
            call(api, "GET", "/products/LAMP-001", claims=None, resource="/products/{sku}", params={"sku": "LAMP-001"})
        )["stock"]
        == 3
    )
    missing = call(api, "GET", "/products/NOPE", claims=None, resource="/products/{sku}", params={"sku": "NOPE"})
    assert missing["statusCode"] == 404


def test_only_admins_set_stock(api):
    def put(claims, body, sku="LAMP-001"):
        return call(
            api, "PUT", f"/inventory/{sku}", body, claims=claims, resource="/inventory/{sku}", params={"sku": sku}
        )

    assert put(ADA, {"stock": 10})["statusCode"] == 403
    assert stock_of("LAMP-001") == 3
    assert put(ADMIN, {"stock": -1})["statusCode"] == 422
    done = put(ADMIN, {"stock": 10, "price": "45.00"})
    assert done["statusCode"] == 200
    assert json_body(done) == {"sku": "LAMP-001", "name": "Desk lamp", "price": "45.00", "currency": "EUR", "stock": 10}
    assert put(ADMIN, {"stock": 1}, sku="NEW-1")["statusCode"] == 404
    assert put(ADMIN, {"stock": 1, "price": "2.50", "name": "New thing"}, sku="NEW-1")["statusCode"] == 200
