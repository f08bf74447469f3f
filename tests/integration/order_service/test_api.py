"""The REST handler in-process against moto: DynamoDB transactions, SNS publish."""

from __future__ import annotations

import json
import re

import boto3
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from events.models import OrderCreated
from tests import builders
from tests.integration.conftest import json_body, load_handler
from tests.integration.order_service.tables import (
    order_count,
    outbox_size,
    outbox_stream_event,
    stock_of,
)

ADA = builders.customer_claims(sub="cust-ada", email="ada@example.com")
EVE = builders.customer_claims(sub="cust-eve", email="eve@example.com")


def call(api, method, path, body=None, claims=ADA, **kwargs):
    event = builders.api_event(method, path, body, claims=claims, **kwargs)
    return api.handler(event, builders.lambda_context("order-api"))


def place(api, body, claims=ADA):
    return call(api, "POST", "/orders", body, claims=claims)


def body(*items, token="tok_visa", **address):
    return {
        "items": [{"sku": sku, "quantity": qty} for sku, qty in items],
        "shipping_address": builders.address(**address).model_dump(exclude_none=True),
        "payment_token": token,
    }


def test_products_list_the_catalogue_with_stock(api):
    response = call(api, "GET", "/products", claims=None)

    assert response["statusCode"] == 200
    products = {p["sku"]: p for p in json_body(response)["products"]}
    assert products["LAMP-001"] == {
        "sku": "LAMP-001",
        "name": "Desk lamp",
        "price": "49.99",
        "currency": "EUR",
        "stock": 3,
    }


def test_placing_an_order_stores_it_reserves_stock_and_publishes_through_the_outbox(api, relay, topic):
    response = place(api, body(("LAMP-001", 2), ("MUG-001", 1)))
    assert topic.published() == []  # not yet: the relay publishes
    assert outbox_size() == 1
    [entry] = boto3.client("dynamodb").scan(TableName="outbox")["Items"]
    assert "tok_visa" not in json.dumps(entry)  # sealed with KMS while it waits
    assert relay()["batchItemFailures"] == []

    assert response["statusCode"] == 201
    order = json_body(response)
    assert order["status"] == "CREATED"
    assert order["total"] == "112.97"
    assert stock_of("LAMP-001") == 1
    assert stock_of("MUG-001") == 99
    [event] = topic.published()
    assert isinstance(event, OrderCreated)
    assert event.order_id == order["order_id"]
    assert event.customer_id == "cust-ada"
    assert event.data.order.customer_email == "ada@example.com"
    assert event.data.payment_token.get_secret_value() == "tok_visa"
    assert outbox_size() == 0


def test_quantity_above_stock_is_409_and_nothing_is_written(api, topic):
    response = place(api, body(("MUG-001", 1), ("LAMP-001", 4)))

    assert response["statusCode"] == 409
    error = json_body(response)["error"]
    assert error["code"] == "OUT_OF_STOCK"
    assert [d["sku"] for d in error["details"]] == ["LAMP-001"]
    assert stock_of("MUG-001") == 100 and stock_of("LAMP-001") == 3
    assert order_count() == 0
    assert outbox_size() == 0


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"items": [', 400, "MALFORMED_JSON"),
        ("", 422, "VALIDATION_ERROR"),
        ("[]", 422, "VALIDATION_ERROR"),
        ("null", 422, "VALIDATION_ERROR"),
        ('{"items": []}', 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 0))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", -1))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 1.5))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("MUG-001", 10**9))), 422, "VALIDATION_ERROR"),
        (json.dumps(body(("NOPE", 1))), 409, "UNKNOWN_SKU"),
        (
            json.dumps({"items": [{"sku": "MUG-001", "quantity": 1}], "payment_token": "tok_visa"}),
            422,
            "VALIDATION_ERROR",
        ),
        (json.dumps(body(("MUG-001", 1), token="4242424242424242")), 422, "VALIDATION_ERROR"),
    ],
)
def test_bad_input_is_a_clear_4xx_that_writes_nothing(api, topic, raw, status, code):
    response = call(api, "POST", "/orders", raw_body=raw)

    assert response["statusCode"] == status, response["body"]
    error = json_body(response)["error"]
    assert error["code"] == code
    assert error["message"]
    assert order_count() == 0
    assert outbox_size() == 0
    assert stock_of("MUG-001") == 100


