"""SesMailer, alone and under the fault switch (FaultyMailer, as the handler wires it when
FAULT_RATE > 0), with a stand-in for the SES client (no AWS)."""

from __future__ import annotations

from email import message_from_bytes
from email.policy import default
from typing import Any

import pytest

from email_service.adapters.faulty_mailer import FaultyMailer
from email_service.adapters.ses import SesMailer
from email_service.domain.model import Email
from events.retries import DependencyTimeout, TransientDependencyError
from fault_injection.injector import FaultInjector, FaultKind
from tests.unit.events.fakes import ScriptedRandom

SENDER = "orders@shop.example.com"


class RecordingSesClient:
    def __init__(self, fail_with: Exception | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with = fail_with

    def send_raw_email(self, **request: Any) -> dict[str, Any]:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        return {"MessageId": f"ses-{len(self.requests)}"}


def email() -> Email:
    return Email(to="grace@example.com", subject="Order 1 shipped", html="<p>shipped</p>", text="shipped")


def test_the_mailer_sends_the_email_as_a_raw_message() -> None:
    client = RecordingSesClient()
    mailer = SesMailer(SENDER, client=client)

    assert mailer.send(email()) == "ses-1"
    [request] = client.requests
    assert request["Source"] == SENDER
    assert request["Destinations"] == ["grace@example.com"]
    message = message_from_bytes(request["RawMessage"]["Data"], policy=default)
    assert message["To"] == "grace@example.com"
    assert message["Subject"] == "Order 1 shipped"


def test_with_every_call_faulty_ses_is_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_RATE", "1")
    monkeypatch.delenv("FAULT_KINDS", raising=False)
    client = RecordingSesClient()
    mailer = FaultyMailer(SesMailer(SENDER, client=client), FaultInjector.from_env())

    with pytest.raises(TransientDependencyError):
        mailer.send(email())

    assert mailer.faults.injected == 3  # the first attempt and two retries
    assert client.requests == []


def test_timeouts_strike_before_the_send_only_so_no_email_is_ever_sent_twice() -> None:
    # Even where an idempotent call would see half its timeouts after the effect.
    client = RecordingSesClient()
    mailer = FaultyMailer(
        SesMailer(SENDER, client=client), FaultInjector(1.0, [FaultKind.TIMEOUT], after_effect_share=1.0)
    )

    with pytest.raises(DependencyTimeout):
        mailer.send(email())

    assert client.requests == []


def test_faults_then_success_send_exactly_one_email() -> None:
    client = RecordingSesClient()
    faults = FaultInjector(0.5, [FaultKind.THROTTLE], rng=ScriptedRandom([0.1, 0.1, 0.9]))
    mailer = FaultyMailer(SesMailer(SENDER, client=client), faults)

    assert mailer.send(email()) == "ses-1"

    assert faults.injected == 2
    assert len(client.requests) == 1


def test_an_error_from_ses_itself_is_not_retried_here() -> None:
    # botocore already retried SES's own throttles; retrying an error that came after
    # the request reached SES could send the email twice.
    client = RecordingSesClient(fail_with=ConnectionError("read timeout"))
    mailer = FaultyMailer(SesMailer(SENDER, client=client), FaultInjector(0.0))

    with pytest.raises(ConnectionError):
        mailer.send(email())

    assert len(client.requests) == 1
