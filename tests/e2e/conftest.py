"""The end-to-end tier: the whole stack deployed on MiniStack, driven through its
public interfaces only (HTTP API, Cognito, the emulator's SES message list).

By default the session starts its own MiniStack on a spare loopback port (so a stack
left running by `make run` is not disturbed), builds and deploys template.yaml to it
with the SAM CLI, and stops it at the end. Point it at an existing stack with
E2E_ENDPOINT_URL (a running MiniStack) or E2E_TARGET=aws (your AWS credentials and
STACK_NAME); on AWS the tests that read SES mail are skipped.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.stack import DEMO_CATALOGUE, STACK_NAME, Stack

ROOT = Path(__file__).resolve().parents[2]
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_ministack/health", timeout=2) as response:  # noqa: S310
            return bool(response.status == 200)
    except OSError:
        return False


def _tool(env_name: str, venv_path: str) -> str:
    path = os.environ.get(env_name) or str(ROOT / venv_path)
    if not Path(path).exists():
        pytest.fail(f"{path} is missing: run the tests with `make test`, which installs it")
    return path


def _run(cmd: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        result = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False)  # noqa: S603
    if result.returncode != 0:
        tail = "".join(log.read_text().splitlines(keepends=True)[-40:])
        pytest.fail(f"{cmd[0]} {cmd[1]} failed (exit {result.returncode}); log {log}:\n{tail}")


def _deploy(endpoint: str, log: Path) -> None:
    sam = _tool("SAM_CLI", ".venv-sam/bin/sam")
    arch = os.environ.get("LOCAL_ARCH") or ("arm64" if os.uname().machine in ("arm64", "aarch64") else "x86_64")
    pyver = os.environ.get("LOCAL_PY") or "{}.{}".format(*sys.version_info[:2])
    params = (
        f"PythonRuntime=python{pyver} Architecture={arch} TracingEnabled=false SaveTraceQuery=false "
        "SenderEmail=orders@shop.local DeliveryDelaySeconds=2"
    )
    env = {
        **os.environ,
        **LOCAL_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint,
        "SAM_CLI_TELEMETRY": "0",
        "LAMBDA_ARCHITECTURE": arch,
        "LAMBDA_PYTHON_VERSION": pyver,
    }
    build_dir = ROOT / ".aws-sam" / "e2e"
    _run(
        [sam, "build", "--config-env", "local", "--build-dir", str(build_dir), "--parameter-overrides", params],
        env,
        log,
    )
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="sam-artifacts-local")
    # With --template-file SAM looks for samconfig.toml beside the built template: name ours.
    _run(
        [
            sam,
            "deploy",
            "--config-file",
            str(ROOT / "samconfig.toml"),
            "--config-env",
            "local",
            "--template-file",
            str(build_dir / "template.yaml"),
            "--stack-name",
            STACK_NAME,
            "--parameter-overrides",
            params,
            "--no-progressbar",
        ],
        env,
        log,
    )


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    if os.environ.get("E2E_TARGET") == "aws":
        yield Stack.load(endpoint_url="")
        return
    endpoint = os.environ.get("E2E_ENDPOINT_URL")
    process = None
    if not endpoint:
        ministack = _tool("MINISTACK_BIN", ".venv-ministack/bin/ministack")
        port = _free_port()
        endpoint = f"http://127.0.0.1:{port}"
        logs = ROOT / ".local"
        logs.mkdir(exist_ok=True)
        log = (logs / "ministack-e2e.log").open("w")
        process = subprocess.Popen(  # noqa: S603
            [ministack],
            env={**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(port), "IOT_MTLS_ENABLED": "false"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not _healthy(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"MiniStack did not start; see {logs / 'ministack-e2e.log'}")
            time.sleep(0.3)
    for key, value in {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
        os.environ[key] = value
    try:
        if process is not None:
            deploy_log = ROOT / ".local" / "e2e-deploy.log"
            deploy_log.write_text("")
            _deploy(endpoint, deploy_log)
        deployed = Stack.load(endpoint_url=endpoint)
        deployed.seed_catalogue(reset=True)
        yield deployed
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        os.environ.pop("AWS_ENDPOINT_URL", None)


class Customer:
    def __init__(self, stack: Stack, email: str) -> None:
        self.stack = stack
        self.email = email
        stack.create_customer(email)
        self.token = stack.login(email)["IdToken"]

    def post_order(self, body: object) -> object:
        return self.stack.request("POST", "/orders", body, token=self.token)

    def get_order(self, order_id: str) -> object:
        return self.stack.request("GET", f"/orders/{order_id}", token=self.token)

    def emails(self) -> list[dict[str, object]]:
        return self.stack.sent_emails(to=self.email)


@pytest.fixture
def customer(stack: Stack) -> Customer:
    """A new customer for each test, so every inbox starts empty."""
    return Customer(stack, f"e2e-{uuid.uuid4().hex[:10]}@example.com")


@pytest.fixture
def other_customer(stack: Stack) -> Customer:
    return Customer(stack, f"e2e-other-{uuid.uuid4().hex[:10]}@example.com")


@pytest.fixture
def needs_inbox(stack: Stack) -> None:
    if not stack.is_local:
        pytest.skip("reading the emails SES sent needs MiniStack")


__all__ = ["DEMO_CATALOGUE", "Customer", "shutil"]
