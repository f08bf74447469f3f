from __future__ import annotations

import pytest

from email_service.domain.notifications import notify_customer
from email_service.domain.rendering import render_email
from tests.builders import shipped
from tests.unit.email_service.fakes import RecordingMailer


def test_one_event_sends_exactly_one_email_and_returns_its_message_id() -> None:
    event = shipped()
    mailer = RecordingMailer()

    message_id = notify_customer(event, mailer)

    assert message_id == "ses-1"
    assert mailer.sent == [render_email(event)]


def test_a_mailer_failure_reaches_the_caller_so_the_record_is_retried() -> None:
    mailer = RecordingMailer(fail_with=ConnectionError("SES throttled"))

    with pytest.raises(ConnectionError):
        notify_customer(shipped(), mailer)
