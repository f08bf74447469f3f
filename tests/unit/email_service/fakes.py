"""In-memory stand-in for the email service's mailer."""

from __future__ import annotations

from dataclasses import dataclass, field

from email_service.domain.model import Email


@dataclass
class RecordingMailer:
    sent: list[Email] = field(default_factory=list)
    fail_with: Exception | None = None

    def send(self, email: Email) -> str:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(email)
        return f"ses-{len(self.sent)}"
