"""One correlation id, end to end.

Every log line about an order carries two keys:

- `order_id`: the order it is about;
- `correlation_id`: the id of the saga the order's events belong to, defined once as the
  id of the request that started it: the API Gateway request id of the `POST /orders`
  that placed the order. It is the envelope's `correlation_id` of every event of that
  order (ORDER_CREATED takes it from the request, every later event from its cause, and
  ORDER_CANCELLED from the stored order), so one value finds the request, every event
  and every log line of one order, whichever service wrote them.

The keys live only as long as the work on one order: `order_context` removes them when
the record (or the request) is done, so the next record of a batch, or the next
invocation of a warm function, never logs someone else's ids. Handlers also clear the
logger's state at every invocation (`inject_lambda_context(clear_state=True)`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from events.observability import logger, tracer

if TYPE_CHECKING:
    from events.models import Event

ORDER_KEYS = ("order_id", "correlation_id", "event_id", "event_type", "upstream_trace_id")


def upstream_trace_id(trace_header: str | None) -> str | None:
    """The X-Ray trace id (`Root=...`) an SQS message carries in its AWSTraceHeader
    attribute: the trace of the publish that sent it, when tracing is on."""
    for part in (trace_header or "").split(";"):
        key, _, value = part.partition("=")
        if key.strip() == "Root" and value:
            return value.strip()
    return None


def bind_order(order_id: str, correlation_id: str | None) -> None:
    """Put an order's ids on every following log line (until `unbind_order`)."""
    logger.append_keys(order_id=order_id, correlation_id=correlation_id)


def unbind_order() -> None:
    logger.remove_keys(list(ORDER_KEYS))


@contextmanager
def order_context(event: Event[Any], trace_header: str | None = None) -> Iterator[None]:
    """The log keys (and, where tracing is on, an X-Ray subsegment annotated with the
    ids) of the work on one event; removed when it ends, however it ends."""
    keys: dict[str, Any] = {
        "order_id": event.order_id,
        "correlation_id": event.correlation_id,
        "event_id": event.event_id,
        "event_type": event.event_type.value,
    }
    upstream = upstream_trace_id(trace_header)
    if upstream:
        keys["upstream_trace_id"] = upstream
    logger.append_keys(**keys)
    try:
        with tracer.provider.in_subsegment(f"## {event.event_type.value}") as subsegment:
            # Annotations are indexed: X-Ray finds the traces of one order by these.
            subsegment.put_annotation("order_id", event.order_id)
            subsegment.put_annotation("correlation_id", event.correlation_id)
            subsegment.put_annotation("event_type", event.event_type.value)
            yield
    finally:
        unbind_order()
