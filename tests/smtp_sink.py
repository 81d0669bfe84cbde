"""A small SMTP server on 127.0.0.1 for tests: accepts mail and keeps it in memory.

Speaks enough of RFC 5321 for smtplib (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT).
A recipient containing "refuse" is rejected with 550, so refusals can be tested.
"""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes

    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Mailbox:
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 sink ready")
        sender, recipients = "", []
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.reply("250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8")
            elif verb == b"MAIL":
                sender, recipients = _address(line), []
                self.reply("250 ok")
            elif verb == b"RCPT":
                rcpt = _address(line)
                if "refuse" in rcpt:
                    self.reply("550 no such mailbox")
                    continue
                recipients.append(rcpt)
                self.reply("250 ok")
            elif verb == b"DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self._store(sender, recipients, self._data())
                self.reply("250 queued")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            else:  # HELO, RSET, NOOP
                self.reply("250 ok")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)

    def _store(self, sender: str, recipients: list[str], data: bytes) -> None:
        with self.mailbox.lock:
            self.mailbox.messages.append(Received(sender, list(recipients), data))


def _address(line: bytes) -> str:
    text = line.decode("utf-8", "replace")
    return text[text.find("<") + 1 : text.rfind(">")]


@contextmanager
def smtp_sink() -> Iterator[tuple[str, Mailbox]]:
    """A running server: (its smtp:// URL, the mailbox it fills)."""
    mailbox = Mailbox()
    handler = type("Handler", (_Handler,), {"mailbox": mailbox})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{server.server_address[1]}", mailbox
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
