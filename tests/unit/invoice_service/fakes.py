"""In-memory stand-ins for the invoice service's edges."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.models import Event


@dataclass
class InMemoryInvoiceStore:
    objects: dict[str, str] = field(default_factory=dict)
    writes: list[str] = field(default_factory=list)

    def put_html(self, key: str, html: str) -> None:
        self.objects[key] = html
        self.writes.append(key)


@dataclass
class RecordingPublisher:
    events: list[Event[Any]] = field(default_factory=list)
    fail_next: int = 0  # how many of the next publishes raise, as a throttled SNS would

    def publish(self, event: Event[Any]) -> str:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("sns unavailable")
        self.events.append(event)
        return f"msg-{len(self.events)}"
