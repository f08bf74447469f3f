"""The fault switch (FaultInjector), and the client's retries absorbing its faults."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Mapping
from typing import Any

import pytest

from events.retries import (
    DependencyThrottled,
    DependencyTimeout,
    DependencyUnavailable,
    TransientDependencyError,
    call_with_retries,
)
from fault_injection.injector import FaultInjector, FaultKind

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

    with caplog.at_level(logging.WARNING, logger="fault_injection.injector"), pytest.raises(DependencyUnavailable):
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


def _no_sleep(delay: float) -> None:
    pass


def test_retries_absorb_injected_faults() -> None:
    """The two together: at a 30% fault rate, three attempts leave about 2.7% failing."""
    faults = FaultInjector(0.3, rng=random.Random(10), log=ListLog())
    effect = Effect()
    failures = 0

    for _ in range(2000):
        try:
            call_with_retries(lambda: faults.call_idempotent(OPERATION, effect), sleep=_no_sleep)
        except TransientDependencyError:
            failures += 1

    assert 0.01 < failures / 2000 < 0.05
    assert faults.injected > 600
