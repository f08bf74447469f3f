from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import pytest
import requests
from pydantic import ValidationError
from pypdf import PdfReader

from events.models import InvoiceCreated, OrderCreated
from tests.builders import address, lambda_context, order_created, payment_confirmed, sqs_batch, sqs_record
from tests.integration.conftest import TopicSpy, create_idempotency_table, failed_ids, load_handler

BUCKET = "invoices"
MODULE = "invoice_service.handlers.handle_order_created"
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _load(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, *, idempotency: bool = True) -> Handler:
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    env = {"INVOICE_BUCKET": BUCKET, "ORDER_EVENTS_TOPIC_ARN": topic.topic_arn, "TAX_RATE": "0.20"}
    if idempotency:
        env["IDEMPOTENCY_TABLE"] = create_idempotency_table()
    else:
        monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    return load_handler(MODULE, env, monkeypatch).handler


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> Handler:
    return _load(monkeypatch, topic)


def _invoice_keys(order_id: str) -> list[str]:
    listing = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=f"invoices/{order_id}/")
    return [item["Key"] for item in listing.get("Contents", [])]


def _expected_number(event: OrderCreated) -> str:
    return f"INV-{event.occurred_at:%Y%m%d}-{event.order_id.replace('-', '')[:8].upper()}"


def _expected_keys(event: OrderCreated) -> list[str]:
    prefix = f"invoices/{event.order_id}/{_expected_number(event)}"
    return [f"{prefix}.html", f"{prefix}.pdf"]


def _stored(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf), strict=True).pages)


def _link_query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_order_created_stores_the_invoice_and_publishes_invoice_created(handler: Handler, topic: TopicSpy) -> None:
    event = order_created(payment_token="tok_amex")

    response = handler(sqs_batch(event), lambda_context())

    assert response == {"batchItemFailures": []}
    number = _expected_number(event)
    key, pdf_key = _expected_keys(event)
    assert _invoice_keys(event.order_id) == [key, pdf_key]
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=key)
    assert stored["ContentType"] == "text/html; charset=utf-8"
    html = stored["Body"].read().decode("utf-8")
    assert number in html
    assert event.order_id in html
    for amount in ("12.99 EUR", "25.98 EUR", "19.99 EUR", "38.31 EUR", "7.66 EUR", "45.97 EUR"):
        assert amount in html

    [published] = topic.published()
    assert isinstance(published, InvoiceCreated)
    assert published.causation_id == event.event_id
    assert published.correlation_id == event.correlation_id
    assert (published.order_id, published.customer_id) == (event.order_id, event.customer_id)
    assert (published.data.invoice_number, published.data.invoice_key) == (number, key)
    assert published.data.invoice_pdf_key == pdf_key
    assert published.data.invoice_url is not None
    assert (published.data.subtotal_cents, published.data.tax_cents, published.data.total_cents) == (3831, 766, 4597)
    assert published.data.payment_token.get_secret_value() == "tok_amex"
    assert published.data.order == event.data.order


def test_the_pdf_is_stored_next_to_the_html_and_reads_as_the_invoice(handler: Handler, topic: TopicSpy) -> None:
    event = order_created()

    handler(sqs_batch(event), lambda_context())

    _, pdf_key = _expected_keys(event)
    stored = boto3.client("s3").get_object(Bucket=BUCKET, Key=pdf_key)
    assert stored["ContentType"] == "application/pdf"
    assert stored["ContentDisposition"] == f'inline; filename="{_expected_number(event)}.pdf"'
    text = _pdf_text(stored["Body"].read())
    assert _expected_number(event) in text
    assert event.order_id in text
    assert "Total (incl. VAT) 45.97 EUR" in text


def test_the_published_link_is_a_sigv4_presigned_get_of_the_pdf_for_seven_days(
    handler: Handler, topic: TopicSpy
) -> None:
    event = order_created()

    handler(sqs_batch(event), lambda_context())

    [published] = topic.published()
    url = published.data.invoice_url
    assert url is not None
    parts = urlsplit(url)
    assert parts.scheme == "https"
    # Virtual-hosted (bucket in the host) or path style (bucket first in the path).
    assert parts.netloc.startswith(f"{BUCKET}.s3.") or unquote(parts.path).startswith(f"/{BUCKET}/")
    assert unquote(parts.path).endswith(f"/{published.data.invoice_pdf_key}")
    query = _link_query(url)
    assert query["X-Amz-Algorithm"] == "AWS4-HMAC-SHA256"  # SigV4, not the legacy SigV2 S3 refuses on new buckets
    assert query["X-Amz-Expires"] == "604800"
    assert "/us-east-1/s3/aws4_request" in query["X-Amz-Credential"]
    assert query["X-Amz-Signature"]

    # Following the link downloads the very PDF that was stored.
    download = requests.get(url, timeout=5)
    assert download.status_code == 200
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.content == _stored(published.data.invoice_pdf_key)


def test_the_link_lifetime_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> None:
    monkeypatch.setenv("INVOICE_LINK_SECONDS", "3600")
    handler = _load(monkeypatch, topic, idempotency=False)

    handler(sqs_batch(order_created()), lambda_context())

    [published] = topic.published()
    assert _link_query(published.data.invoice_url)["X-Amz-Expires"] == "3600"