def test_validation_errors_say_which_field(api):
    response = place(api, body(("MUG-001", 0)))

    fields = [d["field"] for d in json_body(response)["error"]["details"]]
    assert fields == ["items.0.quantity"]


def test_a_customer_reads_their_order_and_nobody_elses(api):
    order_id = json_body(place(api, body(("MUG-001", 1))))["order_id"]

    mine = call(
        api, "GET", f"/orders/{order_id}", resource="/orders/{order_id}", path_parameters={"order_id": order_id}
    )
    theirs = call(
        api,
        "GET",
        f"/orders/{order_id}",
        claims=EVE,
        resource="/orders/{order_id}",
        path_parameters={"order_id": order_id},
    )

    assert mine["statusCode"] == 200
    assert json_body(mine)["order_id"] == order_id
    assert theirs["statusCode"] == 404
    assert json_body(theirs)["error"]["code"] == "ORDER_NOT_FOUND"


def test_no_identity_claims_is_401(api):
    response = place(api, body(("MUG-001", 1)), claims=None)

    assert response["statusCode"] == 401
    assert order_count() == 0


UNVERIFIED_CLAIMS = {
    "false": builders.customer_claims(sub="cust-mallory", email="victim@example.com", email_verified="false"),
    "missing": builders.customer_claims(sub="cust-mallory", email="victim@example.com", email_verified=None),
    "not-a-boolean": builders.customer_claims(sub="cust-mallory", email="victim@example.com", email_verified="yes"),
}
AUTHENTICATED_ROUTES = [  # (method, path, resource, path parameters, body)
    ("POST", "/orders", "/orders", None, body(("MUG-001", 1))),
    ("GET", "/orders", "/orders", None, None),
    ("GET", "/orders/o-1", "/orders/{order_id}", {"order_id": "o-1"}, None),
    ("POST", "/orders/o-1/cancel", "/orders/{order_id}/cancel", {"order_id": "o-1"}, None),
    ("GET", "/orders/o-1/payment", "/orders/{order_id}/payment", {"order_id": "o-1"}, None),
    ("GET", "/orders/o-1/invoice", "/orders/{order_id}/invoice", {"order_id": "o-1"}, None),
    ("PUT", "/inventory/MUG-001", "/inventory/{sku}", {"sku": "MUG-001"}, {"stock": 0}),
]


@pytest.mark.parametrize("claim", sorted(UNVERIFIED_CLAIMS))
@pytest.mark.parametrize("route", AUTHENTICATED_ROUTES, ids=lambda route: f"{route[0]} {route[2]}")
def test_a_token_whose_email_is_not_verified_is_refused_on_every_authenticated_route(api, topic, route, claim):
    method, path, resource, params, request = route
    claims = UNVERIFIED_CLAIMS[claim]
    if method == "PUT":  # an admin's unverified token is refused too
        claims = {**claims, "cognito:groups": "[admin]"}

    response = call(api, method, path, request, claims=claims, resource=resource, path_parameters=params)

    assert response["statusCode"] == 403
    assert json_body(response)["error"] == {
        "code": "EMAIL_NOT_VERIFIED",
        "message": "verify your email address first: this token's email is not verified",
        "details": [],
    }
    assert order_count() == 0 and outbox_size() == 0 and topic.published() == []
    assert stock_of("MUG-001") == 100


