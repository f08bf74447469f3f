"""Shared builders for tests: Lambda context, API Gateway events, SQS batches, events."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from choreography import samples
from events.models import (
    Address,
    Event,
    InvoiceCreated,
    InvoiceCreatedData,
    OrderCreated,
    OrderCreatedData,
    OrderLine,
    OrderSnapshot,
    PaymentConfirmed,
    PaymentConfirmedData,
    PaymentFailed,
    PaymentFailedData,
    ShipmentError,
    ShipmentErrorData,
    Shipped,
    ShippedData,
)

REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class LambdaContext:
    function_name: str = "test-function"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:test-function"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def lambda_context(name: str = "test-function") -> LambdaContext:
    return LambdaContext(
        function_name=name,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}",
        aws_request_id=str(uuid.uuid4()),
    )


def address(**overrides: Any) -> Address:
    values = {
        "name": "Ada Lovelace",
        "line1": "12 Analytical Row",
        "city": "London",
        "postal_code": "N1 9GU",
        "country": "GB",
    }
    return Address(**{**values, **overrides})


def snapshot(**overrides: Any) -> OrderSnapshot:
    values: dict[str, Any] = {
        "customer_email": "ada@example.com",
        "lines": [
            OrderLine(sku="MUG-001", name="Coffee mug", quantity=2, unit_price_cents=1299, line_total_cents=2598),
            OrderLine(sku="TEE-001", name="T-shirt", quantity=1, unit_price_cents=1999, line_total_cents=1999),
        ],
        "total_cents": 4597,
        "currency": "EUR",
        "shipping_address": address(),
    }
    return OrderSnapshot(**{**values, **overrides})


def order_created(payment_token: str = "tok_visa", **snapshot_overrides: Any) -> OrderCreated:
    return OrderCreated.first(
        order_id=str(uuid.uuid4()),
        customer_id=str(uuid.uuid4()),
        data=OrderCreatedData(order=snapshot(**snapshot_overrides), payment_token=payment_token),
    )


def invoice_created(cause: OrderCreated | None = None, **kwargs: Any) -> InvoiceCreated:
    cause = cause or order_created(**kwargs)
    order = cause.data.order
    tax = round(order.total_cents * 20 / 120)
    return InvoiceCreated.caused_by(
        cause,
        data=InvoiceCreatedData(
            order=order,
            payment_token=cause.data.payment_token,
            invoice_number="INV-20260101-ABCDEF12",
            invoice_key=f"invoices/{cause.order_id}/INV-20260101-ABCDEF12.html",
            subtotal_cents=order.total_cents - tax,
            tax_cents=tax,
            total_cents=order.total_cents,
        ),
    )


def payment_confirmed(cause: InvoiceCreated | None = None, **kwargs: Any) -> PaymentConfirmed:
    cause = cause or invoice_created(**kwargs)
    return PaymentConfirmed.caused_by(
        cause,
        data=PaymentConfirmedData(
            order=cause.data.order,
            charge_id="ch_test_123",
            amount_cents=cause.data.total_cents,
            currency=cause.data.order.currency,
        ),
    )


def payment_failed(cause: InvoiceCreated | None = None, **kwargs: Any) -> PaymentFailed:
    cause = cause or invoice_created(payment_token="tok_chargeDeclined", **kwargs)
    return PaymentFailed.caused_by(
        cause,
        data=PaymentFailedData(
            order=cause.data.order,
            amount_cents=cause.data.total_cents,
            currency=cause.data.order.currency,
            reason="Your card was declined.",
            decline_code="card_declined",
        ),
    )


def shipped(cause: PaymentConfirmed | None = None, **kwargs: Any) -> Shipped:
    cause = cause or payment_confirmed(**kwargs)
    return Shipped.caused_by(
        cause,
        data=ShippedData(
            order=cause.data.order, shipment_id="shp_1", carrier="SimPost", tracking_number="SP123456789GB"
        ),
    )


def shipment_error(cause: PaymentConfirmed | None = None, **kwargs: Any) -> ShipmentError:
    cause = cause or payment_confirmed(**kwargs)
    return ShipmentError.caused_by(
        cause, data=ShipmentErrorData(order=cause.data.order, reason="address is undeliverable")
    )


def sqs_record(event: Event[Any] | str, message_id: str | None = None, receive_count: int = 1) -> dict[str, Any]:
    """One SQS record as Lambda receives it from a raw-delivery SNS subscription."""
    record = samples.sqs_record(event, message_id or str(uuid.uuid4()))
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def sqs_batch(*events: Event[Any] | str) -> dict[str, Any]:
    return {"Records": [sqs_record(event) for event in events]}


def api_event(
    method: str,
    path: str,
    body: Any = None,
    *,
    claims: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    resource: str | None = None,
    raw_body: str | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST API (v1) proxy event behind a Cognito user-pool authorizer."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/v1{path}",
            "stage": "v1",
            "requestId": str(uuid.uuid4()),
            "accountId": ACCOUNT,
            "apiId": "abc123",
            "identity": {"sourceIp": "127.0.0.1"},
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def customer_claims(
    sub: str | None = None, email: str = "ada@example.com", email_verified: str | None = "true"
) -> dict[str, str]:
    """A Cognito ID token's claims as API Gateway (REST) passes them: every value a string."""
    claims = {"sub": sub or str(uuid.uuid4()), "email": email, "cognito:username": email}
    if email_verified is not None:
        claims["email_verified"] = email_verified
    return claims


