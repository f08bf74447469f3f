"""Model-based simulation of the whole choreography under real concurrency.

Hypothesis generates histories: customers place orders (declined cards, undeliverable
addresses, stock running out, retried requests), cancel at random moments, an admin
changes stock; every published event reaches each subscribed queue, and the queues
deliver in any order, some messages twice, some to two instances of a function at
once (real threads, interleaved by the history's seed), some long after the others
(so one service's view lags another's). DynamoDB throttles and cancels transactions
for conflicts, the provider, the carrier and SES fail, answers to publishes are lost.
A failed record goes back to its queue, and after 5 receives to the DLQ.

When a history is quiet (every queue empty: each message processed or in a DLQ) the
faults stop, the DLQs are redriven, and the invariants below are checked for every
order and every SKU. A failure prints the seed and the history as readable steps:

    SIMULATION_SEED=<seed> make simulate      # replays that one history exactly
    SIMULATION_EXAMPLES=20000 make simulate   # more histories
"""

from __future__ import annotations

import json
import os
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
from hypothesis import HealthCheck, Phase, reproduce_failure, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from hypothesis.stateful import RuleBasedStateMachine, initialize, precondition, rule, run_state_machine_as_test

from tests.builders import api_event, lambda_context
from tests.integration.order_service.tables import stream_inserts
from tests.simulation.oracle import FINAL, RELEASING, expected_status
from tests.simulation.world import MAX_RECEIVE_COUNT, Clock, Cloud, Message, Queue, World, instant_sleep

EXAMPLES = int(os.environ.get("SIMULATION_EXAMPLES", "2000"))
# Shrinking a failure to its shortest history takes minutes; SIMULATION_SHRINK=0 skips it.
PHASES = [Phase.explicit, Phase.reuse, Phase.generate] + (
    [Phase.shrink] if os.environ.get("SIMULATION_SHRINK", "1") != "0" else []
)
SEED = os.environ.get("SIMULATION_SEED")
CUSTOMER_FACING: frozenset[str] = frozenset()  # filled in at first use (imports the email domain)


def _customer_facing() -> frozenset[str]:
    global CUSTOMER_FACING
    if not CUSTOMER_FACING:
        from email_service.domain.rendering import CUSTOMER_EVENT_TYPES

        CUSTOMER_FACING = frozenset(t.value for t in CUSTOMER_EVENT_TYPES)
    return CUSTOMER_FACING