def test_the_same_customer_is_served_once_the_email_is_verified(api):
    unverified = builders.customer_claims(sub="cust-ada", email="ada@example.com", email_verified="false")
    verified = builders.customer_claims(sub="cust-ada", email="ada@example.com", email_verified="true")

    refused = place(api, body(("MUG-001", 1)), claims=unverified)
    placed = place(api, body(("MUG-001", 1)), claims=verified)

    assert refused["statusCode"] == 403
    assert placed["statusCode"] == 201
    assert order_count() == 1


def test_unknown_route_is_a_json_404(api):
    response = call(api, "GET", "/nothing-here")

    assert response["statusCode"] == 404
    assert json_body(response)["error"]["code"] == "NOT_FOUND"


def test_an_idempotency_key_makes_a_retry_return_the_same_order(api):
    headers = {"Idempotency-Key": "retry-me-123"}
    first = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)
    again = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)

    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(again)["order_id"] == json_body(first)["order_id"]
    assert again["multiValueHeaders"]["Idempotent-Replayed"] == ["true"]
    assert "Idempotent-Replayed" not in first["multiValueHeaders"]
    assert order_count() == 1 and outbox_size() == 1
    assert stock_of("LAMP-001") == 1


def test_an_idempotency_key_reused_with_another_body_is_409(api):
    headers = {"Idempotency-Key": "retry-me-123"}
    call(api, "POST", "/orders", body(("LAMP-001", 1)), headers=headers)

    response = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)

    assert response["statusCode"] == 409
    assert json_body(response)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert order_count() == 1 and stock_of("LAMP-001") == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_a_malformed_idempotency_key_is_422(api, key):
    response = call(api, "POST", "/orders", body(("LAMP-001", 1)), headers={"Idempotency-Key": key})

    assert response["statusCode"] == 422
    assert order_count() == 0


def test_a_failed_publish_keeps_the_event_in_the_outbox_until_it_goes_through(api, env, topic, monkeypatch):
    order_id = json_body(place(api, body(("MUG-001", 1))))["order_id"]
    broken = load_handler(
        "order_service.handlers.relay_outbox",
        {**env, "ORDER_EVENTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:no-such-topic"},
        monkeypatch,
    )

    stream = outbox_stream_event()
    with pytest.raises(Exception, match="All records failed"):
        broken.handler(stream, builders.lambda_context("outbox-relay"))
    assert outbox_size() == 1 and topic.published() == []

    fixed = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    assert fixed.handler(stream, builders.lambda_context("outbox-relay"))["batchItemFailures"] == []
    [event] = topic.published()
    assert event.order_id == order_id
    assert outbox_size() == 0


class _RefusingOne:
    """The relay's SNS client, with SNS refusing one entry of each PublishBatch (its Failed
    list, as under throttling); every call is counted."""

    def __init__(self, client, refuse_id: str):
        self.client, self.refuse_id = client, refuse_id
        self.calls: list[str] = []

    def publish_batch(self, **params):
        self.calls.append("PublishBatch")
        entries = params["PublishBatchRequestEntries"]
        kept = [entry for entry in entries if entry["Id"] != self.refuse_id]
        answer = self.client.publish_batch(**{**params, "PublishBatchRequestEntries": kept})
        failed = [{"Id": self.refuse_id, "Code": "Throttled", "SenderFault": False}] if len(kept) < len(entries) else []
        return {**answer, "Failed": answer.get("Failed", []) + failed}

    def __getattr__(self, name):
        self.calls.append(name)
        return getattr(self.client, name)


