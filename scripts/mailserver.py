"""A local SMTP server that files every message it receives in a Maildir.

    python -m scripts.mailserver [--maildir DIR] [--port N] [--port-file FILE]

MiniStack relays the mail SES sends to it (SMTP_HOST, see scripts/ministack.sh), so
local emails land in a real mailbox that any mail client opens (`mutt -f DIR`) and
scripts/mailbox.py reads. The protocol is aiosmtpd's; delivery is done here, the way a
mail delivery agent does it: the message as it came over the wire, with Return-Path
and Delivered-To on top, in Maildir's new/ (written to tmp/ first, so a reader never
sees half a message).

It listens on 127.0.0.1 only, without TLS or authentication (loopback, and MiniStack's
relay uses neither). Port 0, the default, takes a free port; the port is written to
--port-file once the server accepts connections. SIGTERM or SIGINT stops it.
"""

from __future__ import annotations

import argparse
import asyncio
import mailbox
import os
import signal
import sys
from pathlib import Path
from typing import Any

from scripts.mailbox import MAILDIR

HOST = "127.0.0.1"


class MaildirDelivery:
    """aiosmtpd handler: one file per message, one Maildir for every recipient."""

    def __init__(self, maildir: Path) -> None:
        # Maildir(create=True) leaves an existing empty folder without its subfolders.
        for sub in ("tmp", "new", "cur"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        self.maildir = mailbox.Maildir(maildir, create=False)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd calls it by this name
        trace = f"Return-Path: <{envelope.mail_from}>\r\n" + "".join(
            f"Delivered-To: {recipient}\r\n" for recipient in envelope.rcpt_tos
        )
        # Files in a Maildir end their lines with LF, as mail clients expect.
        raw = trace.encode() + bytes(envelope.original_content or envelope.content)
        self.maildir.add(raw.replace(b"\r\n", b"\n"))
        return "250 OK: delivered"


async def serve(maildir: Path, port: int, port_file: Path | None) -> None:
    from aiosmtpd.smtp import SMTP

    handler = MaildirDelivery(maildir)
    loop = asyncio.get_running_loop()
    # A fixed hostname: the default asks DNS for this machine's name.
    server = await loop.create_server(lambda: SMTP(handler, hostname="localhost"), host=HOST, port=port)
    port = server.sockets[0].getsockname()[1]
    if port_file is not None:
        partial = port_file.with_suffix(".tmp")
        partial.write_text(f"{port}\n")
        partial.replace(port_file)
    print(f"SMTP server on {HOST}:{port}, delivering to the Maildir {maildir}", flush=True)
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    try:
        await stopped.wait()
    finally:
        server.close()
        await server.wait_closed()
        if port_file is not None:
            port_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.mailserver", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--maildir", type=Path, default=MAILDIR, help=f"default {MAILDIR}")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SMTP_PORT") or 0), help="0: a free port")
    parser.add_argument("--port-file", type=Path, help="where to write the port once listening")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.maildir, args.port, args.port_file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
