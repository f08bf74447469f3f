"""The local SMTP server (scripts/mailserver.py) as MiniStack uses it: a real process on
a free loopback port, spoken to with smtplib, read back from its Maildir."""

from __future__ import annotations

import signal
import smtplib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from email_service.adapters.mime import build_message
from email_service.domain.model import Email
from scripts.mailbox import read_mailbox

ROOT = Path(__file__).resolve().parents[3]


class MailServer:
    def __init__(self, tmp_path: Path) -> None:
        self.maildir = tmp_path / "maildir"
        self.port_file = tmp_path / "smtp.port"
        command = [sys.executable, "-m", "scripts.mailserver", "--maildir", str(self.maildir)]
        command += ["--port-file", str(self.port_file)]
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(600):  # a startup wait (up to 30 s), not a speed check
            if self.port_file.exists() and self.port_file.read_text().strip():
                break
            assert self.process.poll() is None, self.process.communicate()[0]
            time.sleep(0.05)
        else:
            raise AssertionError("the mail server did not write its port")
        self.port = int(self.port_file.read_text())

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=10)


def listeners(port: int) -> set[str]:
    """The local addresses listening on `port`, as the kernel lists them (hex)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, hex_port = local.partition(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MailServer]:
    running = MailServer(tmp_path)
    yield running
    if running.process.poll() is None:
        running.stop()
    running.process.stdout.close()  # type: ignore[union-attr]  # the server is started with stdout=PIPE


def test_a_message_sent_over_smtp_lands_in_the_maildir_byte_for_byte_with_its_envelope(server: MailServer) -> None:
    mail = Email(to="ada@example.com", subject="Your order, Иван", text="Hello Иван", html="<p>Hello Иван</p>")
    message = build_message(mail, "orders@shop.local", "Shop", "help@shop.local")

    with smtplib.SMTP("127.0.0.1", server.port, timeout=10) as smtp:
        refused = smtp.sendmail("orders@shop.local", ["ada@example.com"], message.as_bytes())

    assert refused == {}
    [received] = read_mailbox(server.maildir, to="ada@example.com")
    for header in ("From", "To", "Reply-To", "Date", "Message-ID", "Subject", "Content-Type"):
        assert received.message[header] == message[header], header
    assert received.message["Return-Path"] == "<orders@shop.local>"
    assert received.message["Delivered-To"] == "ada@example.com"
    assert received.subject == "Your order, Иван"
    assert received.text.strip() == "Hello Иван" and received.html.strip() == "<p>Hello Иван</p>"
    assert list((server.maildir / "tmp").iterdir()) == []


def test_it_listens_on_loopback_only_and_stops_cleanly_on_sigterm(server: MailServer) -> None:
    assert listeners(server.port) == {"0100007F"}  # 127.0.0.1 alone, no IPv6, no 0.0.0.0

    assert server.stop() == 0
    assert not server.port_file.exists()
    with pytest.raises(OSError), smtplib.SMTP("127.0.0.1", server.port, timeout=2):
        pass
