"""The order functions' deployed environments against their settings models: every value
a function requires is there (a missing one would stop its cold start), and a function is
given no table or key it does not use."""

from __future__ import annotations

import pytest

from order_service.settings import ApiSettings, OrderSettings, RelaySettings, StatusSettings, SweepSettings
from tests.contract.template import functions, template

SETTINGS: dict[str, type[OrderSettings]] = {
    "OrderApiFunction": ApiSettings,
    "OrderStatusFunction": StatusSettings,
    "OrderOutboxFunction": RelaySettings,
    "OrderOutboxSweepFunction": SweepSettings,
}
POWERTOOLS = {"POWERTOOLS_SERVICE_NAME"}


def _own_environment(function: str) -> dict[str, object]:
    return dict(functions()[function]["Properties"]["Environment"]["Variables"])


@pytest.mark.parametrize("function", sorted(SETTINGS))
def test_every_setting_an_order_function_requires_is_in_its_deployed_environment(function: str) -> None:
    deployed = {**template()["Globals"]["Function"]["Environment"]["Variables"], **_own_environment(function)}
    fields = SETTINGS[function].model_fields
    required = {name.upper() for name, field in fields.items() if field.is_required()}

    assert required - set(deployed) == set()


@pytest.mark.parametrize("function", sorted(SETTINGS))
def test_an_order_function_is_given_nothing_it_does_not_read(function: str) -> None:
    read = {name.upper() for name in SETTINGS[function].model_fields}

    assert set(_own_environment(function)) - read - POWERTOOLS == set()
