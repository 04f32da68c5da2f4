"""A far-away database on this machine: a TCP proxy that delays every chunk by a fixed time
each way, in order, and counts what the client asked.

    python bench/latency_proxy.py --target 127.0.0.1:5432 --delay-ms 10 [--port 6543]

Each chunk read from one side is written to the other `delay` seconds after it arrived, and
never before the chunks read before it: a round trip costs twice the delay, and a client that
sends many statements before reading pays it once.  The target is `host:port` or a Unix
socket's path (`/tmp/.s.PGSQL.5432`).

It reads PostgreSQL's protocol from the client (unless the connection turns to TLS) and
counts, over every connection: `statements` (Query and Execute messages), `round_trips` (Query
and Sync messages: the points where libpq waits for the server to be ready again) and
`bursts` (times the client sent after the server had answered: round trips as the network
sees them; a long pipeline that is still being sent while answers come back counts more than
once).  `ProxyThread` runs it in a thread of the calling process (the benchmark and the
tests); run as a script it serves until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104


@dataclass
class Counts:
    """What the clients sent, over every connection through the proxy."""

    connections: int = 0
    statements: int = 0  # Query and Execute messages
    round_trips: int = 0  # Query and Sync messages
    bursts: int = 0  # client sends after the server answered
    unreadable: int = 0  # connections whose traffic turned to TLS: not counted

    def copy(self) -> Counts:
        return Counts(**vars(self))

    def minus(self, before: Counts) -> Counts:
        return Counts(**{name: value - getattr(before, name) for name, value in vars(self).items()})


@dataclass
class _Reader:
    """The client's side of one connection as PostgreSQL messages: a start-up packet first
    (an SSL or GSS request, answered with one byte, comes before it), then typed messages."""

    counts: Counts
    buffer: bytearray = field(default_factory=bytearray)
    started: bool = False
    encryption_asked: bool = False  # waiting for the server's one-byte answer
    readable: bool = True

    def client_sent(self, data: bytes) -> None:
        if not self.readable:
            return
        self.buffer += data
        while self.readable and not self.encryption_asked:
            size = self._next_size()
            if size is None or len(self.buffer) < size:
                return
            message, self.buffer = bytes(self.buffer[:size]), self.buffer[size:]
            self._read(message)

    def server_sent(self, data: bytes) -> None:
        """The answer to an SSL or GSS request: `N` goes on in clear, anything else does not."""
        if self.encryption_asked and data:
            self.encryption_asked = False
            if data[:1] != b"N":
                self.readable = False
                self.counts.unreadable += 1
            else:
                self.client_sent(b"")

    def _next_size(self) -> int | None:
        if not self.started:
            return struct.unpack("!i", self.buffer[:4])[0] if len(self.buffer) >= 4 else None
        return 1 + struct.unpack("!i", self.buffer[1:5])[0] if len(self.buffer) >= 5 else None

    def _read(self, message: bytes) -> None:
        if not self.started:
            code = struct.unpack("!i", message[4:8])[0] if len(message) >= 8 else 0
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                self.encryption_asked = True
            else:
                self.started = True
            return
        kind = message[:1]
        if kind in (b"Q", b"E"):
            self.counts.statements += 1
        if kind in (b"Q", b"S"):
            self.counts.round_trips += 1


class LatencyProxy:
    """The proxy on an asyncio loop: `await start()`, then `port`; `close()` when done."""

    def __init__(self, target: str, delay_s: float = 0.0, port: int = 0) -> None:
        self.target, self.delay_s, self.wanted_port = target, delay_s, port
        self.counts = Counts()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._lock = threading.Lock()  # counts are read from other threads
        self._serving: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.wanted_port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening and end every connection still open."""
        if self._server is not None:
            self._server.close()
        serving = [task for task in self._serving if not task.done()]
        for task in serving:
            task.cancel()
        await asyncio.gather(*serving, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    def snapshot(self) -> Counts:
        with self._lock:
            return self.counts.copy()

    async def _open_target(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.target.startswith("/"):
            return await asyncio.open_unix_connection(self.target)
        host, _, port = self.target.rpartition(":")
        return await asyncio.open_connection(host, int(port))

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)
        with contextlib.suppress(asyncio.CancelledError):  # closed: the connection just ends
            await self._connect(client_in, client_out)

    async def _connect(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        try:
            server_in, server_out = await self._open_target()
        except OSError:
            client_out.close()
            return
        with self._lock:
            self.counts.connections += 1
        reader = _Reader(self.counts)
        last = ["server"]  # who sent last: a client send after the server's is a burst

        def from_client(data: bytes) -> None:
            with self._lock:
                if last[0] != "client":
                    self.counts.bursts += 1
                last[0] = "client"
                reader.client_sent(data)

        def from_server(data: bytes) -> None:
            with self._lock:
                last[0] = "server"
                reader.server_sent(data)

        try:
            await asyncio.gather(
                self._pump(client_in, server_out, from_client),
                self._pump(server_in, client_out, from_server),
            )
        finally:
            for writer in (client_out, server_out):
                writer.close()

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        heard: Callable[[bytes], None],
    ) -> None:
        """Copy `source` to `sink`, each chunk `delay_s` after it arrived, in order."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            while data := await _read_some(source):
                heard(data)
                queue.put_nowait((time.monotonic() + self.delay_s, data))
            queue.put_nowait((0.0, b""))

        async def write() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                if (wait := due - time.monotonic()) > 0:
                    await asyncio.sleep(wait)
                sink.write(data)
                with contextlib.suppress(ConnectionError):
                    await sink.drain()
            with contextlib.suppress(OSError):
                sink.close()

        await asyncio.gather(read(), write())


async def _read_some(source: asyncio.StreamReader) -> bytes:
    try:
        return await source.read(65536)
    except ConnectionError:
        return b""


class ProxyThread:
    """A LatencyProxy on its own loop in a daemon thread: `with ProxyThread(target, delay) as
    proxy:` then `proxy.port` and `proxy.counts()`."""

    def __init__(self, target: str, delay_s: float = 0.0) -> None:
        self.proxy = LatencyProxy(target, delay_s)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.proxy.port

    def counts(self) -> Counts:
        return self.proxy.snapshot()

    def __enter__(self) -> ProxyThread:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.proxy.start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *_: object) -> None:
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self.proxy.close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


def target_of(host: str, port: int | str) -> str:
    """The proxy's target for a libpq host (a directory: the Unix socket in it) and port."""
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else f"{host}:{port}"


@contextlib.contextmanager
def proxied_url(url: str, delay_s: float = 0.0) -> Iterator[tuple[str, ProxyThread]]:
    """`url` through a new proxy (TLS off, so its messages can be counted)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    given = conninfo_to_dict(url)
    host = str(given.pop("host", None) or "/var/run/postgresql").split(",")[0]
    port = str(given.pop("port", None) or "5432").split(",")[0]
    given.pop("hostaddr", None)
    with ProxyThread(target_of(host, port), delay_s) as proxy:
        through = {**given, "host": "127.0.0.1", "port": str(proxy.port), "sslmode": "disable"}
        yield make_conninfo("", **through), proxy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="host:port or a Unix socket's path")
    parser.add_argument("--delay-ms", type=float, default=10.0, help="each way (default 10)")
    parser.add_argument("--port", type=int, default=0, help="where to listen (default: any)")
    options = parser.parse_args(argv)

    async def serve() -> None:
        proxy = LatencyProxy(options.target, options.delay_ms / 1000, options.port)
        await proxy.start()
        print(f"listening on 127.0.0.1:{proxy.port}", flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            print(f"counted: {proxy.snapshot()}", file=sys.stderr)

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
