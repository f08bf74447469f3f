"""The client's first level of retry (call_with_retries) and the errors it retries."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from events.retries import (
    DependencyThrottled,
    DependencyTimeout,
    DependencyUnavailable,
    call_with_retries,
)

OPERATION = "payment_provider.charge"

# ---------------------------------------------------------------- call_with_retries


class Flaky:
    """Raises the given errors in turn, then answers."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def _throttled() -> DependencyThrottled:
    return DependencyThrottled(OPERATION, "throttled")


def test_transient_errors_are_retried_until_the_call_succeeds() -> None:
    fn = Flaky(_throttled(), DependencyUnavailable(OPERATION, "503"))
    sleeps = Sleeps()

    assert call_with_retries(fn, attempts=3, sleep=sleeps) == "ok"

    assert fn.calls == 3
    assert len(sleeps.delays) == 2


def test_a_call_that_succeeds_at_once_neither_retries_nor_sleeps() -> None:
    fn = Flaky()
    sleeps = Sleeps()
    assert call_with_retries(fn, sleep=sleeps) == "ok"
    assert (fn.calls, sleeps.delays) == (1, [])


@pytest.mark.parametrize("error", [ValueError("bad request"), LookupError("declined"), ConnectionError("reset")])
def test_other_errors_are_not_retried(error: Exception) -> None:
    fn = Flaky(error)
    sleeps = Sleeps()

    with pytest.raises(type(error)):
        call_with_retries(fn, attempts=5, sleep=sleeps)

    assert fn.calls == 1
    assert sleeps.delays == []


@pytest.mark.parametrize("attempts", [1, 2, 3, 5])
def test_it_gives_up_after_the_given_attempts_with_the_last_error(attempts: int) -> None:
    errors = [DependencyTimeout(OPERATION, f"timeout {n}") for n in range(attempts + 1)]
    fn = Flaky(*errors)
    sleeps = Sleeps()

    with pytest.raises(DependencyTimeout) as raised:
        call_with_retries(fn, attempts=attempts, sleep=sleeps)

    assert fn.calls == attempts
    assert raised.value is errors[attempts - 1]
    assert len(sleeps.delays) == attempts - 1


def test_the_default_is_the_first_call_and_two_retries() -> None:
    fn = Flaky(*[_throttled() for _ in range(5)])
    with pytest.raises(DependencyThrottled):
        call_with_retries(fn, sleep=Sleeps())
    assert fn.calls == 3


def test_the_backoff_is_jittered_and_doubles_its_ceiling() -> None:
    fn = Flaky(*[_throttled() for _ in range(10)])
    sleeps = Sleeps()

    with pytest.raises(DependencyThrottled):
        call_with_retries(fn, attempts=5, base_delay=0.1, sleep=sleeps, rng=random.Random(9))

    ceilings = [0.1, 0.2, 0.4, 0.8]
    assert len(sleeps.delays) == len(ceilings)
    assert all(0.0 <= delay <= ceiling for delay, ceiling in zip(sleeps.delays, ceilings, strict=True))
    assert len(set(sleeps.delays)) == len(sleeps.delays)  # jittered, not a fixed schedule


class Highest(random.Random):
    def uniform(self, a: float, b: float) -> float:
        return b


def test_the_longest_possible_wait_is_the_sum_of_the_ceilings() -> None:
    sleeps = Sleeps()
    with pytest.raises(DependencyThrottled):
        call_with_retries(Flaky(*[_throttled() for _ in range(3)]), sleep=sleeps, rng=Highest())
    assert sleeps.delays == [0.05, 0.1]


def test_retry_on_chooses_what_is_retried() -> None:
    fn = Flaky(ConnectionError("reset"))
    assert call_with_retries(fn, retry_on=(ConnectionError,), sleep=Sleeps()) == "ok"
    assert fn.calls == 2


def test_attempts_below_one_are_refused() -> None:
    fn: Callable[[], str] = Flaky()
    with pytest.raises(ValueError):
        call_with_retries(fn, attempts=0)
