"""What the order service's DynamoDB stores share: the item mapping (events/items.py,
the one every service uses), which refusals are transient, and the retry of those.

One store per table: products.py (catalogue and stock), orders.py (the orders),
outbox.py (events waiting to be published), idempotency_keys.py (POST /orders'
Idempotency-Keys). order_store.py puts their writes into one transaction where a change
must span tables.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from events.items import from_item, to_attribute, to_item
from events.retries import call_with_retries
from order_service.domain.errors import StoreBusy

__all__ = ["from_item", "to_attribute", "to_item"]  # the item mapping every service shares

T = TypeVar("T")


def dynamodb_client(client: Any = None) -> Any:
    """`client`, or the process's shared DynamoDB client (created on first use)."""
    if client is not None:
        return client
    from events.aws import client as make_client

    return make_client("dynamodb")


def cancellation_codes(error: ClientError) -> list[str]:
    return [reason.get("Code", "") for reason in error.response.get("CancellationReasons", [])]


# Why DynamoDB refuses a request without it saying anything about the data: another
# write touched an item of the transaction at the same moment, or throttling outlasted
# botocore's own retries. Only ConditionalCheckFailed means "not allowed".
TRANSIENT_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
TRANSIENT_ERRORS = frozenset(
    {
        "TransactionConflictException",
        "TransactionInProgressException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
    }
)
ATTEMPTS = 4  # in the invocation, with jittered backoff; then StoreBusy


def is_transient(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    if code == "TransactionCanceledException":
        codes = cancellation_codes(error)
        return "ConditionalCheckFailed" not in codes and any(c in TRANSIENT_REASONS for c in codes)
    return code in TRANSIENT_ERRORS


def transient_as_busy(error: ClientError) -> None:
    if is_transient(error):
        raise StoreBusy(error.response.get("Error", {}).get("Code", "")) from error


def retrying(call: Callable[[], T]) -> T:
    """`call` again after a transient refusal, with jittered backoff; StoreBusy at last."""
    return call_with_retries(call, attempts=ATTEMPTS, base_delay=0.05, retry_on=(StoreBusy,))


def transact_if(client: Any, items: list[dict[str, Any]]) -> bool:
    """One transaction; False when the condition of its first item (the order, whose
    condition encodes the rule) does not hold. A conflict or throttle is retried,
    then raises StoreBusy: it says nothing about whether the rule holds."""

    def attempt() -> bool:
        try:
            client.transact_write_items(TransactItems=items)
        except ClientError as error:
            transient_as_busy(error)
            codes = cancellation_codes(error)
            if error.response["Error"]["Code"] == "TransactionCanceledException" and codes[:1] == [
                "ConditionalCheckFailed"
            ]:
                return False
            raise
        return True

    return retrying(attempt)


def update_if(client: Any, update: dict[str, Any]) -> bool:
    """One conditional UpdateItem, as transact_if for a write of one item: False when its
    condition does not hold; a conflict or throttle is retried, then StoreBusy. Half the
    write units of a transaction of one item (a transactional write costs two per KB)."""

    def attempt() -> bool:
        try:
            client.update_item(**update)
        except ClientError as error:
            transient_as_busy(error)
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    return retrying(attempt)
