"""A fault switch for the simulated dependencies.

FAULT_RATE (0..1, default 0: off) is the share of calls to a dependency (the payment
provider, the carrier, SES) that fail the way real ones do: a timeout, a throttle or a
5xx. FAULT_KINDS (comma list of timeout, throttle, unavailable; default all) narrows
the kinds. Each injected fault logs one warning with `fault_injected=<kind>` and the
`operation`, never a payload, so a test can count them in the logs.

The errors raised are the transient ones of events.retries, which the client's
`call_with_retries` absorbs as it would a real dependency's.

Standard library only: the consumers that may inject faults import this at cold start.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Iterable, Mapping
from contextlib import suppress
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from events.retries import DependencyThrottled, DependencyTimeout, DependencyUnavailable, TransientDependencyError

T = TypeVar("T")


class FaultKind(StrEnum):
    TIMEOUT = "timeout"
    THROTTLE = "throttle"
    UNAVAILABLE = "unavailable"


_ERRORS: dict[FaultKind, tuple[type[TransientDependencyError], str]] = {
    FaultKind.TIMEOUT: (DependencyTimeout, "timed out (injected fault)"),
    FaultKind.THROTTLE: (DependencyThrottled, "throttled (injected fault)"),
    FaultKind.UNAVAILABLE: (DependencyUnavailable, "service unavailable (injected fault)"),
}


class WarningLog(Protocol):
    """What is needed of a logger: stdlib's and Powertools' both fit."""

    def warning(self, msg: str, *args: Any, extra: Mapping[str, object] | None = None) -> Any: ...


class FaultInjector:
    """Decides, call by call, whether a dependency fails, and how."""

    def __init__(
        self,
        rate: float = 0.0,
        kinds: Iterable[FaultKind | str] | None = None,
        *,
        rng: random.Random | None = None,
        log: WarningLog | None = None,
        after_effect_share: float = 0.5,
    ) -> None:
        if not 0.0 <= rate <= 1.0:  # also refuses NaN
            raise ValueError(f"fault rate must be between 0 and 1, got {rate!r}")
        self.rate = rate
        self.kinds = tuple(FaultKind) if kinds is None else tuple(FaultKind(kind) for kind in kinds)
        if not self.kinds:
            raise ValueError("at least one fault kind is needed")
        # Of the timeouts on an idempotent call, the share that strikes after the call
        # took effect (the answer is lost, not the work).
        self.after_effect_share = after_effect_share
        self.injected = 0
        self._rng = rng or random.Random()
        self._log: WarningLog = log or logging.getLogger(__name__)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        rng: random.Random | None = None,
        log: WarningLog | None = None,
    ) -> FaultInjector:
        """FAULT_RATE and FAULT_KINDS; unset or empty means off / all kinds. A bad
        value raises, so a misconfigured function fails at cold start, not silently."""
        env = os.environ if environ is None else environ
        raw_rate = env.get("FAULT_RATE", "").strip()
        try:
            rate = float(raw_rate) if raw_rate else 0.0
        except ValueError:
            raise ValueError(f"FAULT_RATE must be a number between 0 and 1, got {raw_rate!r}") from None
        if not 0.0 <= rate <= 1.0:  # also refuses NaN
            raise ValueError(f"FAULT_RATE must be a number between 0 and 1, got {raw_rate!r}")
        names = [name.strip().lower() for name in env.get("FAULT_KINDS", "").split(",") if name.strip()]
        allowed = [kind.value for kind in FaultKind]
        unknown = sorted(set(names) - set(allowed))
        if unknown:
            raise ValueError(f"FAULT_KINDS has unknown kinds {unknown}; allowed: {', '.join(allowed)}")
        return cls(rate, list(dict.fromkeys(names)) or None, rng=rng, log=log)

    @property
    def enabled(self) -> bool:
        return self.rate > 0.0

    def maybe_fail(self, operation: str) -> None:
        """Raise a transient error for a share `rate` of calls, before the call is made.

        For dependencies without idempotency keys, where only a fault before the call
        is safe to retry."""
        kind = self._draw()
        if kind is not None:
            raise self._inject(kind, operation, after_effect=False)

    def call_idempotent(self, operation: str, call: Callable[[], T]) -> T:
        """Run `call` (a request with an idempotency key) under faults.

        Throttles and 5xx happen before the call. A timeout happens before it, or, for
        `after_effect_share` of them, after it: the call did its work (or gave its
        answer) and the caller never hears. Only safe because repeating the call with
        the same key returns the first result instead of doing the work again."""
        kind = self._draw()
        if kind is None:
            return call()
        after_effect = kind is FaultKind.TIMEOUT and self._rng.random() < self.after_effect_share
        if after_effect:
            # Whatever the answer was, success or refusal, it is lost with the connection.
            with suppress(Exception):
                call()
        raise self._inject(kind, operation, after_effect=after_effect)

    def _draw(self) -> FaultKind | None:
        if self.rate <= 0.0 or self._rng.random() >= self.rate:
            return None
        return self._rng.choice(self.kinds)

    def _inject(self, kind: FaultKind, operation: str, *, after_effect: bool) -> TransientDependencyError:
        self.injected += 1
        phase = "after_effect" if after_effect else "before_call"
        # The fields are in the message too, so the line can be counted where only the
        # message is kept (a plain-text log handler).
        self._log.warning(
            f"dependency fault injected: fault_injected={kind.value} operation={operation} fault_phase={phase}",
            extra={"fault_injected": kind.value, "operation": operation, "fault_phase": phase},
        )
        error, message = _ERRORS[kind]
        return error(operation, message)
