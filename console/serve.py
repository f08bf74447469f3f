"""The web console's local server: the static site, its config, and the local mailbox.

    python -m console.serve --port 8400                    # config from the stack on MiniStack
    python -m console.serve --port 8400 --api-url ... --cognito-url ... --client-id ...

Standard library only (http.server), on 127.0.0.1 only. It serves:

  /                  console/site/ (plain HTML, CSS and JavaScript; no build step)
  /config.json       where the console finds the API and Cognito (from the stack outputs)
  /local/mailbox     the emails one address received (?to=ADDRESS), for the console's
                     mailbox panel: read from the Maildir the local SMTP server writes
                     (.local/maildir) with the standard library's mailbox and email
                     parsers, or, without one, from MiniStack's list of sent SES mail.
                     Local only, like `make inbox EMAIL=...`: no such route on AWS.

A request whose Host is not this server's loopback address is refused (DNS rebinding).
"""

from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import json
import mailbox
import mimetypes
import os
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SITE = Path(__file__).resolve().parent / "site"
DEFAULT_MAILDIR = ROOT / ".local" / "maildir"
MAX_MESSAGES = 50  # the newest ones; the panel is for reading codes and order emails


# ------------------------------------------------------------------ mailbox
def _text_of(message: email.message.EmailMessage) -> tuple[str, str]:
    """The text and HTML parts of a parsed message ("" when absent)."""
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    text = text_part.get_content() if text_part is not None else ""
    html = html_part.get_content() if html_part is not None else ""
    return str(text), str(html)


def _addressed_to(message: email.message.Message, address: str) -> bool:
    recipients = [addr for _, addr in email.utils.getaddresses(message.get_all("To", []) + message.get_all("Cc", []))]
    return address.lower() in (addr.lower() for addr in recipients)


def read_maildir(path: Path, address: str) -> list[dict[str, Any]]:
    """The messages of a Maildir addressed to `address` (To or Cc), oldest first."""
    box = mailbox.Maildir(path, factory=None, create=False)
    found: list[tuple[float, dict[str, Any]]] = []
    for key in box.iterkeys():
        try:
            raw = box.get_bytes(key)
        except KeyError:  # delivered and moved away while we listed
            continue
        message = email.message_from_bytes(raw, policy=email.policy.default)
        if not _addressed_to(message, address):
            continue
        date = message.get("Date")
        try:
            when = email.utils.parsedate_to_datetime(date).timestamp() if date else 0.0
        except (TypeError, ValueError):
            when = 0.0
        text, html = _text_of(message)
        found.append(
            (
                when,
                {
                    "id": str(message.get("Message-ID") or key),
                    "date": datetime.fromtimestamp(when, tz=UTC).isoformat() if when else None,
                    "from": str(message.get("From") or ""),
                    "subject": str(message.get("Subject") or ""),
                    "text": text,
                    "html": html,
                },
            )
        )
    found.sort(key=lambda pair: pair[0])
    return [entry for _, entry in found][-MAX_MESSAGES:]


def read_ministack(endpoint: str, address: str) -> list[dict[str, Any]]:
    """The same, from MiniStack's list of the mail SES sent (when no local SMTP server runs)."""
    url = f"{endpoint.rstrip('/')}/_ministack/ses/messages"
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the local emulator
        payload = json.loads(response.read())
    messages = [m for ms in payload.get("messages", {}).values() for m in ms]
    mine = [m for m in messages if address.lower() in (a.lower() for a in m.get("To") or [])]
    mine.sort(key=lambda m: float(m.get("Timestamp") or 0))
    return [
        {
            "id": m.get("MessageId"),
            "date": datetime.fromtimestamp(float(m.get("Timestamp") or 0), tz=UTC).isoformat(),
            "from": m.get("Source") or "",
            "subject": m.get("Subject") or "",
            "text": m.get("BodyText") or "",
            "html": m.get("BodyHtml") or "",
        }
        for m in mine
    ][-MAX_MESSAGES:]


@dataclass
class Mailbox:
    """Where the local emails are: a Maildir if the local SMTP server keeps one, else MiniStack's list."""

    maildir: Path | None
    ministack: str | None

    @property
    def source(self) -> str:
        if self.maildir is not None and (self.maildir / "cur").is_dir():
            return f"maildir {self.maildir}"
        return "ministack" if self.ministack else "none"

    def messages(self, address: str) -> list[dict[str, Any]]:
        if self.maildir is not None and (self.maildir / "cur").is_dir():
            return read_maildir(self.maildir, address)
        if self.ministack:
            return read_ministack(self.ministack, address)
        return []