def test_the_relay_publishes_a_batch_in_one_request_and_an_entry_sns_refuses_waits_alone(api, env, topic, monkeypatch):
    orders = [json_body(place(api, body(("MUG-001", 1))))["order_id"] for _ in range(3)]
    relay = load_handler("order_service.handlers.relay_outbox", env, monkeypatch)
    sns = _RefusingOne(relay.publisher.client, refuse_id="1")
    monkeypatch.setattr(relay.publisher, "client", sns)
    stream = outbox_stream_event()
    records = stream["Records"]

    failures = relay.handler(stream, builders.lambda_context("outbox-relay"))["batchItemFailures"]

    # Three events, one PublishBatch request.
    assert sns.calls == ["PublishBatch"]
    assert failures == [{"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]}]
    published = topic.published()
    refused = records[1]["dynamodb"]["Keys"]["event_id"]["S"]
    assert len(published) == 2 and refused not in {event.event_id for event in published}
    assert outbox_size() == 1  # the refused one waits in the outbox

    # The stream resumes from the failed record: it and the ones after it come again.
    sns.refuse_id = "none"
    retry = {"Records": records[1:]}
    assert relay.handler(retry, builders.lambda_context("outbox-relay"))["batchItemFailures"] == []
    again = topic.published()
    assert refused in {event.event_id for event in again}
    assert {event.order_id for event in published + again} == set(orders)
    assert outbox_size() == 0


# ------------------------------------------------------------------ the OpenAPI document
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def openapi_document(api):
    response = call(api, "GET", "/openapi.json", claims=None)
    assert response["statusCode"] == 200
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return json_body(response)


def schema_of(document, ref):
    name = ref["$ref"].removeprefix("#/components/schemas/")
    return document["components"]["schemas"][name]


def json_content(response_or_body):
    return response_or_body["content"]["application/json"]["schema"]


def test_the_openapi_document_is_public_valid_openapi_3_and_lists_every_operation(api):
    document = openapi_document(api)

    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "Order choreography API"
    assert document["info"]["version"] == "2.0.0"
    assert "servers" not in document  # relative to where it is served: the stage
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema
    operations = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    assert operations == {
        ("GET", "/products"),
        ("POST", "/orders"),
        ("GET", "/orders/{order_id}"),
        ("GET", "/openapi.json"),
        ("GET", "/orders"),
        ("POST", "/orders/{order_id}/cancel"),
        ("GET", "/orders/{order_id}/payment"),
        ("GET", "/orders/{order_id}/invoice"),
        ("GET", "/products/{sku}"),
        ("PUT", "/inventory/{sku}"),
    }
    text = json.dumps(document)
    for ref in set(re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', text)):
        assert ref in document["components"]["schemas"], ref
    for operation in (op for item in document["paths"].values() for op in item.values()):
        assert operation["summary"] and operation["description"] and operation["tags"]
        assert all(response["description"] for response in operation["responses"].values())
    assert "HTTPValidationError" not in text  # Powertools' own 422 body, which this API never answers


def test_the_document_describes_the_order_request_and_answers_with_the_models(api):
    document = openapi_document(api)
    post = document["paths"]["/orders"]["post"]
    read = document["paths"]["/orders/{order_id}"]["get"]

    request = schema_of(document, json_content(post["requestBody"]))
    assert post["requestBody"]["required"] is True
    assert set(request["required"]) == {"items", "shipping_address", "payment_token"}
    assert request["properties"]["items"]["maxItems"] == 50
    assert schema_of(document, request["properties"]["items"]["items"])["properties"]["quantity"]["maximum"] == 100
    assert request["properties"]["payment_token"]["pattern"] == "^tok_[A-Za-z0-9_]{1,64}$"
    [idempotency_key] = post["parameters"]
    assert (idempotency_key["in"], idempotency_key["name"].lower()) == ("header", "idempotency-key")

    assert set(post["responses"]) == {"201", "400", "401", "403", "409", "422", "503"}
    assert set(read["responses"]) == {"200", "401", "403", "404", "422"}
    assert json_content(post["responses"]["201"]) == {"$ref": "#/components/schemas/OrderView"}
    assert json_content(read["responses"]["200"]) == {"$ref": "#/components/schemas/OrderView"}
    assert "Idempotent-Replayed" in post["responses"]["201"]["headers"]
    for operation, status in [(post, "400"), (post, "409"), (post, "422"), (read, "404"), (read, "422")]:
        assert json_content(operation["responses"][status]) == {"$ref": "#/components/schemas/ErrorResponse"}
    products = document["paths"]["/products"]["get"]["responses"]
    assert json_content(products["200"]) == {"$ref": "#/components/schemas/ProductList"}

    # Responses are described as they are serialised: money a decimal string, facts nullable.
    order = document["components"]["schemas"]["OrderView"]
    assert order["properties"]["total"]["type"] == "string"
    assert {"type": "null"} in order["properties"]["tracking_number"]["anyOf"]
    assert document["components"]["schemas"]["ProductView"]["properties"]["price"]["type"] == "string"


def test_the_document_names_the_id_token_and_leaves_the_catalogue_and_itself_public(api):
    document = openapi_document(api)

    assert document["components"]["securitySchemes"] == {
        "CognitoIdToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A Cognito user-pool ID token, as the whole header value (no `Bearer` prefix)",
        }
    }
    assert "security" not in document  # no global requirement: per operation
    paths = document["paths"]
    assert paths["/orders"]["post"]["security"] == [{"CognitoIdToken": []}]
    assert paths["/orders/{order_id}"]["get"]["security"] == [{"CognitoIdToken": []}]
    assert "security" not in paths["/products"]["get"] and "security" not in paths["/openapi.json"]["get"]
    # API Gateway's own 401 body must satisfy what the document says of a 401, as ours does.
    unauthorized = json_content(paths["/orders"]["post"]["responses"]["401"])
    assert {"$ref": "#/components/schemas/ErrorResponse"} in unauthorized["anyOf"]
    assert {"$ref": "#/components/schemas/GatewayError"} in unauthorized["anyOf"]


def test_every_authenticated_operation_documents_the_unverified_email_403(api):
    document = openapi_document(api)
    operations = [
        (f"{method.upper()} {path}", operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if operation.get("security")
    ]

    assert len(operations) == len(AUTHENTICATED_ROUTES)
    for name, operation in operations:
        refused = operation["responses"].get("403")
        assert refused is not None, name
        assert "EMAIL_NOT_VERIFIED" in refused["description"], name
        assert json_content(refused) == {"$ref": "#/components/schemas/ErrorResponse"}, name


def conforms(document, method, path, response, **case):
    """The handler's answer, as API Gateway passes it on, is one the document describes."""
    operation = schemathesis.openapi.from_dict(document)[path][method]
    http = schemathesis.Response(
        status_code=response["statusCode"],
        headers={name: values for name, values in response["multiValueHeaders"].items()},
        content=response["body"].encode(),
        request=requests.Request(method, f"https://api.example.com/v1{path}").prepare(),
        elapsed=0.0,
        verify=True,
    )
    operation.Case(**case).validate_response(http, checks=CHECKS)
    return response["statusCode"]


def test_every_answer_of_the_handler_is_one_the_document_describes(api, relay):
    document = openapi_document(api)
    headers = {"Idempotency-Key": "conform-1"}
    placed = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)
    order_id = json_body(placed)["order_id"]
    relay()

    def read(order_id, claims=ADA):
        params = {"resource": "/orders/{order_id}", "path_parameters": {"order_id": order_id}}
        return call(api, "GET", f"/orders/{order_id}", claims=claims, **params)

    answers = [
        ("POST", "/orders", placed),
        ("POST", "/orders", call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)),
        ("POST", "/orders", place(api, body(("LAMP-001", 2)))),
        ("POST", "/orders", call(api, "POST", "/orders", body(("LAMP-001", 1)), headers=headers)),
        ("POST", "/orders", place(api, body(("NOPE", 1)))),
        ("POST", "/orders", call(api, "POST", "/orders", raw_body='{"items": [')),
        ("POST", "/orders", place(api, body(("MUG-001", 1)), claims=None)),
        ("GET", "/orders/{order_id}", read(order_id)),
        ("GET", "/orders/{order_id}", read(order_id, claims=EVE)),
        ("GET", "/orders/{order_id}", read("x" * 65)),
        ("GET", "/orders/{order_id}", read(order_id, claims=None)),
        ("GET", "/orders/{order_id}", read(order_id, claims=UNVERIFIED_CLAIMS["false"])),
        ("POST", "/orders", place(api, body(("MUG-001", 1)), claims=UNVERIFIED_CLAIMS["missing"])),
        ("GET", "/products", call(api, "GET", "/products", claims=None)),
        ("GET", "/openapi.json", call(api, "GET", "/openapi.json", claims=None)),
    ]

    statuses = [
        conforms(document, method, path, response, path_parameters={"order_id": order_id} if "{" in path else None)
        for method, path, response in answers
    ]
    assert statuses == [201, 201, 409, 409, 409, 400, 401, 200, 404, 422, 401, 403, 403, 200, 200]


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,  # nested deeper than the recursion limit
        '{"items": [{"sku": "MUG-001", "quantity": ' + "9" * 5000 + "}]}",  # past int's 4300 digits
    ],
    ids=["deep-nesting", "huge-integer"],
)
def test_json_the_parser_cannot_take_is_a_400_not_a_crash(api, raw):
    response = call(api, "POST", "/orders", raw_body=raw)

    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "MALFORMED_JSON"
    assert order_count() == 0


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("multipart/form-data", "--x\r\n"),  # no boundary
        ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=items\r\n\r\n€\r\n--x--"),
    ],
    ids=["no-boundary", "not-latin-1"],
)
@pytest.mark.filterwarnings("ignore:Received multipart/form-data without base64 encoding:UserWarning")
def test_a_multipart_body_is_refused_like_any_body_that_is_not_json(api, content_type, raw):
    response = call(api, "POST", "/orders", raw_body=raw, headers={"Content-Type": content_type})

    assert response["statusCode"] == 422
    error = json_body(response)["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"][0]["type"] == "unsupported_content_type"
    assert order_count() == 0


