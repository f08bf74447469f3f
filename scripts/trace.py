"""`make trace ORDER=<id>`: one order's whole journey as a text waterfall.

Reads every function's log group (`/aws/lambda/<function>`) for the lines that carry the
order's id (CloudWatch Logs FilterLogEvents: MiniStack's locally, your account's on AWS)
and draws, in time order, each request, each event published and each event handled:
which function of which service, when (ms after the first line), the hop (from the
event's `occurred_at` to the consumer picking it up) and how long the work took. The
same view on AWS without this script: the saved Logs Insights query `<stack>/order-trace`
(README, Operating it).

    python -m scripts.trace <order_id> [--all]     (--all: every log line, not only the steps)
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scripts.stack import Stack

BAR = 40  # characters of the waterfall's time axis
STEPS = {"request handled", "event published", "event handled", "event failed", "record is not an event"}


@dataclass(frozen=True)
class Step:
    start_ms: float  # epoch milliseconds
    end_ms: float
    function: str  # logical id when known, else the physical name
    service: str
    what: str
    hop_ms: float | None = None
    level: str = "INFO"
    correlation_id: str | None = None

    @property
    def took_ms(self) -> float:
        return self.end_ms - self.start_ms


def _epoch_ms(line: dict[str, Any], fallback: float) -> float:
    try:
        return datetime.strptime(str(line["timestamp"]), "%Y-%m-%d %H:%M:%S,%f%z").timestamp() * 1000
    except (KeyError, ValueError):
        return fallback


def step_of(line: dict[str, Any], logged_ms: float, function: str, every_line: bool = False) -> Step | None:
    """One parsed log line -> the step it records (None for lines that are not steps)."""
    message = str(line.get("message"))
    if message not in STEPS and not every_line:
        return None
    end = _epoch_ms(line, logged_ms)
    start, hop = end, None
    service = str(line.get("service", "?"))
    if message == "request handled":
        if line.get("http_method") == "GET" and not every_line:
            return None  # reads (a client polling the order) change nothing: --all shows them
        what = f"{line.get('http_method')} {line.get('resource')} -> {line.get('status')}"
    elif message == "event published":
        what = f"published {line.get('published_event_type')}"
        if line.get("published_at"):  # from the event's creation (for the relay: in the API)
            hop = end - datetime.fromisoformat(str(line["published_at"])).timestamp() * 1000
    elif message in ("event handled", "event failed"):
        start = end - float(line.get("duration_ms") or 0)
        hop = float(line["hop_ms"]) if line.get("hop_ms") is not None else None
        verb = "handled" if message == "event handled" else f"FAILED ({line.get('error')})"
        what = f"{verb} {line.get('event_type')}"
    else:
        what = message
    return Step(start, end, function, service, what, hop, str(line.get("level", "INFO")), line.get("correlation_id"))


def collect(stack: Stack, order_id: str, every_line: bool = False, since_ms: int | None = None) -> list[Step]:
    """Every step of the order, from the log group of every function of the stack."""
    logs = stack.client("logs")
    names = {physical: logical for logical, physical in stack.resources().items() if logical.endswith("Function")}
    steps: list[Step] = []
    for physical, logical in sorted(names.items()):
        kwargs: dict[str, Any] = {"logGroupName": f"/aws/lambda/{physical}", "filterPattern": f'"{order_id}"'}
        if since_ms is not None:
            kwargs["startTime"] = since_ms
        while True:
            try:
                page = logs.filter_log_events(**kwargs)
            except logs.exceptions.ResourceNotFoundException:
                break  # the function has not logged yet
            for event in page.get("events", []):
                try:
                    line = json.loads(event["message"])
                except ValueError:
                    continue  # the runtime's own START/END/REPORT lines
                if not isinstance(line, dict) or line.get("order_id") != order_id:
                    continue
                step = step_of(line, float(event["timestamp"]), logical, every_line)
                if step is not None:
                    steps.append(step)
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                break
            kwargs["nextToken"] = token
    return sorted(steps, key=lambda s: (s.start_ms, s.end_ms))


def render(order_id: str, steps: list[Step]) -> str:
    if not steps:
        return f"order {order_id}: no log line carries this order id (wrong id, or logs not written yet)\n"
    origin = min(s.start_ms for s in steps)
    total = max(max(s.end_ms for s in steps) - origin, 1.0)
    correlation = sorted({s.correlation_id for s in steps if s.correlation_id})
    lines = [
        f"order {order_id}",
        f"correlation id (saga) {', '.join(correlation) or '?'}; {len(steps)} steps in {total:.0f} ms "
        f"across {len({s.function for s in steps})} functions",
        "",
        f"{'t+ms':>7}  {'service':16} {'function':22} {'step':34} {'hop ms':>7} {'took ms':>8}  |{'waterfall':<{BAR}}|",
    ]
    for s in steps:
        begin = int((s.start_ms - origin) / total * (BAR - 1))
        width = max(1, round(s.took_ms / total * (BAR - 1)))
        hop_cells = int(s.hop_ms / total * (BAR - 1)) if s.hop_ms else 0
        hop_cells = min(hop_cells, begin)
        bar = " " * (begin - hop_cells) + "." * hop_cells + "#" * width
        hop = f"{s.hop_ms:.0f}" if s.hop_ms is not None else ""
        took = f"{s.took_ms:.0f}" if s.took_ms else ""
        marker = "!" if s.level in ("WARNING", "ERROR", "CRITICAL") else " "
        lines.append(
            f"{s.start_ms - origin:7.0f}{marker} {s.service:16} {s.function:22} {s.what:34.34} {hop:>7} "
            f"{took:>8}  |{bar[:BAR]:<{BAR}}|"
        )
    hops = [s.hop_ms for s in steps if s.hop_ms is not None and s.what.startswith("handled")]
    if hops:
        lines += [
            "",
            f"hops to consumers: {len(hops)}, median {sorted(hops)[len(hops) // 2]:.0f} ms, max {max(hops):.0f} ms",
        ]
    lines.append(
        "(hop: from the event's occurred_at to this step; '.' the event waiting on the topic and queue,"
        " '#' a function working, '!' a warning)"
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.trace", description=__doc__.split("\n\n")[0])
    parser.add_argument("order_id")
    parser.add_argument("--all", action="store_true", help="every log line about the order, not only the steps")
    args = parser.parse_args(argv)
    stack = Stack.load()
    sys.stdout.write(render(args.order_id, collect(stack, args.order_id, every_line=args.all)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