class Choreography(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cloud = Cloud.get()
        self.world: World | None = None
        self.skus: list[str] = []
        self.customers: list[dict[str, str]] = []
        self.orders: dict[str, dict[str, Any]] = {}  # order id -> what we know of it
        self.keys: list[tuple[int, str, str]] = []  # (customer, Idempotency-Key, body) sent

    # ------------------------------------------------------------------ setup
    @initialize(
        world_seed=st.integers(min_value=0, max_value=2**32 - 1),
        dynamodb_faults=st.sampled_from([0.0, 0.03, 0.15, 0.35]),
        dependency_faults=st.sampled_from([0.0, 0.1, 0.3]),
        stock=st.lists(st.integers(min_value=1, max_value=4), min_size=2, max_size=2),
        shards=st.lists(st.sampled_from([1, 2, 3]), min_size=2, max_size=2),
    )
    def setup(
        self, world_seed: int, dynamodb_faults: float, dependency_faults: float, stock: list[int], shards: list[int]
    ) -> None:
        from order_service.domain import stock as stock_shards

        self.world = World(self.cloud, world_seed, dynamodb_faults, dependency_faults)
        self.world.install()
        stock_shards.choice.seed(world_seed)  # the shards orders pick: the same on a replay
        tag = uuid.uuid4().hex[-8:]  # this history's SKUs and customers, apart from the others
        self.skus = [f"SIM-{tag}-{letter}" for letter in "AB"]
        self.customers = [
            {"sub": f"cust-{tag}-{i}", "email": f"c{i}-{tag}@example.com", "email_verified": "true"} for i in range(2)
        ]
        self.world.note(
            f"world_seed={world_seed} dynamodb_faults={dynamodb_faults} dependency_faults={dependency_faults}"
        )
        with self.world_faults(False):
            for sku, units, count in zip(self.skus, stock, shards, strict=True):
                self._set_stock(sku, units, new=True, shards=count)

    # ------------------------------------------------------------------ helpers
    def world_faults(self, on: bool) -> Any:
        assert self.world is not None
        world: World = self.world  # the switch's methods below see it as set

        class _Switch:
            def __enter__(self) -> None:
                self.before = world.faults_on
                world.faults_on = on

            def __exit__(self, *_: Any) -> None:
                world.faults_on = self.before

        return _Switch()

    def _api(self, method: str, path: str, body: Any = None, *, claims: dict[str, str], **kwargs: Any) -> Any:
        event = api_event(method, path, body, claims=claims, **kwargs)
        try:
            response = self.cloud.api.handler(event, lambda_context("OrderApiFunction"))
        except Exception as error:  # API Gateway answers 502 for a function that raised
            return {"statusCode": 502, "body": json.dumps({"error": repr(error)}), "headers": {}}
        return response

    def _set_stock(self, sku: str, units: int, new: bool = False, shards: int | None = None) -> None:
        body: dict[str, Any] = {"stock": units}
        if new:
            body.update(name=f"Simulated {sku}", price="10.00")
        if shards is not None:
            body["shards"] = shards
        admin = {"sub": "admin", "email": "admin@example.com", "email_verified": "true", "cognito:groups": "admin"}
        response = self._api(
            "PUT", f"/inventory/{sku}", body, claims=admin, path_parameters={"sku": sku}, resource="/inventory/{sku}"
        )
        assert self.world is not None
        spread = f" over {shards} shards" if shards else ""
        self.world.note(f"admin sets stock of {sku[-1]} to {units}{spread}: {response['statusCode']}")
        self._check_answer(response)

    def _check_answer(self, response: dict[str, Any]) -> None:
        status = response["statusCode"]
        if status >= 500:
            if status != 503:
                return
            headers = {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}
            assert "Retry-After" in headers, "a 503 without Retry-After"
            assert json.loads(response["body"])["error"]["code"], "a 503 without a machine-readable error"

    def _concurrently(self, functions: list[Callable[[], Any]]) -> None:
        """Run on real threads, interleaved; what a thread raised is raised here (the
        harness's own checks run in them too)."""
        assert self.world is not None
        for outcome in self.world.interleaver.run(functions):
            if isinstance(outcome, BaseException):
                raise outcome

    @staticmethod
    def _wait_for_redelivery(messages: list[Message]) -> None:
        """A redelivery comes after the visibility timeout (60 s): time passes before the
        invocation starts. Never during one: a concurrent invocation's in-progress
        idempotency record (valid for the function's timeout) cannot expire while that
        invocation still runs, since Lambda would have stopped it."""
        if any(message.receive_count for message in messages):
            assert not Clock.in_flight, "the harness moved time during an invocation"
            Clock.advance(61)

    def _deliver(self, queue: Queue, messages: list[Message], instance: int, *, waited: bool = False) -> None:
        """Lambda receives a batch from SQS; the records it reports failed stay queued.
        `waited`: the caller already let the redelivery's time pass (before starting
        concurrent invocations)."""
        from tests.builders import sqs_record

        assert self.world is not None
        module = self.cloud.instances_of(queue.function, queue.module)[instance]
        if not waited:
            self._wait_for_redelivery(messages)
        records = []
        for message in messages:
            message.receive_count += 1
            records.append(sqs_record(message.body, message.message_id, message.receive_count))
        why = ""
        # Lambda names every instance's idempotency records after its function.
        os.environ["AWS_LAMBDA_FUNCTION_NAME"] = queue.function
        sent_before = len(self.world.emails)
        try:
            with Clock.invocation():
                response = module.handler({"Records": records}, lambda_context(queue.function))
            failed = {failure["itemIdentifier"] for failure in response.get("batchItemFailures", [])}
            errors = getattr(module.consumer.processor, "exceptions", [])
            why = "; ".join(repr(info[1])[:160] for info in errors if info and info[1] is not None)
        except Exception as error:
            failed = {message.message_id for message in messages}
            errors = getattr(getattr(module, "consumer", None), "processor", None)
            inner = [repr(info[1])[:160] for info in getattr(errors, "exceptions", []) if info and info[1]]
            why = "; ".join(inner) or repr(error)[:160]
        for email in self.world.emails[sent_before:]:
            if email.event_id is not None and any(
                m.message_id in failed and email.event_id in m.body for m in messages
            ):
                # SES took the mail but the record failed afterwards (its idempotency record
                # could not be completed): the retry may send it again. SES cannot
                # deduplicate; this is the one documented at-least-once place.
                self.world.ambiguous_emails.add(email.event_id or "")
        self._settle(queue, messages, failed, why)

    def _settle(self, queue: Queue, messages: list[Message], failed: set[str], why: str = "") -> None:
        assert self.world is not None
        for message in messages:
            kind = json.loads(message.body).get("event_type", "?")
            if message.message_id in failed:
                self.world.note(f"  {queue.function}: {kind} failed (receive {message.receive_count}): {why}")
                if message.receive_count >= MAX_RECEIVE_COUNT and message in queue.messages:
                    queue.messages.remove(message)
                    queue.dlq.append(message)
                    self.world.note(f"  {queue.function}: {kind} moved to the DLQ")
            elif message in queue.messages:
                queue.messages.remove(message)
                queue.processed += 1

    def _busy_queues(self) -> list[Queue]:
        assert self.world is not None
        return [q for q in self.world.queues.values() if q.messages]

    def _pending_stream(self) -> list[dict[str, Any]]:
        """Outbox entries of this history that the relay's stream has not delivered yet."""
        assert self.world is not None
        items = self.cloud.outbox_items()
        mine = [i for i in items if i["order_id"]["S"] in self.orders]
        return [i for i in mine if i["event_id"]["S"] not in self.world.streamed]

    def _relay(self, items: list[dict[str, Any]]) -> None:
        assert self.world is not None
        records = stream_inserts(items)["Records"]
        try:
            response = self.cloud.relay.handler({"Records": records}, lambda_context("OrderOutboxFunction"))
            failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        except Exception:
            failed = {r["dynamodb"]["SequenceNumber"] for r in records}
        for record in records:
            if record["dynamodb"]["SequenceNumber"] not in failed:
                self.world.streamed.add(record["dynamodb"]["Keys"]["event_id"]["S"])
        self.world.note(f"relay: {len(records) - len(failed)} of {len(records)} published")

    # ------------------------------------------------------------------ rules: the customers and the admin
    @rule(
        customer=st.integers(0, 1),
        lines=st.lists(st.tuples(st.integers(0, 1), st.integers(1, 2)), min_size=1, max_size=2),
        token=st.sampled_from(["tok_visa", "tok_visa", "tok_mastercard", "tok_chargeDeclined"]),
        postal_code=st.sampled_from(["N1 9GU", "N1 9GU", "N1 9GU", "00000"]),
        key=st.sampled_from(["none", "new", "retry"]),
    )
    def place_order(self, customer: int, lines: list[tuple[int, int]], token: str, postal_code: str, key: str) -> None:
        assert self.world is not None
        body = {
            "items": [{"sku": self.skus[sku], "quantity": quantity} for sku, quantity in lines],
            "shipping_address": {
                "name": "Ada Lovelace",
                "line1": "12 Analytical Row",
                "city": "London",
                "postal_code": postal_code,
                "country": "GB",
            },
            "payment_token": token,
        }
        headers: dict[str, str] = {}
        earlier = [k for k in self.keys if k[0] == customer]
        if key == "retry" and earlier:
            _, idempotency_key, raw = earlier[-1]
            body = json.loads(raw)
            headers["Idempotency-Key"] = idempotency_key
        elif key != "none":
            idempotency_key = uuid.uuid4().hex
            headers["Idempotency-Key"] = idempotency_key
            self.keys.append((customer, idempotency_key, json.dumps(body)))
        response = self._api("POST", "/orders", body, claims=self.customers[customer], headers=headers)
        self._check_answer(response)
        status = response["statusCode"]
        answer = json.loads(response["body"])
        summary = ", ".join(f"{q}x{self.skus[s][-1]}" for s, q in lines)
        self.world.note(f"customer {customer} orders {summary} {token} {postal_code} key={key}: {status}")
        assert status in (201, 409, 503), f"POST /orders answered {status}: {answer}"
        if status == 201:
            order_id = answer["order_id"]
            headers = {**(response.get("headers") or {}), **(response.get("multiValueHeaders") or {})}
            replay = "true" in str(headers.get("Idempotent-Replayed", ""))
            if not replay:
                assert order_id not in self.orders, "two requests created one order id"
            self.orders.setdefault(order_id, {"customer": customer, "total": answer["total"]})
            self.world.note(f"  -> order {order_id[:8]}{' (replayed)' if replay else ''}")

    @precondition(lambda self: bool(self.orders))
    @rule(which=st.integers(0, 10**6))
    def cancel(self, which: int) -> None:
        self._cancel(list(self.orders)[which % len(self.orders)])

    def _cancel(self, order_id: str) -> None:
        assert self.world is not None
        claims = self.customers[self.orders[order_id]["customer"]]
        response = self._api(
            "POST",
            f"/orders/{order_id}/cancel",
            claims=claims,
            path_parameters={"order_id": order_id},
            resource="/orders/{order_id}/cancel",
        )
        self._check_answer(response)
        status = response["statusCode"]
        self.world.note(f"cancel {order_id[:8]}: {status} {json.loads(response['body']).get('status', '')}")
        assert status in (202, 409, 503), f"DELETE answered {status}: {response['body']}"
        if status == 202:
            self.orders[order_id]["cancel_accepted"] = True

    @rule(sku=st.integers(0, 1), units=st.integers(0, 4), shards=st.sampled_from([None, None, 1, 2, 3]))
    def restock(self, sku: int, units: int, shards: int | None) -> None:
        self._set_stock(self.skus[sku], units, shards=shards)

    # ------------------------------------------------------------------ rules: the outbox
    @rule(take=st.integers(1, 3))
    def relay(self, take: int) -> None:
        pending = self._pending_stream()
        if pending:
            self._relay(pending[:take])

    # ------------------------------------------------------------------ rules: SQS
    @precondition(lambda self: bool(self._busy_queues()))
    @rule(
        which=st.integers(0, 10**6),
        pick=st.lists(st.integers(0, 10**6), min_size=1, max_size=3, unique=True),
        instance=st.integers(0, 1),
        again=st.booleans(),
    )
    def deliver(self, which: int, pick: list[int], instance: int, again: bool) -> None:
        """A batch of any messages of a queue (not the oldest first); sometimes SQS keeps a
        copy of one and delivers it again later (at-least-once)."""
        assert self.world is not None
        queues = self._busy_queues()
        queue = queues[which % len(queues)]
        chosen = list(dict.fromkeys(queue.messages[p % len(queue.messages)] for p in pick))
        kinds = [json.loads(m.body).get("event_type") for m in chosen]
        self.world.note(
            f"{queue.name} -> instance {instance}: {', '.join(kinds)}{' (and again later)' if again else ''}"
        )
        if again:
            copy = chosen[0]
            queue.messages.append(Message(str(uuid.uuid4()), copy.body, copy.attributes))
        self._deliver(queue, chosen, instance)

    @precondition(lambda self: bool(self._busy_queues()))
    @rule(which=st.integers(0, 10**6), first=st.integers(0, 10**6), second=st.integers(0, 10**6))
    def deliver_concurrently(self, which: int, first: int, second: int) -> None:
        """Two instances of a function each receive a message of its queue at the same
        moment (the same message twice when it is the only one)."""
        assert self.world is not None
        queues = self._busy_queues()
        queue = queues[which % len(queues)]
        a = queue.messages[first % len(queue.messages)]
        b = queue.messages[second % len(queue.messages)]
        if b is a:  # the same event under two SQS messages, as SNS may deliver it
            b = Message(str(uuid.uuid4()), a.body, a.attributes)
            queue.messages.append(b)
        kinds = [json.loads(m.body).get("event_type") for m in (a, b)]
        self.world.note(f"{queue.name} -> both instances at once: {kinds[0]} | {kinds[1]}")
        self._wait_for_redelivery([a, b])
        self._concurrently(
            [lambda: self._deliver(queue, [a], 0, waited=True), lambda: self._deliver(queue, [b], 1, waited=True)]
        )

    @precondition(lambda self: bool(self.orders) and bool(self._busy_queues()))
    @rule(order=st.integers(0, 10**6), which=st.integers(0, 10**6), pick=st.integers(0, 10**6))
    def cancel_during_delivery(self, order: int, which: int, pick: int) -> None:
        """The customer cancels while a consumer works on the same order's events."""
        assert self.world is not None
        order_id = list(self.orders)[order % len(self.orders)]
        queues = self._busy_queues()
        queue = queues[which % len(queues)]
        message = queue.messages[pick % len(queue.messages)]
        self.world.note(f"cancel {order_id[:8]} while {queue.name} handles {json.loads(message.body)['event_type']}")
        self._wait_for_redelivery([message])
        self._concurrently([lambda: self._cancel(order_id), lambda: self._deliver(queue, [message], 0, waited=True)])

    @precondition(lambda self: any(q.dlq for q in self.world.queues.values()) if self.world else False)
    @rule()
    def redrive(self) -> None:
        assert self.world is not None
        for queue in self.world.queues.values():
            for message in queue.dlq:
                message.receive_count = 0
                queue.messages.append(message)
            if queue.dlq:
                self.world.note(f"redrive {len(queue.dlq)} from {queue.name}'s DLQ")
            queue.dlq.clear()

    # ------------------------------------------------------------------ quiescence and the invariants
    def teardown(self) -> None:
        world = self.world
        if world is None:
            return
        try:
            with instant_sleep():
                self._quiesce()
                world.note("-- quiet; faults off; redrive every DLQ --")
                with self.world_faults(False):
                    self.redrive()
                    self._quiesce()
                stuck = {q.name: len(q.dlq) for q in world.queues.values() if q.dlq}
                assert not stuck, f"messages fail with every fault off: {stuck}"
                self._check_invariants()
        except BaseException:
            if current_build_context().is_final:  # the shortest failing history, not every try
                print("\nThe failing history, step by step:")
                print("\n".join(world.log))
            raise
        finally:
            self.cloud.world = None

    def _quiesce(self) -> None:
        assert self.world is not None
        for _ in range(400):
            pending = self._pending_stream()
            if pending:
                self._relay(pending)
                continue
            busy = self._busy_queues()
            if not busy:
                return
            queue = busy[self.world.rng.randrange(len(busy))]
            message = queue.messages[self.world.rng.randrange(len(queue.messages))]
            self._deliver(queue, [message], self.world.rng.randrange(2))
        raise AssertionError("the choreography never went quiet")

    def _check_invariants(self) -> None:
        world = self.world
        assert world is not None
        ddb = self.cloud.harness
        events_of: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for body in world.published:
            events_of[body["order_id"]].append(body)
        charges: dict[str, list[Any]] = defaultdict(list)
        key_of_charge: dict[str, str] = {}
        for key, answer in world.provider._answers.items():
            if answer.charge is not None:
                charges[world.provider.orders[key]].append(answer.charge)
                key_of_charge[answer.charge.charge_id] = key
        refunds: dict[str, list[Any]] = defaultdict(list)
        for answer in world.provider._refund_answers.values():
            if answer.refund is not None:
                key = key_of_charge[answer.request[0]]
                refunds[world.provider.orders[key]].append(answer.refund)
        bookings: Counter[str] = Counter(world.carrier.orders[key] for key in world.carrier._bookings)
        stock_moves = self._stock_moves()

        for order_id, known in self.orders.items():
            item = ddb.get_item(TableName="orders", Key={"order_id": {"S": order_id}}, ConsistentRead=True)["Item"]
            from order_service.adapters.dynamodb import from_item

            order = from_item(item)
            published = events_of[order_id]
            facts = {body["event_type"] for body in published}
            where = f"order {order_id[:8]} (facts {sorted(facts)})"
            # status: the one the facts imply, whatever order they came in, and a final one:
            # every message was processed and the DLQs redriven, so no order may be left midway
            assert order["status"] == expected_status(facts), f"{where}: status {order['status']}"
            assert order["status"] in FINAL, f"{where}: left {order['status']} after the redrive"
            # the timeline holds each event once, and every event
            timeline = [entry["event_id"] for entry in order.get("timeline", [])]
            assert len(timeline) == len(set(timeline)), f"{where}: an event twice in the timeline"
            assert set(timeline) == {b["event_id"] for b in published}, f"{where}: timeline {timeline}"
            # money
            total = order["total_cents"]
            charged = sum(c.amount_cents for c in charges[order_id])
            refunded = sum(r.amount_cents for r in refunds[order_id])
            assert len(charges[order_id]) <= 1, f"{where}: charged {len(charges[order_id])} times"
            assert refunded <= charged, f"{where}: refunded {refunded} of {charged}"
            assert charged - refunded in (0, total), f"{where}: kept {charged - refunded} of {total}"
            # goods
            assert bookings[order_id] <= 1, f"{where}: {bookings[order_id]} parcels"
            if bookings[order_id]:
                assert refunded == 0 and charged == total, (
                    f"{where}: shipped, but charged {charged} refunded {refunded}"
                )
            shipment = ddb.get_item(TableName="shipments", Key={"order_id": {"S": order_id}}, ConsistentRead=True)
            if shipment.get("Item", {}).get("status", {}).get("S") == "CANCELLED":
                assert bookings[order_id] == 0, f"{where}: booked after shipment stopped it"
            if "CANCELLATION_REJECTED" in facts:
                assert bookings[order_id] == 1 and refunded == 0, f"{where}: rejected, but not shipped and kept"
            if facts & {"SHIPMENT_CANCELLED", "CANCELLATION_REJECTED"}:
                assert "ORDER_CANCELLED" in facts, f"{where}: a verdict without a request"
            assert not {"SHIPMENT_CANCELLED", "CANCELLATION_REJECTED"} <= facts, f"{where}: two verdicts"
            cancelled_at = self._payment_cancelled_at(order_id)
            if cancelled_at is not None:
                began = [world.provider.began[key_of_charge[c.charge_id]] for c in charges[order_id]]
                assert all(b < cancelled_at for b in began), f"{where}: charged after billing took the cancellation"
            # stock: each line's units taken once (from one shard, or split over several), and
            # put back once, on exactly the shards they came from, when the goods stay home
            moves = stock_moves.get(order_id, {})
            releasing = expected_status(facts) in RELEASING
            for line in order["lines"]:
                sku = line["sku"]
                taken = moves.get(("reserve", sku), Counter())
                back = moves.get(("release", sku), Counter())
                assert all(n == 1 for n in taken.values()), f"{where}: {sku} taken twice from a shard: {taken}"
                units = sum(quantity for _, quantity in taken)
                assert units == line["quantity"], f"{where}: {sku} took {units} for a line of {line['quantity']}"
                assert back == (taken if releasing else Counter()), (
                    f"{where}: {sku} took {dict(taken)} and put back {dict(back)} (releasing: {releasing})"
                )
            # email: one per customer-facing fact, to the customer
            customer = self.customers[known["customer"]]["email"]
            mails = [m for m in world.emails if m.order_id == order_id]
            assert all(m.to == customer for m in mails), f"{where}: mail to {[m.to for m in mails]}"
            expected_mails = {b["event_id"] for b in published if b["event_type"] in _customer_facing()}
            sent = Counter(m.event_id for m in mails)
            assert set(sent) == expected_mails, f"{where}: emails {[m.event_type for m in mails]}"
            for event_id, copies in sent.items():
                assert copies == 1 or event_id in world.ambiguous_emails, f"{where}: {copies} emails for one event"
        # stock, per shard: never negative, and what is left is what the last restock set
        # plus the units released to that shard since, minus the units taken from it since
        for sku in self.skus:
            for shard, left in self._shards_now(sku).items():
                where = f"{sku[-1]} shard {shard}"
                assert left >= 0, f"{where}: negative stock {left}"
                expected = self._expected_stock(sku, shard)
                assert left == expected, f"{where}: {left} left, but the writes say {expected}"

    def _payment_cancelled_at(self, order_id: str) -> int | None:
        assert self.world is not None
        for seq, _, params in self.world.writes:
            item = params.get("Item", {})
            if item.get("order_id", {}).get("S") == order_id and item.get("status", {}).get("S") == "CANCELLED":
                return seq
        return None

    def _stock_moves(self) -> dict[str, dict[tuple[str, str], Counter[tuple[int, int]]]]:
        """Per order and SKU, the (shard, units) of each reservation and release, from the
        products-table writes that took effect."""
        assert self.world is not None
        moves: dict[str, dict[tuple[str, str], Counter[tuple[int, int]]]] = defaultdict(lambda: defaultdict(Counter))
        for _, _, params in self.world.writes:
            order_id = params.get("_order_id")
            move = _stock_move(params)
            if order_id is not None and move is not None:
                kind, sku, shard, units = move
                moves[order_id][(kind, sku)][(shard, units)] += 1
        return moves

    def _shards_now(self, sku: str) -> dict[int, int]:
        ddb = self.cloud.harness
        product = ddb.get_item(TableName="products", Key={"sku": {"S": sku}}, ConsistentRead=True)["Item"]
        count = int(product.get("shard_items", {}).get("N", "1"))
        stocks = {0: int(product["stock"]["N"])}
        for shard in range(1, count):
            key = {"sku": {"S": f"{sku}#{shard}"}}
            item = ddb.get_item(TableName="products", Key=key, ConsistentRead=True).get("Item", {})
            stocks[shard] = int(item.get("stock", {}).get("N", "0"))
        return stocks

    def _expected_stock(self, sku: str, shard: int) -> int:
        """A shard's stock as the writes that took effect say: the last restock's value, then
        every reservation and release after it."""
        assert self.world is not None
        stock = 0
        for _, _, params in self.world.writes:
            restocked = _restock_value(params)
            if restocked is not None and restocked[:2] == (sku, shard):
                stock = restocked[2]
                continue
            move = _stock_move(params)
            if params.get("_order_id") is not None and move is not None and move[1:3] == (sku, shard):
                stock += move[3] if move[0] == "release" else -move[3]
        return stock


def _shard_of_key(key: str) -> tuple[str, int]:
    sku, _, shard = key.partition("#")
    return sku, int(shard or 0)


def _stock_move(params: dict[str, Any]) -> tuple[str, str, int, int] | None:
    """("reserve" | "release", sku, shard, units) of an order's write to a stock shard."""
    expression = params.get("UpdateExpression", "")
    if params.get("TableName") != "products" or ":quantity" not in expression:
        return None
    sku, shard = _shard_of_key(params["Key"]["sku"]["S"])
    units = int(params["ExpressionAttributeValues"][":quantity"]["N"])
    if "stock - :quantity" in expression:
        return "reserve", sku, shard, units
    if "ADD stock" in expression:
        return "release", sku, shard, units
    return None


def _restock_value(params: dict[str, Any]) -> tuple[str, int, int] | None:
    """(sku, shard, stock) that a restock's write set on a stock shard."""
    if params.get("TableName") != "products" or params.get("_order_id") is not None:
        return None
    sku, shard = _shard_of_key(params["Key"]["sku"]["S"])
    values = params.get("ExpressionAttributeValues", {})
    if ":stock" in values:  # a shard item
        return sku, shard, int(values[":stock"]["N"])
    names = {value: name for name, value in params.get("ExpressionAttributeNames", {}).items()}
    if "stock" in names:  # the product item: "#uN = :uN"
        return sku, shard, int(values[":" + names["stock"][1:]]["N"])
    return None


def _settings() -> settings:
    return settings(
        max_examples=max(1, EXAMPLES // SHARDS),
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        print_blob=True,
        phases=PHASES,
    )


# The histories are split in shards, one per pytest-xdist worker (`make test` runs two).
SHARDS = 2


@pytest.mark.simulation
@pytest.mark.parametrize("shard", range(SHARDS))
def test_choreography_keeps_its_invariants(shard: int) -> None:
    run_seed = int(SEED) if SEED is not None else random.SystemRandom().randrange(2**32)
    machine = seed(run_seed + shard)(Choreography)
    replay = os.environ.get("SIMULATION_REPLAY")
    if replay:  # the blob Hypothesis printed: the one failing history, at once
        if shard:
            pytest.skip("a replay runs one history")
        machine = reproduce_failure(hypothesis.__version__, replay.encode())(machine)
    try:
        run_state_machine_as_test(machine, settings=_settings())
    except BaseException:
        print(f"\nSIMULATION_SEED={run_seed} make simulate   # replays this run, histories and shrinking")
        print("SIMULATION_REPLAY=<the blob of @reproduce_failure above> make simulate   # just the failing history")
        raise
