"""The deployed API against its own OpenAPI document (GET /openapi.json).

Schemathesis loads the document the stack serves and, for every operation, sends the
examples it declares (examples phase), the boundary and just-out-of-bounds values of its
schemas (coverage phase) and requests Hypothesis generates, valid and invalid (fuzzing
phase, MAX_EXAMPLES per operation, derandomized: the same requests every run), then
sequences along the links it infers (stateful phase: an order placed, then read, paid,
invoiced, cancelled). Every check `schemathesis run --checks all` runs applies, but
`unsupported_method` (API Gateway answers a method the document does not declare itself,
before this API): no 5xx; a documented status, content type, headers and body; no
schema-valid request refused, no invalid one accepted, no missing required header let
through, no auth ignored; a resource there right after its creation, none still
answering after a delete.

It runs through schemathesis' engine (what `schemathesis run` drives) rather than its
pytest plugin: the plugin's fixture-loaded schemas (`schemathesis.pytest.from_fixture`)
break on pytest 9 (they use `Function._nodeid`, which pytest 9 no longer has), and the
schema can only be loaded once the session's stack is deployed.

Orders it gets through are placed by a customer of its own, for the one SKU the document
names (the demo catalogue's MUG-001, in the request example); the other e2e tests count
the stock of products they create themselves, and on MiniStack the demo catalogue is put
back as seeded afterwards.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import pytest
import schemathesis
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import CheckFunction
from schemathesis.engine import Status, events, from_schema
from schemathesis.specs.openapi import checks as _openapi_checks  # noqa: F401 - registers the OpenAPI checks

from scripts.stack import Stack
from tests.e2e.conftest import Customer
from tests.e2e.flows import new_product, order_body

MAX_EXAMPLES = 25  # per operation, fuzzing phase; the examples and coverage phases add their own cases


def _check_functions() -> list[CheckFunction]:
    """Every registered check but unsupported_method. validate_response takes check functions:
    the registry may also hold check classes (schemathesis 4.32 registers none); one would fail
    here rather than be dropped."""
    functions: list[CheckFunction] = []
    for check in REGISTERED_CHECKS.get_all():
        assert not isinstance(check, type), f"{check.__name__} is a check class"
        if check.__name__ != "unsupported_method":
            functions.append(check)
    return functions


# Every check schemathesis has (what `schemathesis run --checks all` runs) but the one on
# methods the document does not declare: API Gateway answers those itself, before this API.
CHECKS = _check_functions()
STATEFUL = "Stateful tests"  # how the engine labels the sequences it builds from inferred links
# The operations schemathesis generates requests for. GET /openapi.json is the document
# itself, which it leaves out; the last test below checks that answer.
FUZZED = {
    "GET /products",
    "GET /products/{sku}",
    "PUT /inventory/{sku}",
    "POST /orders",
    "GET /orders",
    "GET /orders/{order_id}",
    "POST /orders/{order_id}/cancel",
    "GET /orders/{order_id}/payment",
    "GET /orders/{order_id}/invoice",
}


def _load(stack: Stack, **config: object) -> schemathesis.BaseSchema:
    settings = {"base-url": stack.api_url, "request-timeout": 30, **config}
    return schemathesis.openapi.from_url(
        stack.api_url + "/openapi.json", config=schemathesis.Config.from_dict(settings)
    )


@dataclass
class Run:
    """What one schemathesis run sent and got."""

    answers: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # (operation, phase, status)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cases(self) -> int:
        return self.answers.total()

    def record(self, stream: Iterable[events.EngineEvent]) -> Run:
        for event in stream:
            if isinstance(event, events.ScenarioFinished):
                self._scenario(event)
            elif isinstance(event, events.NonFatalError):
                self.errors.append(f"{event.label}: {event.info.format()}")
            elif isinstance(event, events.FatalError):
                self.errors.append(f"fatal: {event.exception!r}")
        return self

    def _scenario(self, event: events.ScenarioFinished) -> None:
        recorder = event.recorder
        for interaction in recorder.interactions.values():
            if interaction.response is not None:
                self.answers[(recorder.label, str(event.phase), interaction.response.status_code)] += 1
        for checks in recorder.checks.values():
            for check in checks:
                if check.status != Status.SUCCESS and check.failure_info is not None:
                    failure = check.failure_info.failure
                    self.failures.append(
                        f"{recorder.label} [{check.name}] {failure.title}\n{failure.message}\n"
                        f"  {check.failure_info.code_sample}"
                    )

    def summary(self) -> str:
        by_operation: dict[str, Counter[int]] = {}
        for (label, _, status), count in self.answers.items():
            by_operation.setdefault(label, Counter())[status] += count
        lines = [f"schemathesis: {self.cases} cases run against the deployed API, {len(self.failures)} failures"]
        for label, statuses in sorted(by_operation.items()):
            answered = ", ".join(f"{status} x{count}" for status, count in sorted(statuses.items()))
            lines.append(f"  {label}: {statuses.total()} cases ({answered})")
        phases = Counter[str]()
        for (_, phase, _), count in self.answers.items():
            phases[phase] += count
        lines.append("  by phase: " + ", ".join(f"{phase} {count}" for phase, count in sorted(phases.items())))
        return "\n".join(lines)


@pytest.fixture(scope="module")
def fuzz_customer(stack: Stack) -> Customer:
    """The customer schemathesis acts as: any order it places is nobody else's."""
    return Customer(stack, f"e2e-schemathesis-{uuid.uuid4().hex[:10]}@example.com")


