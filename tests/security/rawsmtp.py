"""A tiny SMTP server for the smuggling tests: it keeps every byte a client sent, exactly as sent.

aiosmtpd (used elsewhere) hands its handler the message after undoing dot-stuffing and line ends, which is what
must be checked here. This one ends DATA only at CRLF "." CRLF, as RFC 5321 says, and records the commands it
read, so a message smuggled inside another's DATA shows up as an extra MAIL FROM.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field


@dataclass
class Recording:
    raw: bytearray = field(default_factory=bytearray)  # everything clients sent, all sessions
    commands: list[bytes] = field(default_factory=list)  # command lines read outside DATA
    messages: list[bytes] = field(default_factory=list)  # each DATA as sent (dot-stuffed, up to the final dot)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _read_line(self) -> bytes:
        line = self.rfile.readline(65536)
        with self.server.recording.lock:
            self.server.recording.raw += line
        return line

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self._reply("220 raw.test ESMTP")
        while True:
            line = self._read_line()
            if not line:
                return
            command = line.rstrip(b"\r\n")
            with self.server.recording.lock:
                self.server.recording.commands.append(command)
            verb = command[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                lines = ["250-raw.test", "250-8BITMIME", "250-SMTPUTF8"]
                if self.server.pipelining:
                    lines.append("250-PIPELINING")
                self.wfile.write(("\r\n".join([*lines, "250 HELP"]) + "\r\n").encode())
                self.wfile.flush()
            elif verb == b"DATA":
                self._reply("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while True:
                    chunk = self._read_line()
                    if not chunk:
                        return
                    if chunk == b".\r\n" and (not data or data.endswith(b"\r\n")):
                        break
                    data += chunk
                with self.server.recording.lock:
                    self.server.recording.messages.append(bytes(data))
                self._reply("250 OK queued")
            elif verb == b"QUIT":
                self._reply("221 Bye")
                return
            else:
                self._reply("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, pipelining: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.recording = Recording()
        self.pipelining = pipelining


class RawSMTPServer:
    """Start with `with RawSMTPServer() as server:`; `server.port` is free, chosen at run time."""

    def __init__(self, *, pipelining: bool = False) -> None:
        self._server = _Server(pipelining)
        self.port = self._server.server_address[1]
        self.recording = self._server.recording
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RawSMTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def mail_from_count(self) -> int:
        return sum(1 for c in self.recording.commands if c.upper().startswith(b"MAIL FROM"))


def assert_clean_data(message: bytes) -> None:
    """What RFC 5321 4.5.2 and 2.3.8 require of DATA, and what an SMTP smuggler needs broken."""
    assert b"\r\n" in message or not message
    stripped = message.replace(b"\r\n", b"")
    assert b"\r" not in stripped and b"\n" not in stripped, "a bare CR or LF reached the server"
    for line in message.split(b"\r\n"):
        assert not (line.startswith(b".") and not line.startswith(b"..")), f"a line starts with one dot: {line!r}"
