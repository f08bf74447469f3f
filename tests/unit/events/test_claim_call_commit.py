"""The claim-call-commit loop (events/claim_call_commit.py) on an in-memory row with
conditional writes, a dependency that counts its calls and a recording publisher."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from events.claim_call_commit import Call, Done, Step, Write, claim_call_commit
from tests.builders import order_created

EVENT = order_created()


@dataclass(frozen=True)
class Row:
    status: str
    owner: str
    answer: int | None = None


@dataclass
class Table:
    """One row; a write lands only on the row as it was read. `interfere` runs before
    a write: another handler that writes first."""

    row: Row | None = None
    reads: int = 0
    writes: list[Row] = field(default_factory=list)
    interfere: list[Callable[[Table], None]] = field(default_factory=list)

    def read(self) -> Row | None:
        self.reads += 1
        return self.row

    def write(self, current: Row | None, new: Row) -> bool:
        if self.interfere:
            self.interfere.pop(0)(self)
        if self.row != current:
            return False
        self.row = new
        self.writes.append(new)
        return True


@dataclass
class Publisher:
    published: list[Any] = field(default_factory=list)

    def publish(self, event: Any) -> str:
        self.published.append(event)
        return "m-1"


@dataclass
class Dependency:
    calls: int = 0

    def call(self) -> int:
        self.calls += 1
        return 42


def charge(me: str, dependency: Dependency) -> Callable[[Row | None], Step[Row, str]]:
    """A typical decision: claim, call and commit, then announce; another's claim wins."""

    def decide(row: Row | None) -> Step[Row, str]:
        if row is None:
            return Write(Row("CLAIMED", me))
        if row.owner != me:
            return Done("someone else's")
        if row.status == "CLAIMED":
            return Call(
                lambda: replace(row, status="SETTLED", answer=dependency.call()),
                then=lambda settled: Done("settled", announce=EVENT),
            )
        return Done("replayed", announce=EVENT)

    return decide


def run(table: Table, decide: Callable[[Row | None], Step[Row, str]], publisher: Publisher, rounds: int = 4) -> str:
    return claim_call_commit(
        read=table.read,
        write=table.write,
        decide=decide,
        publisher=publisher,
        rounds=rounds,
        contention=lambda: RuntimeError("contention"),
    )


def test_claim_then_call_then_commit_then_publish() -> None:
    table, publisher, dependency = Table(), Publisher(), Dependency()

    assert run(table, charge("me", dependency), publisher) == "settled"

    assert table.writes == [Row("CLAIMED", "me"), Row("SETTLED", "me", 42)]
    assert table.reads == 1  # a landed write goes on with the row written, no read
    assert dependency.calls == 1
    assert publisher.published == [EVENT]


def test_a_retry_after_the_commit_publishes_again_and_calls_nothing() -> None:
    table, publisher, dependency = Table(Row("SETTLED", "me", 42)), Publisher(), Dependency()

    assert run(table, charge("me", dependency), publisher) == "replayed"

    assert (table.writes, dependency.calls, publisher.published) == ([], 0, [EVENT])


def test_a_retry_of_a_claim_left_by_a_crash_resumes_the_call() -> None:
    table, publisher, dependency = Table(Row("CLAIMED", "me")), Publisher(), Dependency()

    assert run(table, charge("me", dependency), publisher) == "settled"

    assert table.writes == [Row("SETTLED", "me", 42)]
    assert dependency.calls == 1


def test_a_lost_claim_reads_again_and_the_winner_decides() -> None:
    table, publisher, dependency = Table(), Publisher(), Dependency()
    table.interfere.append(lambda t: setattr(t, "row", Row("CLAIMED", "other")))

    assert run(table, charge("me", dependency), publisher) == "someone else's"

    assert table.reads == 2
    assert table.writes == []
    assert dependency.calls == 0  # never called without the claim
    assert publisher.published == []


def test_a_lost_commit_reads_again_and_announces_what_won() -> None:
    # A concurrent delivery of the same event committed first (the same answer: the
    # dependency is idempotent by key).
    table, publisher, dependency = Table(), Publisher(), Dependency()
    table.interfere += [lambda t: None, lambda t: setattr(t, "row", Row("SETTLED", "me", 42))]

    assert run(table, charge("me", dependency), publisher) == "replayed"

    assert table.writes == [Row("CLAIMED", "me")]
    assert table.reads == 2
    assert publisher.published == [EVENT]


def test_a_write_without_then_goes_back_to_decide_on_the_row_written() -> None:
    table, publisher = Table(), Publisher()
    seen: list[Row | None] = []

    def decide(row: Row | None) -> Step[Row, str]:
        seen.append(row)
        return Write(Row("ONE", "me")) if row is None else Done(row.status)

    assert run(table, decide, publisher) == "ONE"
    assert seen == [None, Row("ONE", "me")]


def test_a_write_with_then_ends_there_without_publishing_when_nothing_is_announced() -> None:
    table, publisher = Table(), Publisher()

    result = run(table, lambda row: Write(Row("CANCELLED", "me"), then=lambda row: Done(row.status)), publisher)

    assert result == "CANCELLED"
    assert publisher.published == []


def test_after_rounds_reads_the_next_lost_write_raises_contention() -> None:
    table, publisher = Table(), Publisher()

    def always_moved(t: Table) -> None:
        t.row = Row(f"MOVED{t.reads}", "other")

    table.interfere = [always_moved] * 10

    with pytest.raises(RuntimeError, match="contention"):
        run(table, lambda row: Write(Row("CLAIMED", "me")), publisher, rounds=3)

    assert table.reads == 3
    assert publisher.published == []


def test_what_the_call_raises_propagates_and_leaves_the_claim() -> None:
    table, publisher = Table(), Publisher()

    def times_out() -> Row:
        raise TimeoutError("no answer")

    def decide(row: Row | None) -> Step[Row, str]:
        return Write(Row("CLAIMED", "me")) if row is None else Call(times_out)

    with pytest.raises(TimeoutError):
        run(table, decide, publisher)

    assert table.row == Row("CLAIMED", "me")
    assert publisher.published == []


def test_a_failed_publish_propagates_after_the_commit_so_a_retry_publishes_again() -> None:
    class Down(Publisher):
        def publish(self, event: Any) -> str:
            raise ConnectionError("SNS")

    table, dependency = Table(), Dependency()
    with pytest.raises(ConnectionError):
        run(table, charge("me", dependency), Down())
    assert table.row == Row("SETTLED", "me", 42)

    publisher = Publisher()
    assert run(table, charge("me", dependency), publisher) == "replayed"
    assert (dependency.calls, publisher.published) == (1, [EVENT])


def test_rounds_below_one_are_refused() -> None:
    with pytest.raises(ValueError):
        run(Table(), lambda row: Done("x"), Publisher(), rounds=0)


def test_an_announcement_without_a_publisher_is_a_bug() -> None:
    with pytest.raises(ValueError, match="nothing to publish"):
        claim_call_commit(
            read=lambda: None,
            write=lambda current, new: True,
            decide=lambda row: Done("x", announce=EVENT),
            rounds=1,
            contention=lambda: RuntimeError("contention"),
        )
