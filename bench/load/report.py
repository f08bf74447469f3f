"""The HTML report of a `make load` run, beside its load.json: the table of figures and
their ratios to the null choreography, and three plots (matplotlib, embedded as PNG):
the distribution of POST -> SHIPPED, orders in flight over time, and a per-stage
waterfall (p50 and p95 of POST -> each stage).

Usage: .venv-load/bin/python bench/load/report.py .local/load/<run>/load.json
"""

from __future__ import annotations

import base64
import html
import io
import json
import sys
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STAGES = ["INVOICE_CREATED", "PAYMENT_CONFIRMED", "SHIPPED"]
COLOURS = {"real": "#1f6feb", "null": "#8b949e"}
LABELS = {"real": "order stack", "null": "null choreography"}


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def latency_distribution(data: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for phase in ("null", "real"):
        values = sorted(row["SHIPPED"] * 1000 for row in data[phase]["per_order"] if "SHIPPED" in row)
        if values:
            ax.hist(values, bins=60, alpha=0.6, color=COLOURS[phase], label=f"{LABELS[phase]} (n={len(values)})")
    ax.set_xlabel("POST -> SHIPPED (ms, server timestamps)")
    ax.set_ylabel("orders")
    ax.set_title("Latency distribution")
    ax.legend()
    return _png(fig)


def in_flight(data: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for phase in ("null", "real"):
        rows = data[phase]["per_order"]
        if not rows:
            continue
        start = min(r["created"] for r in rows)
        changes = []
        for r in rows:
            changes.append((r["created"] - start, 1))
            if "SHIPPED" in r:
                changes.append((r["created"] - start + r["SHIPPED"], -1))
        changes.sort()
        xs, ys, level = [0.0], [0], 0
        for t, delta in changes:
            level += delta
            xs.append(t)
            ys.append(level)
        ax.step(xs, ys, where="post", color=COLOURS[phase], label=LABELS[phase])
    ax.set_xlabel("seconds since the first order")
    ax.set_ylabel("orders placed, not yet shipped")
    ax.set_title("Orders in flight over time")
    ax.legend()
    return _png(fig)


def waterfall(data: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(8, 3.2))
    rows = []
    for phase in ("real", "null"):
        for q in ("p95", "p50"):
            rows.append((f"{LABELS[phase]} {q}", phase, q))
    for y, (_label, phase, q) in enumerate(rows):
        previous = 0.0
        for i, stage in enumerate(STAGES):
            value = data[phase]["stage_seconds"][stage][q]
            if value is None:
                continue
            value *= 1000
            ax.barh(
                y,
                max(value - previous, 0),
                left=previous,
                color=plt.cm.Blues(0.4 + 0.2 * i) if phase == "real" else plt.cm.Greys(0.3 + 0.2 * i),
                edgecolor="white",
                label=stage if y == 0 else None,
            )
            previous = max(previous, value)
    ax.set_yticks(range(len(rows)), [r[0] for r in rows])
    ax.set_xlabel("ms since POST (ORDER_CREATED) - each segment ends at that stage")
    ax.set_title("Per-stage waterfall")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return _png(fig)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if unit == "ms":
        return f"{value * 1000:.0f} ms"
    if unit == "x":
        return f"{value:.2f}x"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def table(data: dict[str, Any]) -> str:
    null, real, ratios = data["null"], data["real"], data["ratios"]
    rows = [
        (
            "completed orders/s",
            _fmt(real["completed_per_second"]),
            _fmt(null["completed_per_second"]),
            _fmt(ratios["completed_per_second"], "x"),
        ),
        ("orders accepted", real["accepted"], null["accepted"], ""),
        ("orders completed (SHIPPED)", real["completed"], null["completed"], ""),
        (
            "POST answered p50 (client)",
            _fmt(real["post_answer_seconds"]["p50"], "ms"),
            _fmt(null["post_answer_seconds"]["p50"], "ms"),
            _fmt(ratios["post_answer_p50"], "x"),
        ),
    ]
    for stage in STAGES:
        for q in ("p50", "p95", "p99"):
            rows.append(
                (
                    f"POST -> {stage} {q}",
                    _fmt(real["stage_seconds"][stage][q], "ms"),
                    _fmt(null["stage_seconds"][stage][q], "ms"),
                    _fmt(ratios["stages"][stage][q], "x"),
                )
            )
    body = "".join(
        f"<tr><td>{html.escape(str(a))}</td><td>{b}</td><td>{c}</td><td>{d}</td></tr>" for a, b, c, d in rows
    )
    return f"<table><tr><th></th><th>order stack</th><th>null</th><th>ratio</th></tr>{body}</table>"


def function_table(data: dict[str, Any]) -> str:
    out = [
        "<table><tr><th>stack</th><th>function</th><th>invocations</th><th>records/batch</th>"
        "<th>mean</th><th>p95</th><th>max memory</th></tr>"
    ]
    for phase in ("real", "null"):
        for name, s in data[phase]["functions"].items():
            d = s["duration_ms"]
            out.append(
                f"<tr><td>{LABELS[phase]}</td><td>{name}</td><td>{s['invocations']}</td>"
                f"<td>{_fmt(s['records_per_batch'])}</td><td>{_fmt(d['mean'])} ms</td><td>{_fmt(d['p95'])} ms</td>"
                f"<td>{_fmt(s['max_memory_mb'])} MB</td></tr>"
            )
    out.append("</table>")
    return "".join(out)


def main(path: str) -> int:
    source = Path(path)
    data = json.loads(source.read_text())
    goals = data["ratios"]["goals"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>make load - {data["started_at"]}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:.25em .6em;text-align:right}}
td:first-child,td:nth-child(2){{text-align:left}}</style>
</head><body><h1>Load run {html.escape(data["started_at"])}</h1>
<p>{data["settings"]["customers"]} concurrent customers, {data["settings"]["duration_seconds"]} s of load,
rate {data["settings"]["rate"]}; then waited until every order was final. Baseline: the null choreography
(bench/null) on the same emulator in the same run. Latencies are server timestamps (events' occurred_at).</p>
<p>Goals: completed orders/s &ge; 50% of null:
<b>{"met" if goals["throughput_at_least_half_of_null"] else "not met"}</b>;
p50 POST&rarr;SHIPPED &le; 2&times; null: <b>{"met" if goals["p50_shipped_at_most_twice_null"] else "not met"}</b>.</p>
{table(data)}
<h2>Functions</h2>{function_table(data)}
<h2>Plots</h2>
<img src="{latency_distribution(data)}" alt="latency distribution">
<img src="{in_flight(data)}" alt="orders in flight">
<img src="{waterfall(data)}" alt="per-stage waterfall">
</body></html>"""
    (source.parent / "report.html").write_text(page)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
