"""The fault switch (FaultInjector) and the in-process retries (call_with_retries)."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from events.faults import (
    DependencyThrottled,
    DependencyTimeout,
    DependencyUnavailable,
    FaultInjector,
    FaultKind,
    TransientDependencyError,
    call_with_retries,
)

OPERATION = "payment_provider.charge"
ERROR_OF_KIND = {
    FaultKind.TIMEOUT: DependencyTimeout,
    FaultKind.THROTTLE: DependencyThrottled,
    FaultKind.UNAVAILABLE: DependencyUnavailable,
}


class ListLog:
    """A logger that keeps what it was given."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, dict[str, object]]] = []

    def warning(self, msg: str, *args: Any, extra: Mapping[str, object] | None = None) -> None:
        self.lines.append((msg, dict(extra or {})))


def outcomes(faults: FaultInjector, calls: int) -> Counter[type[Exception] | None]:
    seen: Counter[type[Exception] | None] = Counter()
    for _ in range(calls):
        try:
            faults.maybe_fail(OPERATION)
        except TransientDependencyError as error:
            seen[type(error)] += 1
        else:
            seen[None] += 1
    return seen


# ---------------------------------------------------------------- FaultInjector


def test_rate_zero_never_fails() -> None:
    faults = FaultInjector(0.0, rng=random.Random(1), log=ListLog())
    assert outcomes(faults, 1000) == {None: 1000}
    assert faults.injected == 0
    assert not faults.enabled


def test_rate_one_always_fails_and_counts_every_fault() -> None:
    log = ListLog()
    faults = FaultInjector(1.0, rng=random.Random(1), log=log)

    seen = outcomes(faults, 1000)

    assert seen[None] == 0
    assert sum(seen.values()) == 1000
    assert faults.injected == 1000
    assert len(log.lines) == 1000
    # All three kinds occur, each roughly a third of the time.
    assert set(seen) == {DependencyTimeout, DependencyThrottled, DependencyUnavailable}
    assert all(250 < count < 420 for count in seen.values())


@pytest.mark.parametrize(
    "kinds",
    [[FaultKind.THROTTLE], [FaultKind.TIMEOUT], [FaultKind.TIMEOUT, FaultKind.UNAVAILABLE]],
    ids=lambda kinds: ",".join(kinds),
)
def test_only_the_chosen_kinds_are_injected(kinds: list[FaultKind]) -> None:
    log = ListLog()
    faults = FaultInjector(1.0, kinds, rng=random.Random(2), log=log)

    seen = outcomes(faults, 300)

    assert set(seen) == {ERROR_OF_KIND[kind] for kind in kinds}
    assert {fields["fault_injected"] for _, fields in log.lines} == {kind.value for kind in kinds}


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.5])
def test_a_seeded_random_fails_the_expected_share_of_calls(rate: float) -> None:
    faults = FaultInjector(rate, rng=random.Random(42), log=ListLog())

    failed = 1000 - outcomes(faults, 1000)[None]

    assert abs(failed / 1000 - rate) < 0.04
    assert faults.injected == failed


def test_the_same_seed_fails_the_same_calls() -> None:
    def pattern() -> list[str]:
        faults = FaultInjector(0.3, rng=random.Random(7), log=ListLog())
        result = []
        for _ in range(200):
            try:
                faults.maybe_fail(OPERATION)
                result.append("ok")
            except TransientDependencyError as error:
                result.append(type(error).__name__)
        return result

    assert pattern() == pattern()


def test_each_fault_logs_one_warning_with_kind_and_operation_and_nothing_else() -> None:
    log = ListLog()
    faults = FaultInjector(1.0, [FaultKind.THROTTLE], rng=random.Random(3), log=log)

    with pytest.raises(DependencyThrottled) as raised:
        faults.maybe_fail("ses.send_email")

    [(message, fields)] = log.lines
    assert fields == {"fault_injected": "throttle", "operation": "ses.send_email", "fault_phase": "before_call"}
    assert message == (
        "dependency fault injected: fault_injected=throttle operation=ses.send_email fault_phase=before_call"
    )
    assert raised.value.operation == "ses.send_email"
    assert "ses.send_email" in str(raised.value)


def test_the_log_line_carries_no_payload_of_the_call() -> None:
    log = ListLog()
    faults = FaultInjector(1.0, [FaultKind.TIMEOUT], rng=random.Random(4), log=log, after_effect_share=1.0)
    secret = {"token": "tok_visa", "email": "grace@example.com", "address": "1 Secret Lane"}

    with pytest.raises(DependencyTimeout) as raised:
        faults.call_idempotent(OPERATION, lambda: secret)

    [(message, fields)] = log.lines
    text = message + repr(fields) + str(raised.value)
    for value in secret.values():
        assert value not in text
    assert set(fields) == {"fault_injected", "operation", "fault_phase"}