@pytest.fixture(scope="module")
def schemathesis_run(stack: Stack, fuzz_customer: Customer) -> Iterator[Run]:
    schema = _load(
        stack,
        # The document's security scheme: the customer's ID token in the Authorization header.
        auth={"openapi": {"CognitoIdToken": {"api_key": fuzz_customer.token}}},
        generation={"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
        # Stateful: orders placed by POST are then read, cancelled, paid and invoiced by the
        # links schemathesis infers (an invoice asked for right after the order, say).
        phases={"stateful": {"enabled": True}},
        checks={"enabled": False, **{check.__name__: {"enabled": True} for check in CHECKS}},
    )
    run = Run().record(from_schema(schema).execute())
    print("\n" + run.summary())
    yield run
    if stack.endpoint_url:  # MiniStack: give back the demo stock its orders took
        stack.seed_catalogue(reset=True)


def test_schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_describe(
    schemathesis_run: Run,
) -> None:
    run = schemathesis_run
    assert not run.errors, "\n".join(run.errors)
    assert not run.failures, f"{len(run.failures)} failures:\n\n" + "\n\n".join(run.failures)
    assert {label for label, _, _ in run.answers} - {STATEFUL} == FUZZED
    assert any(label == STATEFUL for label, _, _ in run.answers)  # sequences ran too
    assert not [key for key in run.answers if key[2] >= 500]
    assert run.cases >= len(FUZZED) * MAX_EXAMPLES


def _checked(case: schemathesis.Case) -> int:
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    return response.status_code


def test_every_documented_answer_matches_the_document(stack: Stack, fuzz_customer: Customer) -> None:
    """The answers generated input rarely reaches, each request sent with exactly the
    headers given: an order placed and replayed, read back, out of stock, asked for
    without a valid token; and the document itself."""
    document = _load(stack)
    place = document["/orders"]["POST"]
    read = document["/orders/{order_id}"]["GET"]
    auth = {"Authorization": fuzz_customer.token}
    sku = new_product(stack, stock=2)

    key = {"Idempotency-Key": f"schema-{uuid.uuid4().hex}"}
    placed = place.Case(body=order_body(sku, quantity=2), headers={**auth, **key})
    response = placed.call()
    placed.validate_response(response, checks=CHECKS)
    assert response.status_code == 201
    order_id = response.json()["order_id"]
    replayed = place.Case(body=order_body(sku, quantity=2), headers={**auth, **key})
    response = replayed.call()
    replayed.validate_response(response, checks=CHECKS)
    assert response.status_code == 201
    assert response.headers["idempotent-replayed"] == ["true"]

    assert _checked(read.Case(path_parameters={"order_id": order_id}, headers=auth)) == 200
    assert _checked(place.Case(body=order_body(sku, quantity=1), headers=auth)) == 409
    assert _checked(place.Case(body=order_body("NOPE-404"), headers=auth)) == 409
    assert _checked(read.Case(path_parameters={"order_id": str(uuid.uuid4())}, headers=auth)) == 404
    assert _checked(read.Case(path_parameters={"order_id": "x" * 65}, headers=auth)) == 422
    for headers in ({}, {"Authorization": "not-a-jwt"}):
        assert _checked(read.Case(path_parameters={"order_id": order_id}, headers=headers)) == 401
        assert _checked(place.Case(body=order_body(sku), headers=headers)) == 401
    assert _checked(document["/products"]["GET"].Case()) == 200

    served = document["/openapi.json"]["GET"].Case()
    assert _checked(served) == 200
    assert json.loads(served.call().content)["info"]["title"] == "Order choreography API"
