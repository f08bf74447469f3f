"""Claim a row, call out, commit, publish: the loop billing and shipment share.

A consumer that calls a dependency for an event (charge a card, book a parcel, refund a
charge) must do it at most once per order, although events arrive more than once,
concurrently, interleaved with other events of the same order, and a handler may crash
half-way. They agree on one row per order, written only conditionally:

1. read the row (None: the order has none yet);
2. `decide`, from that row alone, the next step:
   - `Write(row)`: write `row` over the row as read (create it if there was none),
     conditionally: a claim before a call, or a decision that needs no call;
   - `Call(call)`: call out (with the event's id as idempotency key, so a retry gets the
     first answer) and write what `call` returns over the row as read: the commit;
   - `Done(result, announce)`: nothing more to write; publish `announce` if any (derived
     from the stored row with a deterministic event id, so publishing it again after a
     crash is a duplicate every consumer drops) and return `result`;
3. a write that lands goes on with the row written: to `then(row)` (a Done) if the step
   has one, else back to `decide`; a write that loses (another event or delivery wrote
   first) reads the row again and decides anew.

Rows only move forward, so a handler loses a write only a few times: after `rounds`
reads the next lost write raises `contention()` (the record fails, SQS retries it).
Anything `decide` or `call` raises propagates with nothing written, leaving a claim in
place for the retry of the same event to resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from events.models import Event
    from events.publisher import Publisher

RowT = TypeVar("RowT")
ResultT = TypeVar("ResultT")


@dataclass(frozen=True)
class Done(Generic[ResultT]):
    result: ResultT
    announce: Event[Any] | None = None


@dataclass(frozen=True)
class Write(Generic[RowT, ResultT]):
    row: RowT
    then: Callable[[RowT], Done[ResultT]] | None = None


@dataclass(frozen=True)
class Call(Generic[RowT, ResultT]):
    call: Callable[[], RowT]
    then: Callable[[RowT], Done[ResultT]] | None = None


Step = Write[RowT, ResultT] | Call[RowT, ResultT] | Done[ResultT]


def claim_call_commit(
    *,
    read: Callable[[], RowT | None],
    write: Callable[[RowT | None, RowT], bool],
    decide: Callable[[RowT | None], Step[RowT, ResultT]],
    rounds: int,
    contention: Callable[[], Exception],
    publisher: Publisher | None = None,
) -> ResultT:
    """Run the steps `decide` picks until one is Done; see the module's docstring.

    `write(current, new)` writes `new` only if the stored row is still `current` (None:
    only if there is none) and says whether it did. Without a publisher, a Done that
    announces something is a bug (ValueError)."""
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    row = read()
    reads = 1
    while True:
        step = decide(row)
        if isinstance(step, Write | Call):
            new = step.row if isinstance(step, Write) else step.call()
            if not write(row, new):
                if reads >= rounds:
                    raise contention()
                row = read()
                reads += 1
                continue
            if step.then is None:
                row = new
                continue
            step = step.then(new)
        if step.announce is not None:
            if publisher is None:
                raise ValueError(f"nothing to publish {step.announce.event_type.value} with")
            publisher.publish(step.announce)
        return step.result
