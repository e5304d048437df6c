"""A loopback HTTP/1.1 proxy in front of Keystone that adds latency and injects faults (tests, bench).

    python tools/faultproxy.py --upstream 127.0.0.1:5000 --delay-ms 25   # prints "listening on PORT"

Each direction of each connection is delayed by ``delay`` (one way), so a request/response
costs a round trip of 2 x delay, and a new connection one more (its handshake): the
distance between a deploy host and a Keystone in another region. Requests on different
connections are delayed side by side, as on a real link. Faults are rules matched per request
(method, path regex, which matching request): answer 503 or 429 (optionally with Retry-After),
drop the connection before forwarding (Keystone never sees it), or forward and drop the
connection before the answer (Keystone did it; the client cannot know). ``refuse(seconds)``
closes the listening socket for a while: connections are refused before anything is sent.

Loopback only: it listens on 127.0.0.1 and connects only to a 127.0.0.0/8 upstream. Bounded:
at most ``max_connections`` client connections, requests up to 16 MB, delays up to 1 s.
Import it (``FaultProxy``) to run it in a thread, or run it as a program.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

MAX_DELAY = 1.0
MAX_BODY = 16 * 1024 * 1024


@dataclass
class Fault:
    """Do ``action`` to requests matching ``method``/``path``: the ``nth`` match, or every ``every``-th.

    ``action``: "503", "429", "drop-before" (close without forwarding), "drop-after" (forward, then
    close before answering). ``retry_after`` adds that header to 503/429. ``times`` bounds how
    often the rule fires (0: no bound).
    """

    action: str
    method: str = ".*"
    path: str = ".*"
    nth: int = 0
    every: int = 0
    times: int = 0
    retry_after: str | None = None
    seen: int = 0
    fired: int = 0

    def fires(self, method: str, path: str) -> bool:
        if not (re.fullmatch(self.method, method) and re.search(self.path, path)):
            return False
        self.seen += 1
        hit = (self.nth and self.seen == self.nth) or (self.every and self.seen % self.every == 0)
        if not hit or (self.times and self.fired >= self.times):
            return False
        self.fired += 1
        return True


@dataclass
class Stats:
    requests: Counter[str] = field(default_factory=Counter)  # by method, forwarded or not
    faults: Counter[str] = field(default_factory=Counter)  # by action
    connections: int = 0


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


class FaultProxy:
    """The proxy; ``start()`` runs it in a daemon thread, ``url`` is where to point clients."""

    def __init__(self, upstream: str, delay_ms: float = 0.0, faults: list[Fault] | None = None,
                 port: int = 0, max_connections: int = 256) -> None:
        host, _, p = upstream.removeprefix("http://").split("/", 1)[0].rpartition(":")
        if not _loopback(host):
            raise ValueError(f"upstream {host} is not loopback: this proxy only talks to 127.0.0.0/8")
        self.upstream = (host, int(p))
        self.delay = min(max(delay_ms, 0.0) / 1000.0, MAX_DELAY)
        self.faults = faults or []
        self.port = port
        self.max_connections = max_connections
        self.stats = Stats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._open = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    # ---- control (from any thread) ------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread = threading.Thread(target=self._run, daemon=True, name="faultproxy")
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        """Close the listener and every connection, then end the thread."""
        loop = self._loop
        if loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), loop)
        self._thread.join(10)
        self._loop = None

    def refuse(self, seconds: float) -> None:
        """Close the listening socket for ``seconds``: new connections are refused, then served again."""
        assert self._loop is not None
        done = threading.Event()

        async def pause() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()
            done.set()
            await asyncio.sleep(seconds)
            await self._listen()

        asyncio.run_coroutine_threadsafe(pause(), self._loop)
        done.wait(5)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._loop.run_until_complete(self._listen())
        self._ready.set()
        self._loop.run_forever()
        self._loop.close()

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    # ---- one client connection -----------------------------------------------------------------

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            if self._open >= self.max_connections:
                writer.close()
                return
            self._open += 1
            self.stats.connections += 1
        up: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            await asyncio.sleep(2 * self.delay)  # the handshake's round trip
            while True:
                head = await self._read_head(reader)
                if head is None:
                    return
                await asyncio.sleep(self.delay)  # the request's way there
                first = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                method, path = first[0], first[1] if len(first) > 1 else "/"
                body = await self._read_body(reader, head)
                self.stats.requests[method] += 1
                fault = next((f for f in self.faults if f.fires(method, path)), None)
                if fault is not None:
                    self.stats.faults[fault.action] += 1
                if fault is not None and fault.action in ("503", "429"):
                    await asyncio.sleep(self.delay)
                    writer.write(self._error(int(fault.action), fault.retry_after))
                    await writer.drain()
                    continue
                if fault is not None and fault.action == "drop-before":
                    return
                if up is None:
                    up = await asyncio.open_connection(*self.upstream)
                up[1].write(head + body)
                await up[1].drain()
                resp_head = await self._read_head(up[0])
                if resp_head is None:
                    return
                resp_body = await self._read_body(up[0], resp_head, response=True)
                if fault is not None and fault.action == "drop-after":
                    return  # Keystone answered; the client never hears it
                if b"\r\nconnection: close" in resp_head.lower():
                    up[1].close()
                    up = None
                    resp_head = re.sub(rb"(?i)\r\nconnection: close", b"", resp_head)
                await asyncio.sleep(self.delay)  # the answer's way back
                writer.write(resp_head + resp_body)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, OSError, ValueError, asyncio.CancelledError):
            return
        finally:
            with self._lock:
                self._open -= 1
            if up is not None:
                up[1].close()
            writer.close()

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> bytes | None:
        try:
            return await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            return None

    @staticmethod
    async def _read_body(reader: asyncio.StreamReader, head: bytes, response: bool = False) -> bytes:
        lower = head.lower()
        m = re.search(rb"\r\ncontent-length:\s*(\d+)", lower)
        if m:
            n = int(m.group(1))
            if n > MAX_BODY:
                raise ValueError("body too large")
            return await reader.readexactly(n)
        if b"\r\ntransfer-encoding: chunked" in lower:
            out = b""
            while True:
                size_line = await reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0].strip(), 16)
                chunk = await reader.readexactly(size + 2)
                out += size_line + chunk
                if size == 0 or len(out) > MAX_BODY:
                    return out
        status = head.split(b" ", 2)[1] if response else b""
        if response and status not in (b"204", b"304") and b"\r\ncontent-length" not in lower:
            return await reader.read()  # until the server closes
        return b""

    @staticmethod
    def _error(status: int, retry_after: str | None) -> bytes:
        title = {503: "Service Unavailable", 429: "Too Many Requests"}[status]
        body = f'{{"error": {{"code": {status}, "message": "{title}", "title": "{title}"}}}}'.encode()
        extra = f"Retry-After: {retry_after}\r\n" if retry_after is not None else ""
        return (f"HTTP/1.1 {status} {title}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"{extra}\r\n").encode() + body


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--upstream", required=True, help="HOST:PORT of Keystone (loopback)")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--delay-ms", type=float, default=0.0, help="one-way delay (at most 1000)")
    args = ap.parse_args()
    proxy = FaultProxy(args.upstream, args.delay_ms, port=args.port).start()
    print(f"listening on {proxy.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
