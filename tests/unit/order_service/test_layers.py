"""The order service's layers: the domain knows nothing of the API, the API's wire format
nothing of the domain; handlers/mapping.py is the one place that knows both."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path

import pytest

from order_service.domain import errors as errors_module
from order_service.domain.errors import OrderError
from order_service.domain.lifecycle import OrderStatus as DomainStatus
from order_service.handlers.errors import HTTP_STATUS
from order_service.handlers.mapping import place_order_command
from order_service.models.api import PLACE_ORDER_EXAMPLE, OrderStatus, PlaceOrderRequest
from tests import builders

PACKAGE = Path(__file__).resolve().parents[3] / "order_service"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return found


@pytest.mark.parametrize(
    ("layer", "must_not_import"),
    [
        ("domain", ("order_service.models", "order_service.handlers", "order_service.adapters", "boto3")),
        ("models", ("order_service.domain", "order_service.handlers", "order_service.adapters")),
    ],
)
def test_a_layer_does_not_import_another_that_it_must_not_know(layer: str, must_not_import: tuple[str, ...]) -> None:
    leaks = {
        f"{path.name} imports {module}"
        for path in sorted((PACKAGE / layer).glob("*.py"))
        for module in _imports(path)
        if module.startswith(must_not_import)
    }
    assert not leaks


def test_the_api_shows_every_status_of_the_domain_by_the_same_name() -> None:
    assert [status.value for status in OrderStatus] == [status.value for status in DomainStatus]


def test_a_command_has_the_fingerprint_its_api_body_had_before_the_command_existed() -> None:
    # Idempotency-Key records written before the domain took a command of its own hold the
    # hash of the API body's JSON; a retry after the change must still match them.
    body = PlaceOrderRequest.model_validate(
        {
            "items": [{"sku": "MUG-001", "quantity": 2, "price": "0.01"}, {"sku": "TEE-001", "quantity": 1.0}],
            "shipping_address": {**builders.address().model_dump(), "city": "  London "},
            "payment_token": "tok_visa",
        }
    )

    command = place_order_command(body)

    assert command.fingerprint() == hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    assert command.shipping_address.city == "London"


def test_every_domain_error_has_its_http_status_in_the_handler_layer() -> None:
    domain_errors = [
        cls
        for cls in vars(errors_module).values()
        if isinstance(cls, type) and issubclass(cls, OrderError) and cls is not OrderError
    ]

    assert domain_errors
    assert all(not hasattr(cls, "http_status") for cls in domain_errors)
    assert [cls.__name__ for cls in domain_errors if cls not in HTTP_STATUS] == []


def test_the_openapi_example_of_post_orders_is_a_body_the_api_takes() -> None:
    request = PlaceOrderRequest.model_validate(PLACE_ORDER_EXAMPLE)

    assert place_order_command(request).items[0].sku == "MUG-001"
