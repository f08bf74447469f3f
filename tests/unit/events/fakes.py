"""Stand-ins for the fault switch's randomness and for SQS redelivery."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from events.models import Event
from tests.builders import sqs_record

if TYPE_CHECKING:
    from _typeshed import SupportsLenAndGetItem

T = TypeVar("T")


class ScriptedRandom(random.Random):
    """random() answers the scripted draws in turn (below the fault rate: a fault);
    one draw more than scripted fails the test, e.g. an unexpected retry. choice()
    takes the first: the first of the injector's kinds."""

    def __init__(self, draws: Iterable[float]) -> None:
        super().__init__(0)
        self._draws = list(draws)

    def random(self) -> float:
        if not self._draws:
            raise AssertionError("more random draws than scripted")
        return self._draws.pop(0)

    def choice(self, seq: SupportsLenAndGetItem[T]) -> T:
        return seq[0]


def redeliver_until_settled(
    invoke: Callable[[dict[str, Any]], dict[str, Any]],
    events: Sequence[Event[Any] | str],
    *,
    max_receives: int = 5,
) -> list[int]:
    """Deliver `events` in one SQS batch, then redeliver the records reported failed,
    each under its own message id with a growing receive count, as SQS does after the
    visibility timeout, until none fails. Returns how many records failed per receive.

    A record still failing after `max_receives` (the queues' maxReceiveCount) would
    have gone to the DLQ: that fails the test."""
    pending = {str(uuid.uuid4()): event for event in events}
    failed_per_receive: list[int] = []
    for receive in range(1, max_receives + 1):
        batch = {"Records": [sqs_record(event, message_id, receive) for message_id, event in pending.items()]}
        try:
            failed = {failure["itemIdentifier"] for failure in invoke(batch)["batchItemFailures"]}
        except BatchProcessingError:
            failed = set(pending)  # every record failed: Powertools fails the whole invocation
        failed_per_receive.append(len(failed))
        pending = {message_id: event for message_id, event in pending.items() if message_id in failed}
        if not pending:
            return failed_per_receive
    raise AssertionError(f"{len(pending)} records still failing after {max_receives} receives: DLQ")
