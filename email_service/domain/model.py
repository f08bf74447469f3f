from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Email:
    """One message to one customer, in both parts every mail client can show."""

    to: str
    subject: str
    html: str
    text: str
