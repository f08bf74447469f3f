from __future__ import annotations

from events.settings import Settings


class EmailSettings(Settings):
    # The SES identity the SAM template declares; SES refuses any other sender.
    sender_email: str
    # None turns idempotency off (tests of the handler without a table).
    idempotency_table: str | None = None
