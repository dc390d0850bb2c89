"""A minimal asyncio HTTP/1.1 keep-alive client for the flow and contention drivers (stdlib only).

Enough for this API: JSON bodies, Content-Length or chunked responses, reconnect when the server closed
an idle keep-alive connection before the request was read.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    latency_s: float

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def code(self) -> str | None:
        """The problem document's `code`, if any."""
        try:
            data = self.json()
        except ValueError:
            return None
        return data.get("code") if isinstance(data, dict) else None


@dataclass
class Connection:
    host: str
    port: int
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    fresh: bool = False

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.fresh = True

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    @staticmethod
    def build(method: str, path: str, host: str, headers: dict[str, str] | None, body: Any) -> bytes:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    async def send(self, raw: bytes) -> None:
        if self.writer is None:
            await self.open()
        assert self.writer is not None
        self.writer.write(raw)
        await self.writer.drain()

    async def read_response(self) -> tuple[int, dict[str, str], bytes]:
        assert self.reader is not None
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers: dict[str, str] = {}
        for hl in header_lines:
            if ":" in hl:
                k, v = hl.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    await self.reader.readuntil(b"\r\n")
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readexactly(2)
            body = b"".join(chunks)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> Response:
        raw = self.build(method, path, f"{self.host}:{self.port}", headers, body)
        for attempt in (1, 2):
            reused = not self.fresh and self.writer is not None
            self.fresh = False
            started = time.perf_counter()
            try:
                await self.send(raw)
                status, resp_headers, resp_body = await self.read_response()
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                self.close()
                # A keep-alive connection the server closed while idle never saw the request: resend once.
                if attempt == 1 and reused and not getattr(exc, "partial", b""):
                    continue
                raise
            return Response(status, resp_headers, resp_body, time.perf_counter() - started)
        raise AssertionError("unreachable")


@dataclass
class Pool:
    """A fixed number of keep-alive connections shared by many coroutines."""

    host: str
    port: int
    size: int
    _free: asyncio.Queue[Connection] = field(default_factory=asyncio.Queue)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for _ in range(self.size):
            self._free.put_nowait(Connection(self.host, self.port))

    async def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, body: Any = None
    ) -> Response:
        conn = await self._free.get()
        try:
            resp = await conn.request(method, path, headers=headers, body=body)
        except BaseException:
            conn.close()
            raise
        finally:
            self._free.put_nowait(conn)
        self.latencies.append(resp.latency_s)
        self.statuses[resp.status] = self.statuses.get(resp.status, 0) + 1
        return resp

    def close(self) -> None:
        while not self._free.empty():
            self._free.get_nowait().close()


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[k]