@pytest.mark.parametrize("seconds", ["0", "604801", "a week"])
def test_a_link_lifetime_sigv4_cannot_sign_fails_the_cold_start(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy, seconds: str
) -> None:
    monkeypatch.setenv("INVOICE_LINK_SECONDS", seconds)
    with pytest.raises(ValidationError, match="invoice_link_seconds"):
        _load(monkeypatch, topic)


def test_the_tax_rate_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, topic: TopicSpy) -> None:
    monkeypatch.delenv("IDEMPOTENCY_TABLE", raising=False)
    boto3.client("s3").create_bucket(Bucket=BUCKET)
    handler = load_handler(
        MODULE,
        {"INVOICE_BUCKET": BUCKET, "ORDER_EVENTS_TOPIC_ARN": topic.topic_arn, "TAX_RATE": "0.055"},
        monkeypatch,
    )
    assert handler.settings.tax_rate == Decimal("0.055")

    handler.handler(sqs_batch(order_created()), lambda_context())

    [published] = topic.published()
    assert (published.data.tax_cents, published.data.subtotal_cents) == (240, 4357)  # 4597 * 0.055 / 1.055


def test_customer_text_is_escaped_in_the_stored_invoice(handler: Handler, topic: TopicSpy) -> None:
    event = order_created(shipping_address=address(name="<script>alert(1)</script>"))

    handler(sqs_batch(event), lambda_context())

    [published] = topic.published()
    html = boto3.client("s3").get_object(Bucket=BUCKET, Key=published.data.invoice_key)["Body"].read().decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_an_odd_name_reads_as_typed_in_the_stored_pdf(handler: Handler, topic: TopicSpy) -> None:
    name = "Zoë (O'Brien) \\ <script>"
    event = order_created(shipping_address=address(name=name))

    assert handler(sqs_batch(event), lambda_context()) == {"batchItemFailures": []}

    [published] = topic.published()
    assert published.data.invoice_pdf_key is not None
    text = _pdf_text(_stored(published.data.invoice_pdf_key))
    assert text.count(name) == 2  # bill-to and ship-to
    assert "Total (incl. VAT) 45.97 EUR" in text


def test_a_duplicate_delivery_has_no_second_effect(handler: Handler, topic: TopicSpy) -> None:
    event = order_created()
    assert handler(sqs_batch(event), lambda_context()) == {"batchItemFailures": []}

    # SNS delivers the same event again under a new SQS message id, alone and twice in one batch.
    assert handler(sqs_batch(event), lambda_context()) == {"batchItemFailures": []}
    assert handler(sqs_batch(event, event), lambda_context()) == {"batchItemFailures": []}

    assert len(topic.published()) == 1
    assert _invoice_keys(event.order_id) == _expected_keys(event)


def test_without_idempotency_a_retry_makes_the_same_invoice_and_the_same_event(
    monkeypatch: pytest.MonkeyPatch, topic: TopicSpy
) -> None:
    handler = _load(monkeypatch, topic, idempotency=False)
    event = order_created()

    handler(sqs_batch(event), lambda_context())
    keys = _invoice_keys(event.order_id)
    first_documents = [_stored(key) for key in keys]
    handler(sqs_batch(event), lambda_context())

    assert keys == _expected_keys(event)
    assert _invoice_keys(event.order_id) == keys
    assert [_stored(key) for key in keys] == first_documents  # HTML and PDF alike, to the byte
    first, second = topic.published()
    assert first.event_id == second.event_id  # consumers see the second as a duplicate
    assert first.data.invoice_number == second.data.invoice_number
    assert first.data.invoice_pdf_key == second.data.invoice_pdf_key == keys[1]


def test_a_malformed_record_fails_alone(handler: Handler, topic: TopicSpy) -> None:
    good = order_created()
    batch = {
        "Records": [
            sqs_record("{not json", message_id="malformed"),
            sqs_record('{"event_type": "ORDER_CREATED"}', message_id="incomplete"),
            sqs_record(good, message_id="good"),
        ]
    }

    response = handler(batch, lambda_context())

    assert failed_ids(response) == ["malformed", "incomplete"]
    [published] = topic.published()
    assert published.causation_id == good.event_id
    assert _invoice_keys(good.order_id) == _expected_keys(good)


def test_an_event_type_this_service_does_not_handle_fails_its_record(handler: Handler, topic: TopicSpy) -> None:
    stray, good = payment_confirmed(), order_created()
    batch = {"Records": [sqs_record(stray, message_id="stray"), sqs_record(good, message_id="good")]}

    response = handler(batch, lambda_context())

    assert failed_ids(response) == ["stray"]
    assert [event.causation_id for event in topic.published()] == [good.event_id]


def test_the_log_names_the_invoice_but_never_the_token_email_address_or_download_link(
    handler: Handler, topic: TopicSpy, log: io.StringIO
) -> None:
    event = order_created(payment_token="tok_mastercard")

    handler(sqs_batch(event), lambda_context())

    text = log.getvalue()
    assert _expected_number(event) in text
    assert event.order_id in text
    assert "tok_mastercard" not in text
    assert event.data.order.customer_email not in text
    assert event.data.order.shipping_address.line1 not in text
    [published] = topic.published()
    assert published.data.invoice_url is not None
    assert _link_query(published.data.invoice_url)["X-Amz-Signature"] not in text  # the link is a credential
