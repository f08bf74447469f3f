"""The console's local server: its mailbox reader over a real Maildir, its config, its
static files and its guard against other Host names (a real server on a free port)."""

from __future__ import annotations

import email.utils
import json
import mailbox
import threading
import urllib.error
import urllib.request
from email.message import EmailMessage
from pathlib import Path

import pytest

from console.serve import ConsoleServer, Mailbox, content_security_policy, read_maildir

CONFIG = {
    "apiUrl": "http://127.0.0.1:4566/_aws/execute-api/abc/v1",
    "cognitoUrl": "http://127.0.0.1:4566/",
    "clientId": "c",
}


def message(to: str, subject: str, when: float, text: str, html: str | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Shop <orders@shop.local>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.formatdate(when)
    msg["Message-ID"] = email.utils.make_msgid()
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    return msg


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    box = mailbox.Maildir(tmp_path / "maildir", create=True)
    box.add(message("Ada <ada@example.com>", "Order shipped", 2_000_000_000, "On its way.", "<p>On its way.</p>"))
    box.add(message("ada@example.com", "Your verification code", 1_900_000_000, "Your code is 123456."))
    box.add(message("eve@example.com", "Not Ada's", 1_950_000_000, "Private."))
    return tmp_path / "maildir"


def test_the_maildir_reader_keeps_one_recipients_mail_oldest_first_with_text_and_html(maildir):
    found = read_maildir(maildir, "ADA@example.com")

    assert [m["subject"] for m in found] == ["Your verification code", "Order shipped"]
    assert found[0]["text"].strip() == "Your code is 123456." and found[0]["html"] == ""
    assert found[1]["html"].strip() == "<p>On its way.</p>"
    assert found[1]["from"] == "Shop <orders@shop.local>"


@pytest.fixture
def server(maildir):
    running = ConsoleServer(0, CONFIG, Mailbox(maildir=maildir, ministack=None))
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    yield running
    running.shutdown()
    running.server_close()


def get(server, path: str, host: str | None = None):
    headers = {"Host": host} if host else {}
    request = urllib.request.Request(f"{server.origin}{path}", headers=headers)  # noqa: S310 - our test server
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - our own test server
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_it_serves_the_site_its_config_and_the_mailbox(server):
    status, headers, body = get(server, "/")
    assert status == 200 and b'<script type="module" src="app.js">' in body
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert json.loads(get(server, "/config.json")[2]) == {**CONFIG, "mailbox": True}
    status, _, body = get(server, "/local/mailbox?to=ada%40example.com")
    assert status == 200 and [m["subject"] for m in json.loads(body)["messages"]][-1] == "Order shipped"


def test_it_refuses_bad_addresses_escapes_and_other_hosts(server):
    assert get(server, "/local/mailbox?to=nobody")[0] == 400
    assert get(server, "/../console/serve.py")[0] == 404
    assert get(server, "/%2e%2e/serve.py")[0] == 404
    assert get(server, "/config.json", host="evil.example:80")[0] == 421


def test_the_content_security_policy_names_the_api_and_cognito_origins_only():
    policy = content_security_policy(CONFIG)
    assert "connect-src 'self' http://127.0.0.1:4566;" in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
