"""SES under load, for the fault switch (FAULT_RATE).

The handler wraps the mailer in this when FAULT_RATE > 0: a share of sends fail like
SES under load (timeout, throttle, 5xx) and are retried a couple of times here before
the record fails and SQS retries it.

Faults strike BEFORE the call only. SendRawEmail has no idempotency key: a fault after
SES accepted the mail would be retried (here or by SQS) into a second copy of it, and
the system promises one email per event, never two. SES's own errors are not retried
here (botocore already retried its throttles).
"""

from __future__ import annotations

from email_service.domain.model import Email
from email_service.domain.ports import Mailer
from fault_injection.decorator import FaultyDependency


class FaultyMailer(FaultyDependency[Mailer]):
    OPERATION = "ses.send_email"

    def send(self, email: Email) -> str:
        return self._before_call(self.OPERATION, lambda: self.wrapped.send(email))
