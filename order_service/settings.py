"""Each order function's environment: one settings model per function, holding only what
that function uses, validated at cold start. A required value has no default: a missing
or empty one fails the import, naming the variable, rather than the first call."""

from __future__ import annotations

from typing import Annotated, TypeVar

from pydantic import Field, ValidationError

from events.settings import Settings

Required = Annotated[str, Field(min_length=1)]
SettingsT = TypeVar("SettingsT", bound="OrderSettings")


class MissingSettings(RuntimeError):
    """The function's environment lacks a value it needs (or holds an unusable one)."""


class OrderSettings(Settings):
    @classmethod
    def from_env(cls: type[SettingsT]) -> SettingsT:
        try:
            return super().from_env()
        except ValidationError as error:
            problems = "; ".join(
                f"{str(problem['loc'][0]).upper()}: {problem['msg']}" for problem in error.errors(include_url=False)
            )
            raise MissingSettings(f"{cls.__name__} cannot start, its environment is incomplete: {problems}") from None


class ApiSettings(OrderSettings):
    """OrderApiFunction (handlers/api.py)."""

    orders_table: Required
    products_table: Required
    outbox_table: Required
    idempotency_table: Required  # also remembers POST /orders Idempotency-Keys (adapters/idempotency_keys.py)
    payment_token_key_id: Required  # KMS key sealing payment tokens in the outbox
    invoice_bucket: Required  # where the invoice service stores invoices (the API hands out links)
    invoice_link_seconds: int = 3600
    console_origin: str = ""  # the web console's origin, the only one CORS allows ("" = no CORS)


class StatusSettings(OrderSettings):
    """OrderStatusFunction (handlers/handle_order_events.py)."""

    orders_table: Required
    products_table: Required  # stock goes back on sale when an order fails or is cancelled


class RelaySettings(OrderSettings):
    """OrderOutboxFunction (handlers/relay_outbox.py)."""

    outbox_table: Required
    payment_token_key_id: Required  # unseals the payment tokens waiting in the outbox
    order_events_topic_arn: Required


class SweepSettings(RelaySettings):
    """OrderOutboxSweepFunction (handlers/sweep_outbox.py)."""

    outbox_sweep_after_seconds: int = 300  # republishes outbox entries older than this
