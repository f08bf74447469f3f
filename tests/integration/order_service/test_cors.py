"""CORS on the API's own answers: the web console's origin only, and none when unset."""

from __future__ import annotations

import pytest

from tests import builders
from tests.integration.conftest import load_handler

CONSOLE = "http://127.0.0.1:8400"
ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")


def headers_of(response):
    multi = {k.lower(): v for k, v in (response.get("multiValueHeaders") or {}).items()}
    single = {k.lower(): [v] for k, v in (response.get("headers") or {}).items()}
    return {**multi, **single}


def call(api, method, path, origin, body=None, claims=ADA):
    event = builders.api_event(method, path, body, claims=claims, headers={"Origin": origin})
    return api.handler(event, builders.lambda_context("order-api"))


@pytest.fixture
def console_api(env, monkeypatch):
    return load_handler("order_service.handlers.api", {**env, "CONSOLE_ORIGIN": CONSOLE}, monkeypatch)


def test_the_console_origin_may_read_answers_and_errors(console_api):
    ok = headers_of(call(console_api, "GET", "/products", CONSOLE, claims=None))
    assert ok["access-control-allow-origin"] == [CONSOLE]

    missing = builders.api_event("GET", "/orders/nope", claims=ADA, headers={"Origin": CONSOLE})
    missing["pathParameters"] = {"order_id": "nope"}
    missing["resource"] = "/orders/{order_id}"
    not_found = console_api.handler(missing, builders.lambda_context("order-api"))
    assert not_found["statusCode"] == 404
    assert headers_of(not_found)["access-control-allow-origin"] == [CONSOLE]

    invalid = call(console_api, "POST", "/orders", CONSOLE, body={"items": []})
    assert invalid["statusCode"] == 422
    headers = headers_of(invalid)
    assert headers["access-control-allow-origin"] == [CONSOLE]
    assert "Idempotent-Replayed" in ",".join(headers["access-control-expose-headers"])


def test_another_origin_gets_no_cors_header(console_api):
    answer = headers_of(call(console_api, "GET", "/products", "https://evil.example", claims=None))
    assert "access-control-allow-origin" not in answer


def test_no_console_origin_means_no_cors(api):
    answer = headers_of(call(api, "GET", "/products", CONSOLE, claims=None))
    assert "access-control-allow-origin" not in answer


def test_the_preflight_names_the_headers_the_console_sends(console_api):
    event = builders.api_event(
        "OPTIONS",
        "/orders",
        claims=None,
        headers={"Origin": CONSOLE, "Access-Control-Request-Method": "POST"},
    )
    answer = console_api.handler(event, builders.lambda_context("order-api"))
    assert answer["statusCode"] == 204
    headers = headers_of(answer)
    assert headers["access-control-allow-origin"] == [CONSOLE]
    allowed = ",".join(headers["access-control-allow-headers"]).lower()
    assert "authorization" in allowed and "idempotency-key" in allowed
    assert "POST" in ",".join(headers["access-control-allow-methods"])
