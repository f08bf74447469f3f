"""Reading the local mailbox: the Maildir the local SMTP server delivers to.

    python -m scripts.mailbox [EMAIL] [--open] [--maildir DIR]

prints each email to EMAIL (every email without it), oldest first: date, sender,
subject and the plain-text part; --open shows the HTML part of the newest one in a
browser. Standard library only (mailbox, email), so any script or test can import it:

    from scripts.mailbox import read_mailbox, confirmation_code
    for mail in read_mailbox(to="customer@example.com"):
        print(mail.subject, mail.text)

Cognito's sign-up and reset codes arrive here too (MiniStack sends them through SES).
"""

from __future__ import annotations

import argparse
import email
import mailbox
import re
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# One Maildir for every recipient; `make run` and the web console use this one, the
# end-to-end tests their own (.local/e2e-maildir).
MAILDIR = ROOT / ".local" / "maildir"


@dataclass(frozen=True)
class ReceivedEmail:
    """One message of the Maildir, parsed as MIME (email.policy.default)."""

    key: str  # its Maildir key
    delivered_at: float  # when the SMTP server filed it (Unix time)
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def sender(self) -> str:
        return str(self.message.get("From", ""))

    @property
    def sender_address(self) -> str:
        """The address of the From header, without its display name."""
        return parseaddr(self.sender)[1]

    @property
    def to(self) -> list[str]:
        """The addresses of the To header."""
        return [address for _, address in getaddresses([str(v) for v in self.message.get_all("To", [])]) if address]

    @property
    def date(self) -> str:
        """The Date header, else the delivery time, as ISO 8601."""
        header = self.message.get("Date")
        if header:
            try:
                return parsedate_to_datetime(str(header)).isoformat()
            except (TypeError, ValueError):
                return str(header)
        return datetime.fromtimestamp(self.delivered_at, UTC).isoformat(timespec="seconds")

    def _part(self, subtype: str) -> str:
        part = self.message.get_body((subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return ""
        # Mail travels with CRLF line ends; a reader wants Python's.
        return str(part.get_content()).replace("\r\n", "\n")

    @property
    def text(self) -> str:
        """The text/plain part ("" if none)."""
        return self._part("plain")

    @property
    def html(self) -> str:
        """The text/html part ("" if none)."""
        return self._part("html")


def read_mailbox(maildir: Path | str = MAILDIR, to: str | None = None) -> list[ReceivedEmail]:
    """The messages of `maildir` (to `to` only, by the To header), oldest first."""
    path = Path(maildir)
    if not (path / "new").is_dir():
        return []
    box = mailbox.Maildir(path, factory=None, create=False)
    found = []
    for key in box.iterkeys():
        try:
            delivered_at = box.get_message(key).get_date()  # the file's time: when it arrived
            message = email.message_from_bytes(box.get_bytes(key), policy=default_policy)
        except (KeyError, FileNotFoundError):  # moved or removed by a mail client meanwhile
            continue
        assert isinstance(message, EmailMessage)
        received = ReceivedEmail(key, delivered_at, message)
        if to is None or to.lower() in (address.lower() for address in received.to):
            found.append(received)
    return sorted(found, key=lambda mail: (mail.delivered_at, mail.key))


CODE = re.compile(r"\b(\d{6})\b")


def confirmation_code(to: str, maildir: Path | str = MAILDIR) -> str | None:
    """The code of the newest Cognito email to `to` (sign-up, password reset), if any."""
    for mail in reversed(read_mailbox(maildir, to=to)):
        match = CODE.search(mail.text or mail.html) or CODE.search(mail.subject)
        if match:
            return match.group(1)
    return None


def print_inbox(mails: list[ReceivedEmail], who: str) -> None:
    for mail in mails:
        print("=" * 78)
        print(f"Date:    {mail.date}")
        print(f"From:    {mail.sender}")
        print(f"To:      {', '.join(mail.to)}")
        print(f"Subject: {mail.subject}")
        print("-" * 78)
        print((mail.text or "(no text part)").strip())
    if mails:
        print("=" * 78)
    print(f"{len(mails)} email(s) for {who}.")


def open_html(mail: ReceivedEmail) -> Path:
    """Write the HTML part to a temporary file and open it in a browser; the file's path."""
    with tempfile.NamedTemporaryFile("w", suffix=".html", prefix="email-", delete=False, encoding="utf-8") as out:
        out.write(mail.html or f"<pre>{mail.text}</pre>")
    path = Path(out.name)
    if not webbrowser.open(path.as_uri()):
        print("No browser found; open this file in one:")
    print(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.mailbox", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("email", nargs="?", default="", help="the recipient (default: every email)")
    parser.add_argument("--open", action="store_true", help="open the newest email's HTML part in a browser")
    parser.add_argument("--maildir", type=Path, default=MAILDIR, help=f"default {MAILDIR}")
    args = parser.parse_args(argv)
    mails = read_mailbox(args.maildir, to=args.email or None)
    who = args.email or "anyone"
    if args.open:
        if not mails:
            print(f"No email for {who} in {args.maildir}.")
            return 1
        open_html(mails[-1])
        return 0
    print_inbox(mails, who)
    return 0


if __name__ == "__main__":
    sys.exit(main())
