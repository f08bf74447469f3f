from __future__ import annotations

from events.settings import Settings


class EmailSettings(Settings):
    # The SES identity the SAM template declares; SES refuses any other sender.
    sender_email: str
    # The name mail clients show beside it ("Shop <orders@shop.local>").
    sender_name: str = ""
    # Where customers' replies go; empty: to the sender address.
    reply_to_email: str = ""
    # None turns idempotency off (tests of the handler without a table).
    idempotency_table: str | None = None
