"""Each order function reads only the settings it uses, and a missing one stops its cold
start with the variable's name (not the first call that needs it)."""

from __future__ import annotations

import pytest

from order_service.settings import MissingSettings
from tests.integration.conftest import load_handler

ORDER_VARIABLES = (
    "ORDERS_TABLE",
    "PRODUCTS_TABLE",
    "OUTBOX_TABLE",
    "IDEMPOTENCY_TABLE",
    "PAYMENT_TOKEN_KEY_ID",
    "INVOICE_BUCKET",
    "ORDER_EVENTS_TOPIC_ARN",
)
# What each function needs, and nothing more.
NEEDS = {
    "order_service.handlers.api": (
        "ORDERS_TABLE",
        "PRODUCTS_TABLE",
        "OUTBOX_TABLE",
        "IDEMPOTENCY_TABLE",
        "PAYMENT_TOKEN_KEY_ID",
        "INVOICE_BUCKET",
    ),
    "order_service.handlers.handle_order_events": ("ORDERS_TABLE", "PRODUCTS_TABLE"),
    "order_service.handlers.relay_outbox": ("OUTBOX_TABLE", "PAYMENT_TOKEN_KEY_ID", "ORDER_EVENTS_TOPIC_ARN"),
    "order_service.handlers.sweep_outbox": ("OUTBOX_TABLE", "PAYMENT_TOKEN_KEY_ID", "ORDER_EVENTS_TOPIC_ARN"),
}


def _only(env: dict[str, str], names: tuple[str, ...], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in ORDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return {name: env[name] for name in names}


@pytest.mark.parametrize("module", sorted(NEEDS))
def test_a_function_starts_with_only_the_settings_it_uses(module, env, monkeypatch):
    loaded = load_handler(module, _only(env, NEEDS[module], monkeypatch), monkeypatch)

    assert callable(loaded.handler)


@pytest.mark.parametrize(("module", "missing"), [(m, name) for m, names in sorted(NEEDS.items()) for name in names])
@pytest.mark.parametrize("value", [None, ""], ids=["unset", "empty"])
def test_a_missing_setting_stops_the_cold_start_and_names_the_variable(module, missing, value, env, monkeypatch):
    given = _only(env, tuple(name for name in NEEDS[module] if name != missing), monkeypatch)
    if value is not None:
        given[missing] = value

    with pytest.raises(MissingSettings, match=missing):
        load_handler(module, given, monkeypatch)
