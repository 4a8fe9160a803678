"""A TCP proxy in front of the moto server that breaks chosen requests the way networks do.

Clients sending through it must close the connection after each request (`one_request_per_connection`),
so each connection carries one request and a fault can be aimed by its request line.

Faults, each used once:
- `reset(method, contains, after_bytes)`: read that many bytes of the request, then drop the
  connection with a TCP reset (a connection drop mid-upload);
- `stall(method, contains, body_bytes)`: forward the request, pass on the response headers and
  `body_bytes` of its body (None: not even the headers), then go silent until the client
  gives up (a read timeout).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    kind: str
    method: str
    contains: str
    amount: int | None


def one_request_per_connection(client: Any) -> None:
    """Make a botocore client ask for `Connection: close` on every request."""

    def close_after(request: Any, **_: Any) -> None:
        request.headers["Connection"] = "close"

    client.meta.events.register_first("before-send", close_after)


class FaultProxy:
    def __init__(self, upstream: tuple[str, int]) -> None:
        self._upstream = upstream
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.endpoint = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self.request_lines: list[str] = []
        self.faults_used: list[Fault] = []
        self._closed = threading.Event()
        self._acceptor = threading.Thread(target=self._accept, daemon=True)
        self._acceptor.start()

    def reset(self, method: str, contains: str = "", after_bytes: int = 0) -> None:
        self._faults.append(Fault("reset", method, contains, after_bytes))

    def stall(self, method: str, contains: str = "", body_bytes: int | None = None) -> None:
        self._faults.append(Fault("stall", method, contains, body_bytes))

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        self._listener.close()
        self._acceptor.join(5)
        for thread in self._threads:
            thread.join(5)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _take(self, request_line: str) -> Fault | None:
        method, _, rest = request_line.partition(" ")
        with self._lock:
            self.request_lines.append(request_line)
            for fault in self._faults:
                if fault.method == method and fault.contains in rest:
                    self._faults.remove(fault)
                    self.faults_used.append(fault)
                    return fault
        return None

    def _handle(self, client: socket.socket) -> None:
        try:
            with client:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = client.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                fault = self._take(head.split(b"\r\n", 1)[0].decode("latin-1"))
                if fault is not None and fault.kind == "reset":
                    self._reset(client, head, fault.amount or 0)
                    return
                with socket.create_connection(self._upstream) as upstream:
                    upstream.sendall(head)
                    client_gone = threading.Event()
                    pump = threading.Thread(target=self._pump, args=(client, upstream, client_gone), daemon=True)
                    pump.start()
                    self._respond(upstream, client, fault, client_gone)
                    pump.join(10)
        except OSError:
            pass

    def _reset(self, client: socket.socket, head: bytes, after_bytes: int) -> None:
        if b"100-continue" in head.lower():
            client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        received = len(head)
        while received < after_bytes:
            chunk = client.recv(65536)
            if not chunk:
                break
            received += len(chunk)
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST

    @staticmethod
    def _pump(client: socket.socket, upstream: socket.socket, client_gone: threading.Event) -> None:
        """The rest of the request (its body) to the server, until the client closes."""
        try:
            while chunk := client.recv(65536):
                upstream.sendall(chunk)
        except OSError:
            pass
        finally:
            client_gone.set()

    def _respond(
        self, upstream: socket.socket, client: socket.socket, fault: Fault | None, client_gone: threading.Event
    ) -> None:
        if fault is not None and fault.amount is None:  # stall before the headers
            client_gone.wait(10)
            return
        budget = None if fault is None else fault.amount
        response = b""
        limit: int | None = None  # headers + budget, once the end of the headers is known
        sent = 0
        while chunk := upstream.recv(65536):
            if budget is None:
                client.sendall(chunk)
                continue
            response += chunk
            if limit is None:
                end = response.find(b"\r\n\r\n")
                if end < 0:
                    continue
                limit = end + 4 + budget
            client.sendall(response[sent:limit])
            sent = min(len(response), limit)
            if sent >= limit:
                client_gone.wait(10)  # silent until the client times out and hangs up
                return
        client.shutdown(socket.SHUT_WR)