# ------------------------------------------------------------------ HTTP
def content_security_policy(config: dict[str, Any]) -> str:
    """Scripts, styles and images from this origin only; fetches to the API and Cognito only."""
    origins = {"'self'"}
    for key in ("apiUrl", "cognitoUrl"):
        parts = urllib.parse.urlsplit(str(config.get(key) or ""))
        if parts.scheme and parts.netloc:
            origins.add(f"{parts.scheme}://{parts.netloc}")
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {' '.join(sorted(origins))}; frame-src 'self' data: blob:; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )


class ConsoleHandler(BaseHTTPRequestHandler):
    server: ConsoleServer
    server_version = "console"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.send_header("Content-Security-Policy", self.server.csp)
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status: int, code: str, message: str) -> None:
        self._json(status, {"error": {"code": code, "message": message, "details": []}})

    def _host_ok(self) -> bool:
        host = (self.headers.get("Host") or "").lower()
        return host in self.server.allowed_hosts

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._host_ok():
            self._error(HTTPStatus.MISDIRECTED_REQUEST, "WRONG_HOST", f"use {self.server.origin}")
            return
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/config.json":
            self._json(200, self.server.config)
        elif url.path == "/local/mailbox":
            self._mailbox(urllib.parse.parse_qs(url.query))
        else:
            self._static(url.path)

    def _mailbox(self, query: dict[str, list[str]]) -> None:
        address = (query.get("to") or [""])[0].strip()
        if "@" not in address or len(address) > 254:
            self._error(400, "VALIDATION_ERROR", "`to` must be an email address")
            return
        try:
            messages = self.server.mailbox.messages(address)
        except (OSError, ValueError) as error:
            self._error(502, "MAILBOX_UNAVAILABLE", f"the local mailbox cannot be read: {type(error).__name__}")
            return
        self._json(200, {"to": address, "source": self.server.mailbox.source, "messages": messages})

    def _static(self, path: str) -> None:
        relative = urllib.parse.unquote(path).lstrip("/") or "index.html"
        target = (SITE / relative).resolve()
        if SITE.resolve() not in target.parents or not target.is_file():
            self._error(404, "NOT_FOUND", "no such file")
            return
        content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if content_type.startswith("text/") or content_type.endswith("javascript"):
            content_type += "; charset=utf-8"
        self._send(200, target.read_bytes(), content_type)


class ConsoleServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, config: dict[str, Any], mailbox: Mailbox, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), ConsoleHandler)
        self.port = int(self.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self.allowed_hosts = {f"127.0.0.1:{self.port}", f"localhost:{self.port}"}
        self.config = {**config, "mailbox": mailbox.source != "none"}
        self.csp = content_security_policy(self.config)
        self.mailbox = mailbox
        self.verbose = verbose


def config_from_stack(endpoint: str | None) -> dict[str, Any]:
    """The console's config from a deployed stack's outputs (MiniStack when `endpoint` is set)."""
    sys.path.insert(0, str(ROOT))
    from scripts.stack import Stack

    stack = Stack.load(endpoint_url=endpoint)
    return {
        "apiUrl": stack.api_url,
        "cognitoUrl": f"{endpoint.rstrip('/')}/" if endpoint else f"https://cognito-idp.{stack.region}.amazonaws.com/",
        "clientId": stack.outputs["UserPoolClientId"],
        "region": stack.region,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.serve", description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8400")))
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="MiniStack's URL")
    parser.add_argument("--api-url")
    parser.add_argument("--cognito-url")
    parser.add_argument("--client-id")
    parser.add_argument("--maildir", default=str(DEFAULT_MAILDIR), help="the local Maildir ('' for none)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    if args.api_url and args.cognito_url and args.client_id:
        config = {"apiUrl": args.api_url, "cognitoUrl": args.cognito_url, "clientId": args.client_id}
    else:
        config = config_from_stack(args.endpoint)
    box = Mailbox(maildir=Path(args.maildir) if args.maildir else None, ministack=args.endpoint)
    server = ConsoleServer(args.port, config, box, verbose=args.verbose)
    print(f"Console on {server.origin}/ (API {config['apiUrl']}; mailbox: {box.source})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
