"""The browser tier: the web console (console/) in headless Chromium, driven by Playwright
(pytest-playwright), against the stack the e2e session deployed.

The browser is Debian's `chromium` (`make browser` installs it; `make test` runs that
first): Playwright never downloads one of its own. Each test gets a fresh browser context
(and the browser runs on a fresh temporary profile). A failing test leaves a screenshot
in .local/browser-failures/. With CONSOLE_SCREENSHOTS=<dir>, the tests also save a
screenshot at every step (for reviewing the console's look).
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from console.serve import ConsoleServer, Mailbox
from scripts.stack import Stack
from tests.e2e.conftest import CONSOLE_PORT, ROOT

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAILURES = ROOT / ".local" / "browser-failures"
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 375, "height": 740}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: `make browser` installs Debian's chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # CONSOLE_VIEWPORT=phone runs every test at phone width (e.g. for phone screenshots).
    viewport = PHONE if os.environ.get("CONSOLE_VIEWPORT") == "phone" else DESKTOP
    return {**browser_context_args, "viewport": viewport, "locale": "en-GB", "timezone_id": "UTC"}


@pytest.fixture(scope="session")
def console(stack: Stack) -> Iterator[str]:
    """The console's local server, as `make run` starts it, for the deployed stack."""
    if not stack.is_local:
        pytest.skip("the browser tests read the local mailbox: they need MiniStack")
    assert stack.endpoint_url
    config = {
        "apiUrl": stack.api_url,
        "cognitoUrl": stack.endpoint_url.rstrip("/") + "/",
        "clientId": stack.outputs["UserPoolClientId"],
        "region": stack.region,
    }
    # The Maildir the session's SMTP server fills (the customers read their mail there).
    maildir = getattr(stack, "maildir", None) or os.environ.get("E2E_MAILDIR")
    server = ConsoleServer(CONSOLE_PORT, config, Mailbox(Path(maildir) if maildir else None, stack.endpoint_url))
    thread = threading.Thread(target=server.serve_forever, name="console", daemon=True)
    thread.start()
    try:
        yield server.origin + "/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]  # pluggy's hookwrapper outcome (untyped here)
    setattr(item, f"report_{report.when}", report)


@pytest.fixture(autouse=True)
def screenshot_on_failure(request: pytest.FixtureRequest, page: Any) -> Iterator[None]:
    """Every browser test has a page; on failure it is photographed before it closes."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        FAILURES.mkdir(parents=True, exist_ok=True)
        path = FAILURES / (re.sub(r"[^\w.-]+", "_", request.node.name) + ".png")
        try:
            page.screenshot(path=str(path), full_page=True)
            print(f"screenshot of the failure: {path}")
        except Exception as error:  # the page may be gone with the failure
            print(f"no screenshot ({error})")


def shot(page: Any, name: str) -> None:
    """A screenshot of this step, when CONSOLE_SCREENSHOTS names a folder."""
    folder = os.environ.get("CONSOLE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        width = page.viewport_size["width"] if page.viewport_size else 0
        page.screenshot(path=str(Path(folder) / f"{name}-{'phone' if width < 600 else 'desktop'}.png"), full_page=True)
