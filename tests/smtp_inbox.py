"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), keeping what arrives (import as `smtp_inbox`)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class Inbox:
    """An aiosmtpd handler keeping every message that arrives, parsed."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        self.received.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_server(handler: Any) -> Iterator[int]:
    """Serve `handler` on a free loopback port for the block; yields the port."""
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller.port
    finally:
        controller.stop()


def words(message: EmailMessage) -> tuple[str, bytes]:
    """(subject, the plain body's bytes) of an e-mail that arrived."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(message["Subject"]), body.get_payload(decode=True)
