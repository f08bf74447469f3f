"""The first level of retry, as a real client's, and the errors it retries.

`call_with_retries` retries a transient error (TransientDependencyError, or what the
caller names) a couple of times with jittered backoff; what still fails propagates, the
SQS record fails and SQS redelivers it later (the second level; after 5 receives, the
DLQ).

Standard library only: every consumer imports this at cold start.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class TransientDependencyError(Exception):
    """A dependency failed in a way that a later attempt may not: worth retrying."""

    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation


class DependencyTimeout(TransientDependencyError):
    """No answer in time. The call may still have taken effect."""


class DependencyThrottled(TransientDependencyError):
    """Refused for the request rate (429 / ThrottlingException), before doing anything."""


class DependencyUnavailable(TransientDependencyError):
    """A 5xx: the dependency could not serve the request, and did nothing."""


def call_with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    base_delay: float = 0.05,
    retry_on: tuple[type[BaseException], ...] = (TransientDependencyError,),
    sleep: Callable[[float], None] | None = None,
    rng: random.Random | None = None,
) -> T:
    """Call `fn` up to `attempts` times in all, retrying only `retry_on` errors.

    Before retry n (1, 2, ...) it sleeps a random time in [0, base_delay * 2**(n-1)]
    ("full jitter"), so instances throttled together do not come back together. The
    last error propagates: the SQS record fails and SQS retries it later.
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, got {attempts}")
    pause = sleep or time.sleep
    jitter = rng.uniform if rng is not None else random.uniform
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except retry_on:
            if attempt == attempts:
                raise
            pause(jitter(0.0, base_delay * 2 ** (attempt - 1)))
    raise AssertionError("unreachable")  # pragma: no cover
