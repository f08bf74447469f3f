"""What a handler's import must not do (Lambda cold start; `make bench` measures it):
build what only some invocations need. Each handler is imported in a fresh interpreter
with its deployed environment, and the modules it loaded are checked. No timing here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.bench import HANDLER_ENV, HANDLERS

ROOT = Path(__file__).resolve().parents[2]
# Loaded only when an invocation needs them, never at import:
DEFERRED = {
    # Powertools' pydantic models of every AWS event source: built at import of its batch
    # utility when pydantic is loaded first; the consumers use the data classes.
    "aws_lambda_powertools.utilities.parser.models",
    "jinja2",  # rendering: first email or invoice
    "aws_lambda_powertools.event_handler.openapi.models",  # GET /openapi.json
    "order_service.handlers.openapi",  # GET /openapi.json
}
_PROBE = (
    "import json, sys, {module}; from events import models; "
    "built = [c.__name__ for c in models.EVENT_CLASSES if c.__pydantic_complete__]; "
    "print(json.dumps({{'modules': sorted(sys.modules), 'built': built}}))"
)


def _import(module: str) -> dict[str, list[str]]:
    env = {**os.environ, **HANDLER_ENV, "LAMBDA_TASK_ROOT": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "true"}
    env.pop("AWS_ENDPOINT_URL", None)
    out = subprocess.run(  # noqa: S603 - our own interpreter and module names
        [sys.executable, "-c", _PROBE.format(module=module)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("module", HANDLERS)
def test_import_defers_what_only_some_invocations_need(module: str) -> None:
    imported = _import(module)
    assert not DEFERRED & set(imported["modules"])
    # Each function builds the validators of the events it receives, when it receives them.
    assert imported["built"] == []
