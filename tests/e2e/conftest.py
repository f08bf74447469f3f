"""The end-to-end tier: the whole stack deployed on MiniStack, driven through its
public interfaces only (HTTP API, Cognito, and the mailbox the emails reach by SMTP).

By default the session starts its own SMTP server (scripts/mailserver.py, delivering
to .local/e2e-maildir) and its own MiniStack relaying SES mail to it, both on spare
loopback ports (so a stack left running by `make run` is not disturbed), builds and
deploys template.yaml with the SAM CLI, and stops both at the end. Point it at an
existing stack with E2E_ENDPOINT_URL (a running MiniStack; its mail is read from
E2E_MAILDIR, default .local/maildir, the one `make run` fills) or E2E_TARGET=aws (your
AWS credentials and STACK_NAME); on AWS the tests that read emails are skipped.
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

from scripts.mailbox import MAILDIR, ReceivedEmail
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


def _stop(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _start_mail_server(maildir: Path, logs: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The session's own SMTP server, delivering to a Maildir emptied first."""
    shutil.rmtree(maildir, ignore_errors=True)
    port_file = logs / "smtp-e2e.port"
    port_file.unlink(missing_ok=True)
    process = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "scripts.mailserver", "--maildir", str(maildir), "--port-file", str(port_file)],
        cwd=ROOT,
        stdout=(logs / "smtp-e2e.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while not (port_file.exists() and port_file.read_text().strip()):
        if process.poll() is not None or time.monotonic() > deadline:
            if process.poll() is None:
                _stop(process)
            pytest.fail(f"the mail server did not start; see {logs / 'smtp-e2e.log'}")
        time.sleep(0.1)
    return process, int(port_file.read_text())


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


# The browser tests' console server listens here; the deployed API's CORS allows its origin.
CONSOLE_PORT = int(os.environ.get("E2E_CONSOLE_PORT") or _free_port())


def _deploy(endpoint: str, log: Path) -> None:
    sam = _tool("SAM_CLI", ".venv-sam/bin/sam")
    arch = os.environ.get("LOCAL_ARCH") or ("arm64" if os.uname().machine in ("arm64", "aarch64") else "x86_64")
    pyver = os.environ.get("LOCAL_PY") or "{}.{}".format(*sys.version_info[:2])
    params = (
        f"PythonRuntime=python{pyver} Architecture={arch} TracingEnabled=false SaveTraceQuery=false "
        "SenderEmail=orders@shop.local SenderName=Shop ReplyToEmail=help@shop.local DeliveryDelaySeconds=2 "
        f"HostConsole=false ConsoleOrigin=http://127.0.0.1:{CONSOLE_PORT}"
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
    maildir = Path(os.environ.get("E2E_MAILDIR") or MAILDIR)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        if not endpoint:
            ministack = _tool("MINISTACK_BIN", ".venv-ministack/bin/ministack")
            logs = ROOT / ".local"
            logs.mkdir(exist_ok=True)
            maildir = logs / "e2e-maildir"
            mail_server, smtp_port = _start_mail_server(maildir, logs)
            processes.append(mail_server)
            port = _free_port()
            endpoint = f"http://127.0.0.1:{port}"
            log = (logs / "ministack-e2e.log").open("w")
            env = {
                **os.environ,
                "BIND_HOST": "127.0.0.1",
                "GATEWAY_PORT": str(port),
                "IOT_MTLS_ENABLED": "false",
                # MiniStack's SES relay: every email (Cognito's codes too) goes out by SMTP.
                "SMTP_HOST": f"127.0.0.1:{smtp_port}",
            }
            process = subprocess.Popen(  # noqa: S603
                [ministack], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
            processes.append(process)
            deadline = time.monotonic() + 60
            while not _healthy(endpoint):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"MiniStack did not start; see {logs / 'ministack-e2e.log'}")
                time.sleep(0.3)
        for key, value in {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": endpoint}.items():
            os.environ[key] = value
        if processes:
            deploy_log = ROOT / ".local" / "e2e-deploy.log"
            deploy_log.write_text("")
            _deploy(endpoint, deploy_log)
        deployed = Stack.load(endpoint_url=endpoint, maildir=maildir)
        deployed.seed_catalogue(reset=True)
        yield deployed
    finally:
        for process in reversed(processes):  # MiniStack first, then the mail server it relays to
            _stop(process)
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

    def emails(self) -> list[ReceivedEmail]:
        """This customer's emails in the mailbox, oldest first, parsed as MIME."""
        return self.stack.emails(to=self.email)


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
        pytest.skip("reading the emails needs the local mailbox MiniStack relays SES mail to")


__all__ = ["DEMO_CATALOGUE", "Customer", "shutil"]
