"""Every error the shipment domain can raise."""

from __future__ import annotations


class Undeliverable(Exception):
    """The carrier refuses the parcel for good: retrying the booking cannot help.

    Any other exception from a carrier (timeout, outage) is transient and fails the
    record, so SQS retries it.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