def test_the_default_log_is_the_standard_logging_module(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultInjector(1.0, [FaultKind.UNAVAILABLE], rng=random.Random(5))

    with caplog.at_level(logging.WARNING, logger="events.faults"), pytest.raises(DependencyUnavailable):
        faults.maybe_fail("carrier.book")

    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "fault_injected=unavailable operation=carrier.book" in record.getMessage()
    # The ignore below: a structured log key Powertools sets on the record
    assert record.fault_injected == "unavailable"  # type: ignore[attr-defined]


# ---------------------------------------------------------------- faults around an idempotent call


class Effect:
    """A call with an effect: counts how often it ran."""

    def __init__(self, answer: object = "done", error: Exception | None = None) -> None:
        self.runs = 0
        self.answer = answer
        self.error = error

    def __call__(self) -> object:
        self.runs += 1
        if self.error is not None:
            raise self.error
        return self.answer


def test_without_a_fault_the_call_runs_once_and_answers() -> None:
    effect = Effect("ch_1")
    assert FaultInjector(0.0).call_idempotent(OPERATION, effect) == "ch_1"
    assert effect.runs == 1


@pytest.mark.parametrize("kind", [FaultKind.THROTTLE, FaultKind.UNAVAILABLE])
def test_throttles_and_5xx_strike_before_the_call(kind: FaultKind) -> None:
    effect = Effect()
    log = ListLog()
    faults = FaultInjector(1.0, [kind], rng=random.Random(6), log=log, after_effect_share=1.0)

    with pytest.raises(ERROR_OF_KIND[kind]):
        faults.call_idempotent(OPERATION, effect)

    assert effect.runs == 0
    assert log.lines[0][1]["fault_phase"] == "before_call"


def test_a_timeout_after_the_effect_hides_its_answer() -> None:
    effect = Effect("ch_1")
    log = ListLog()
    faults = FaultInjector(1.0, [FaultKind.TIMEOUT], rng=random.Random(6), log=log, after_effect_share=1.0)

    with pytest.raises(DependencyTimeout):
        faults.call_idempotent(OPERATION, effect)

    assert effect.runs == 1
    assert log.lines[0][1]["fault_phase"] == "after_effect"


def test_a_timeout_after_the_effect_hides_a_refusal_too() -> None:
    effect = Effect(error=LookupError("declined"))
    faults = FaultInjector(1.0, [FaultKind.TIMEOUT], rng=random.Random(6), log=ListLog(), after_effect_share=1.0)

    with pytest.raises(DependencyTimeout):
        faults.call_idempotent(OPERATION, effect)
    assert effect.runs == 1


def test_timeouts_strike_before_or_after_the_effect_in_the_given_share() -> None:
    log = ListLog()
    faults = FaultInjector(1.0, [FaultKind.TIMEOUT], rng=random.Random(8), log=log)  # half after, by default
    effect = Effect()

    for _ in range(1000):
        with pytest.raises(DependencyTimeout):
            faults.call_idempotent(OPERATION, effect)

    phases = Counter(fields["fault_phase"] for _, fields in log.lines)
    assert phases["after_effect"] == effect.runs
    assert 430 < effect.runs < 570


# ---------------------------------------------------------------- configuration from the environment


def test_unset_environment_means_off_with_every_kind() -> None:
    faults = FaultInjector.from_env({})
    assert faults.rate == 0.0
    assert not faults.enabled
    assert set(faults.kinds) == set(FaultKind)


@pytest.mark.parametrize(
    ("environ", "rate", "kinds"),
    [
        ({"FAULT_RATE": "0.25"}, 0.25, set(FaultKind)),
        ({"FAULT_RATE": " 1 ", "FAULT_KINDS": "timeout"}, 1.0, {FaultKind.TIMEOUT}),
        (
            {"FAULT_RATE": "0", "FAULT_KINDS": " Throttle , unavailable,"},
            0.0,
            {FaultKind.THROTTLE, FaultKind.UNAVAILABLE},
        ),
        ({"FAULT_RATE": "", "FAULT_KINDS": ""}, 0.0, set(FaultKind)),
    ],
)
def test_the_environment_sets_rate_and_kinds(environ: dict[str, str], rate: float, kinds: set[FaultKind]) -> None:
    faults = FaultInjector.from_env(environ)
    assert faults.rate == rate
    assert set(faults.kinds) == kinds


def test_from_env_reads_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_RATE", "0.5")
    monkeypatch.setenv("FAULT_KINDS", "unavailable")
    faults = FaultInjector.from_env()
    assert (faults.rate, faults.kinds) == (0.5, (FaultKind.UNAVAILABLE,))


@pytest.mark.parametrize(
    "environ",
    [
        {"FAULT_RATE": "often"},
        {"FAULT_RATE": "1.5"},
        {"FAULT_RATE": "-0.1"},
        {"FAULT_RATE": "nan"},
        {"FAULT_RATE": "10%"},
        {"FAULT_RATE": "0.1", "FAULT_KINDS": "timeout,crash"},
    ],
)
def test_a_bad_setting_fails_loudly_at_cold_start(environ: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="FAULT_"):
        FaultInjector.from_env(environ)


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


def test_retries_absorb_injected_faults() -> None:
    """The two together: at a 30% fault rate, three attempts leave about 2.7% failing."""
    faults = FaultInjector(0.3, rng=random.Random(10), log=ListLog())
    effect = Effect()
    failures = 0

    for _ in range(2000):
        try:
            call_with_retries(lambda: faults.call_idempotent(OPERATION, effect), sleep=Sleeps())
        except TransientDependencyError:
            failures += 1

    assert 0.01 < failures / 2000 < 0.05
    assert faults.injected > 600