def test_every_operation_with_a_body_documents_the_malformed_json_answer(api):
    document = openapi_document(api)

    with_body = [
        (method, path) for path, item in document["paths"].items() for method, op in item.items() if "requestBody" in op
    ]

    assert sorted(with_body) == [("post", "/orders"), ("put", "/inventory/{sku}")]
    for method, path in with_body:
        assert "400" in document["paths"][path][method]["responses"], (method, path)


def idempotency_records() -> list[dict]:
    return boto3.client("dynamodb").scan(TableName="idempotency", ConsistentRead=True)["Items"]


def test_an_idempotency_key_is_recorded_in_the_order_services_own_format(api):
    placed = call(api, "POST", "/orders", body(("LAMP-001", 1)), headers={"Idempotency-Key": "key-1"})

    [record] = idempotency_records()
    assert record["id"]["S"] == "order-api/idempotency-key#cust-ada#key-1"
    # Not a Powertools record: no status, no saved response; `expiration` is the table's TTL.
    assert set(record) == {"id", "request_hash", "order_id", "expiration"}
    assert record["order_id"]["S"] == json_body(placed)["order_id"]


def test_a_key_recorded_before_the_own_prefix_still_replays_its_order(api):
    headers = {"Idempotency-Key": "key-1"}
    first = call(api, "POST", "/orders", body(("LAMP-001", 1)), headers=headers)
    [record] = idempotency_records()
    dynamodb = boto3.client("dynamodb")
    dynamodb.delete_item(TableName="idempotency", Key={"id": record["id"]})
    dynamodb.put_item(TableName="idempotency", Item={**record, "id": {"S": "order_service.place_order#cust-ada#key-1"}})

    again = call(api, "POST", "/orders", body(("LAMP-001", 1)), headers=headers)
    reused = call(api, "POST", "/orders", body(("LAMP-001", 2)), headers=headers)

    assert again["statusCode"] == 201 and again["multiValueHeaders"]["Idempotent-Replayed"] == ["true"]
    assert json_body(again)["order_id"] == json_body(first)["order_id"]
    assert reused["statusCode"] == 409 and json_body(reused)["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert order_count() == 1 and stock_of("LAMP-001") == 2
