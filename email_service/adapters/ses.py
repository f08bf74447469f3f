"""Sending emails with SES, as raw MIME messages (SendRawEmail).

The message is built here (adapters/mime.py) so that it carries every header a mail
provider expects; SES sends the bytes as they are, and so does MiniStack's SMTP relay
(its SES v2 relay rebuilds a raw message from its parts and drops Reply-To, Date and
the From display name, see README "Known limits").

With the fault switch on (FAULT_RATE, see events/faults.py) a share of sends fail
like SES under load (timeout, throttle, 5xx), and are retried a couple of times here
before the record fails and SQS retries it.
"""

from __future__ import annotations

from typing import Any

from email_service.adapters.mime import build_message
from email_service.domain.model import Email
from events.faults import FaultInjector, call_with_retries
from events.observability import logger


class SesMailer:
    OPERATION = "ses.send_email"

    def __init__(
        self,
        sender: str,
        client: Any = None,
        faults: FaultInjector | None = None,
        *,
        sender_name: str = "",
        reply_to: str | None = None,
    ) -> None:
        self.sender = sender
        self.sender_name = sender_name
        self.reply_to = reply_to
        if client is None:
            from events.aws import client as make_client

            client = make_client("ses")
        self.client = client
        # Read once per instance, i.e. at cold start in the handler; off when unset.
        self.faults = faults if faults is not None else FaultInjector.from_env(log=logger)

    def send(self, email: Email) -> str:
        # Only TransientDependencyError is retried here, and it is only ever raised
        # before SES is called: SES's errors propagate as they are (botocore already
        # retried its throttles), so a retry here never sends an accepted email again.
        return call_with_retries(lambda: self._send_once(email))

    def _send_once(self, email: Email) -> str:
        # Faults strike BEFORE the call only. SendRawEmail has no idempotency key: a
        # fault after SES accepted the mail would be retried (here or by SQS) into a
        # second copy of it, and the system promises one email per event, never two.
        self.faults.maybe_fail(self.OPERATION)
        message = build_message(email, self.sender, self.sender_name, self.reply_to)
        response = self.client.send_raw_email(
            # The envelope sender is the bare identity (the IAM condition ses:FromAddress
            # names it); the From header shows the display name.
            Source=self.sender,
            Destinations=[email.to],
            RawMessage={"Data": message.as_bytes()},
        )
        return str(response["MessageId"])
