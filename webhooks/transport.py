"""HTTP POSTs to checked addresses: a connection goes to the IP the target check approved, never to a new lookup.

No models here (performance machinery apart from rules). Connections are kept alive per target within one send
round, so a batch to one receiver costs one TCP (and TLS) handshake. Redirects are never followed: a 3xx is a
failed attempt. Every socket has a connect and a read timeout.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from webhooks.targets import Target

USER_AGENT = "LangNghe-Webhooks/1"


@dataclass
class Result:
    status: int | None
    excerpt: str
    duration_ms: int
    timed_out: bool = False
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Pinned(http.client.HTTPConnection):
    """Connects to `address` while the request names `host` (Host header)."""

    def __init__(self, target: Target, connect_timeout: float, read_timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=read_timeout)
        self.address, self.connect_timeout, self.read_timeout = target.address, connect_timeout, read_timeout

    def _socket(self) -> socket.socket:
        # A plain socket on the checked IP: socket.create_connection would pass it through getaddrinfo again.
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.connect_timeout)
            sock.connect((self.address, self.port))
        except BaseException:
            sock.close()
            raise
        sock.settimeout(self.read_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = self._socket()


class _PinnedTLS(_Pinned):
    """The same over TLS: the certificate is checked against the host name (SNI too), not the address."""

    context = ssl.create_default_context()

    def connect(self) -> None:
        self.sock = self.context.wrap_socket(self._socket(), server_hostname=self.host)


class Sender:
    """Posts bodies to targets, reusing one connection per target; close() at the end of a round."""

    def __init__(self, connect_timeout: float, read_timeout: float) -> None:
        self.connect_timeout, self.read_timeout = connect_timeout, read_timeout
        self.connections: dict[tuple[str, str, int, str], _Pinned] = {}

    def post(self, target: Target, body: bytes, headers: dict[str, str]) -> Result:
        key = (target.scheme, target.host, target.port, target.address)
        started = time.perf_counter()
        for retry in (False, True):
            connection = self.connections.get(key)
            fresh = connection is None
            if connection is None:
                kind = _PinnedTLS if target.scheme == "https" else _Pinned
                connection = self.connections[key] = kind(target, self.connect_timeout, self.read_timeout)
            try:
                connection.request(
                    "POST",
                    target.path,
                    body=body,
                    headers={**headers, "Content-Type": "application/json", "User-Agent": USER_AGENT},
                )
                response = connection.getresponse()
                excerpt = response.read(65536)[:200].decode("utf-8", "replace")
                if response.will_close:
                    self._drop(key)
                return Result(response.status, excerpt, _ms(started))
            except TimeoutError as error:
                self._drop(key)
                return Result(None, "", _ms(started), timed_out=True, error=str(error) or "timed out")
            except (OSError, http.client.HTTPException) as error:
                self._drop(key)
                # A kept-alive connection the receiver closed meanwhile: try once more on a fresh one.
                if fresh or retry:
                    return Result(None, "", _ms(started), error=f"{type(error).__name__}: {error}"[:200])
        raise AssertionError("unreachable")  # pragma: no cover

    def _drop(self, key: tuple[str, str, int, str]) -> None:
        connection = self.connections.pop(key, None)
        if connection is not None:
            connection.close()

    def close(self) -> None:
        for key in list(self.connections):
            self._drop(key)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
