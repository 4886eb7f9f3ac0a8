"""A small asyncio HTTP/1.1 load generator: N concurrent clients, one connection per request (like gunicorn sync)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0
    accepted: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")

    def line(self) -> str:
        median = statistics.median(self.latencies) * 1000 if self.latencies else float("nan")
        return (
            f"{self.name:<22} {len(self.latencies):>6} req  {self.rate:>8.1f} req/s  p50 {median:6.1f} ms  "
            f"p99 {self.pct(99):6.1f} ms  statuses {dict(sorted(self.statuses.items()))}"
        )


async def _request(host: str, port: int, raw: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(raw)
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, data


def get(path: str, host: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def post(path: str, host: str, body: str) -> bytes:
    data = body.encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


async def run(
    name: str,
    host: str,
    port: int,
    make_request: Callable[[int], bytes | None],
    *,
    clients: int,
    duration: float,
    accept: Callable[[int, bytes], bool] | None = None,
) -> Result:
    result = Result(name)
    counter = iter(range(10**9))
    deadline = time.perf_counter() + duration

    async def client() -> None:
        while time.perf_counter() < deadline:
            raw = make_request(next(counter))
            if raw is None:
                return
            started = time.perf_counter()
            status, data = await _request(host, port, raw)
            result.latencies.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if accept and accept(status, data):
                result.accepted += 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    result.elapsed = time.perf_counter() - started
    return result