# ------------------------------------------------------------------ every script
# Names, addresses, product names and sellers in the scripts customers write in: what
# every document (invoice PDF, email) must show exactly as given.
SCRIPTS: dict[str, dict[str, str]] = {
    "latin": {
        "name": "Zoë Łukasiewicz-Dvořák",
        "line1": "Straße der Pariser Kommune 7",
        "city": "Kraków",
        "postal_code": "30-001",
        "country": "PL",
        "seller": "Müller & Söhne GmbH",
        "seller_address": "Königstraße 5, 70173 Stuttgart, DE",
        "product": "Crème brûlée set",
    },
    "cyrillic": {
        "name": "Иван Петров",
        "line1": "ул. Тверская, д. 7, кв. 12",
        "city": "Москва",
        "postal_code": "125009",
        "country": "RU",
        "seller": "ООО «Ромашка»",  # noqa: RUF001 (Cyrillic, as it should be)
        "seller_address": "Невский проспект 28, Санкт-Петербург, RU",
        "product": "Чайник электрический",
    },
    "greek": {
        "name": "Γιώργος Παπαδόπουλος",
        "line1": "Οδός Ερμού 12",
        "city": "Αθήνα",
        "postal_code": "105 63",
        "country": "GR",
        "seller": "Παπαδόπουλος Α.Ε.",  # noqa: RUF001 (Greek, as it should be)
        "seller_address": "Λεωφόρος Νίκης 40, Θεσσαλονίκη, GR",
        "product": "Ελαιόλαδο παρθένο",
    },
    # Arabic texts without digits: pypdf extracts a right-to-left run of a PDF in its
    # logical order, but a number inside one comes out displaced (it does no bidi
    # reordering across pieces of text); tests check that order glyph by glyph.
    "arabic": {
        "name": "محمد عبد الله",
        "line1": "شارع الملك فهد",
        "city": "الرياض",
        "postal_code": "11564",
        "country": "SA",
        "seller": "شركة المتجر",
        "seller_address": "طريق الملك عبدالعزيز، جدة",
        "product": "قهوة عربية",
    },
    "japanese": {
        "name": "山田太郎",
        "line1": "千代田区丸の内一丁目",
        "city": "東京都",
        "postal_code": "100-0005",
        "country": "JP",
        "seller": "株式会社山田商店",
        "seller_address": "大阪府大阪市北区梅田三丁目",
        "product": "抹茶セット",
    },
    "chinese": {
        "name": "王小明",
        "line1": "朝阳区建国路八十八号",
        "city": "北京市",
        "postal_code": "100022",
        "country": "CN",
        "seller": "深圳市华强电子有限公司",
        "seller_address": "广东省深圳市福田区华强北路",
        "product": "绿茶礼盒",
    },
    "korean": {
        "name": "김민준",
        "line1": "종로구 세종대로 175",
        "city": "서울특별시",
        "postal_code": "03154",
        "country": "KR",
        "seller": "주식회사 한빛상사",
        "seller_address": "부산광역시 해운대구 센텀중앙로",
        "product": "김치 냉장고",
    },
}
