"""A TCP proxy in front of the private Dovecot that breaks the connection on demand.

The client connects to 127.0.0.1:`port`; the proxy relays to the upstream server. With `tls`
it ends the client's TLS with the test certificate (which the client verifies, as it would
Dovecot's) and opens its own verified TLS connection upstream, so it sees the IMAP text and
can cut a FETCH response in the middle of a message literal. Without `tls` it relays raw bytes.

Faults, each planned from the test thread:
- `cut_after(n)`: the first connection whose server→client traffic reaches `n` bytes gets
  exactly `n` bytes, then the server side is dropped and the client's connection closed (no
  IMAP BYE: to the client the server is simply gone).
- `cut_after(n, marker=BODY_LITERAL, occurrence=k)`: the same, counted from the start of the
  line holding the k-th appearance of the marker: here the k-th FETCH response that carries a
  message (the marker is looked for in the plain text, so this needs `tls`).
- `refuse()`: stop listening, so connecting fails with "connection refused" like a server that
  is down; `resume()` listens on the same port again.

`cuts` records each cut with the server→client transcript up to it, so a test can tell which
message the cut fell in.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from servers.certs import TlsFiles

#: In every untagged FETCH response: `* 7 FETCH (`.
FETCH_START = b" FETCH ("
#: In a FETCH response that carries a whole message: `* 7 FETCH (UID 7 … BODY[] {51234}`.
BODY_LITERAL = b"BODY[] {"


@dataclass(frozen=True)
class Cut:
    """One connection the proxy broke."""

    connection: int  # 1 for the first connection the proxy accepted
    offset: int  # server→client bytes delivered before the cut
    transcript: bytes  # those bytes (the plain IMAP text when the proxy ends TLS)


@dataclass(frozen=True)
class _Plan:
    after: int
    marker: bytes | None
    occurrence: int


class _Connection:
    def __init__(self, number: int, client: asyncio.WriteTransport) -> None:
        self.number = number
        self.sent = bytearray()  # server→client, as delivered
        self.client = client
        self.upstream: asyncio.WriteTransport | None = None

    def cut(self) -> None:
        """Drop the server at once; close the client's side only once what was written to it
        has gone out (abort() would throw away what is still buffered)."""
        if self.upstream is not None:
            self.upstream.abort()
        self.client.close()

    def abort(self) -> None:
        for transport in (self.client, self.upstream):
            if transport is not None:
                transport.abort()


class ImapProxy:
    """A proxy on 127.0.0.1 relaying to `upstream_host:upstream_port` from its own thread.

    Use as a context manager or start()/stop().
    """

    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        tls: TlsFiles | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.tls = tls
        self.host = host
        self.port = 0
        self._lock = threading.Lock()
        self._plans: list[_Plan] = []
        self._cuts: list[Cut] = []
        self._accepted = 0
        self._open: set[_Connection] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> ImapProxy:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(target=loop.run_forever, name="imap-proxy", daemon=True)
        self._thread.start()
        self._call(self._listen())

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._call(self._shutdown())
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()
        self._loop = self._thread = None

    # ------------------------------------------------------------------ test controls

    def cut_after(self, count: int, *, marker: bytes | None = None, occurrence: int = 1) -> None:
        """Break the first connection that delivers `count` more bytes to the client, counted
        from its start or, with `marker`, from the start of the line holding its
        `occurrence`-th appearance. One cut per call."""
        if count < 0 or occurrence < 1:
            raise ValueError("count must be >= 0 and occurrence >= 1")
        if marker is not None and self.tls is None:
            raise ValueError("a marker can only be seen in the plain text: pass tls=")
        with self._lock:
            self._plans.append(_Plan(count, marker, occurrence))

    def refuse(self) -> None:
        """Stop listening: new connections are refused. Open ones are left alone."""
        self._call(self._close_listener())

    def resume(self) -> None:
        """Listen again on the same port."""
        self._call(self._listen())

    @property
    def cuts(self) -> list[Cut]:
        with self._lock:
            return list(self._cuts)

    @property
    def accepted(self) -> int:
        """Connections accepted so far."""
        with self._lock:
            return self._accepted

    @property
    def planned(self) -> int:
        """Cuts planned and not yet done."""
        with self._lock:
            return len(self._plans)

    # ------------------------------------------------------------------ proxy side

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        if self._server is not None:
            return
        context = None
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.tls.cert, self.tls.key)
        self._server = await asyncio.start_server(
            self._serve,
            self.host,
            self.port,
            ssl=context,
            reuse_address=True,
            # A cut client that never answers the TLS close is not waited for long.
            ssl_shutdown_timeout=2 if context is not None else None,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close_listener(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            await server.wait_closed()

    async def _shutdown(self) -> None:
        await self._close_listener()
        for connection in list(self._open):
            connection.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with self._lock:
            self._accepted += 1
            connection = _Connection(self._accepted, writer.transport)
        self._open.add(connection)
        try:
            context = None
            if self.tls is not None:
                context = ssl.create_default_context(cafile=str(self.tls.cert))
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    self.upstream_host,
                    self.upstream_port,
                    ssl=context,
                    server_hostname=self.upstream_host if context is not None else None,
                )
            except OSError:
                connection.abort()  # upstream is down: so are we, as far as the client sees
                return
            connection.upstream = upstream_writer.transport
            await asyncio.gather(
                self._pump(reader, upstream_writer, None),
                self._pump(upstream_reader, writer, connection),
            )
        finally:
            self._open.discard(connection)
            if not connection.client.is_closing():
                connection.abort()

    async def _pump(
        self,
        source: asyncio.StreamReader,
        target: asyncio.StreamWriter,
        watched: _Connection | None,
    ) -> None:
        """Copy one direction until EOF; `watched` is set for server→client, where cuts are."""
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.IncompleteReadError):
            while data := await source.read(65536):
                if watched is not None:
                    cut_at = self._cut_position(watched, data)
                    if cut_at is not None:
                        target.write(data[:cut_at])
                        await target.drain()
                        self._record_cut(watched, data[:cut_at])
                        watched.cut()
                        return
                    watched.sent += data
                target.write(data)
                await target.drain()
        # EOF from one side: pass it on, so the other side hangs up as it would directly.
        with contextlib.suppress(OSError, RuntimeError):
            if target.can_write_eof():
                target.write_eof()
            else:
                target.close()

    def _cut_position(self, connection: _Connection, data: bytes) -> int | None:
        """Where in `data` the first plan that applies to this connection cuts, if any."""
        with self._lock:
            plans = list(self._plans)
        if not plans:
            return None
        seen = bytes(connection.sent) + data
        for plan in plans:
            start = 0
            if plan.marker is not None:
                found = _nth_line_with(seen, plan.marker, plan.occurrence)
                if found is None:
                    continue
                start = found
            position = start + plan.after - len(connection.sent)
            if position < len(data):
                with self._lock:
                    if plan not in self._plans:
                        continue  # another connection took it meanwhile
                    self._plans.remove(plan)
                return max(position, 0)
        return None

    def _record_cut(self, connection: _Connection, last: bytes) -> None:
        connection.sent += last
        with self._lock:
            self._cuts.append(Cut(connection.number, len(connection.sent), bytes(connection.sent)))


def _nth_line_with(text: bytes, marker: bytes, occurrence: int) -> int | None:
    """The offset of the start of the line holding the `occurrence`-th `marker`."""
    position = -1
    for _ in range(occurrence):
        position = text.find(marker, position + 1)
        if position < 0:
            return None
    return text.rfind(b"\n", 0, position) + 1
