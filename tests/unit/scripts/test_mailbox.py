"""Reading the local Maildir (scripts/mailbox.py) with the standard library's parsers."""

from __future__ import annotations

import mailbox
import os
from pathlib import Path

import pytest

from email_service.adapters.mime import build_message
from email_service.domain.model import Email
from scripts import local
from scripts import mailbox as inbox
from scripts.mailbox import confirmation_code, read_mailbox


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    return tmp_path / "maildir"


def deliver(maildir: Path, raw: bytes, at: float) -> str:
    """File `raw` in the Maildir as the SMTP server does, arrived at Unix time `at`."""
    box = mailbox.Maildir(maildir, create=True)
    key = box.add(raw)
    path = next(maildir.glob(f"new/{key}*"))
    os.utime(path, (at, at))
    return key


def shop_email(to: str, subject: str, text: str = "Hello", html: str = "<p>Hello</p>") -> bytes:
    mail = Email(to=to, subject=subject, text=text, html=html)
    return build_message(mail, "orders@shop.local", "Shop", "help@shop.local").as_bytes()


COGNITO = (
    b"Content-Type: text/plain; charset=utf-8\nMIME-Version: 1.0\nSubject: Your verification code\n"
    b"From: no-reply@verificationemail.com\nTo: %s\n\nYour verification code is %s.\n"
)


def test_a_missing_maildir_is_an_empty_mailbox(maildir: Path) -> None:
    assert read_mailbox(maildir / "nothing-here") == []


def test_messages_for_one_recipient_oldest_first_with_their_parts(maildir: Path) -> None:
    deliver(maildir, shop_email("ada@example.com", "Second", text="Zweite"), at=2_000)
    deliver(maildir, shop_email("grace@example.com", "Not Ada's"), at=1_500)
    deliver(maildir, shop_email("Ada@Example.com", "First", html="<p>Erste</p>"), at=1_000)

    mails = read_mailbox(maildir, to="ada@example.com")

    assert [mail.subject for mail in mails] == ["First", "Second"]
    assert mails[0].html.strip() == "<p>Erste</p>"
    assert mails[1].text.strip() == "Zweite"
    assert "\r" not in mails[1].text
    assert mails[0].sender == "Shop <orders@shop.local>" and mails[0].sender_address == "orders@shop.local"
    assert mails[0].to == ["Ada@Example.com"]
    assert mails[0].message["Reply-To"] == "help@shop.local"
    assert len(read_mailbox(maildir)) == 3


def test_a_message_without_date_shows_its_delivery_time_and_a_plain_one_has_no_html(maildir: Path) -> None:
    deliver(maildir, COGNITO % (b"ada@example.com", b"654321"), at=1_796_000_000)

    [mail] = read_mailbox(maildir)

    assert mail.date == "2026-11-30T00:53:20+00:00"
    assert mail.text.strip() == "Your verification code is 654321."
    assert mail.html == ""


def test_the_confirmation_code_is_the_newest_one_for_that_address(maildir: Path) -> None:
    deliver(maildir, COGNITO % (b"ada@example.com", b"111111"), at=1_000)
    deliver(maildir, COGNITO % (b"ada@example.com", b"222222"), at=2_000)
    deliver(maildir, COGNITO % (b"grace@example.com", b"333333"), at=3_000)

    assert confirmation_code("ada@example.com", maildir) == "222222"
    assert confirmation_code("nobody@example.com", maildir) is None


def test_open_writes_the_newest_html_part_to_a_file_for_the_browser(
    maildir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    opened: list[str] = []

    def open_url(url: str) -> bool:
        opened.append(url)
        return False

    monkeypatch.setattr(inbox.webbrowser, "open", open_url)
    deliver(maildir, shop_email("ada@example.com", "Old", html="<p>old</p>"), at=1_000)
    deliver(maildir, shop_email("ada@example.com", "New", html="<p>the newest</p>"), at=2_000)

    assert inbox.main(["ada@example.com", "--open", "--maildir", str(maildir)]) == 0

    [url] = opened
    path = Path(url.removeprefix("file://"))
    try:
        assert path.read_text(encoding="utf-8").strip() == "<p>the newest</p>"
        assert str(path) in capsys.readouterr().out  # no browser here: the path to open by hand
    finally:
        path.unlink()


def test_make_inbox_prints_date_subject_and_text_newest_last(
    maildir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(inbox, "MAILDIR", maildir)
    deliver(maildir, shop_email("ada@example.com", "Older", text="first text"), at=1_000)
    deliver(maildir, shop_email("ada@example.com", "Newer", text="second text"), at=2_000)

    assert local.main(["inbox", "ada@example.com"]) == 0

    out = capsys.readouterr().out
    assert out.index("Subject: Older") < out.index("first text") < out.index("Subject: Newer")
    assert out.index("Newer") < out.index("second text")
    assert "Date:    " in out and out.rstrip().endswith("2 email(s) for ada@example.com.")
