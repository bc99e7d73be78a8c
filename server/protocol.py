"""uvicorn's HTTP protocol with deadlines for request heads and bodies and a connection limit.

`guarded_protocol(guard)` is what `python -m server` gives uvicorn as its `http` protocol. The
deadlines apply only while the server waits for its client (`server/connections.py`): an
answer being written, however slowly it is read (a long CSV download), and a websocket have
none. A head not complete in time closes the connection (with a 408 when part of it came); a
body not complete in time is answered 408 and closed, and the route reading it sees the client
gone. Idle keep-alive connections are closed by uvicorn's own keep-alive timeout.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.connections import ConnectionGuard, Slot

REASONS = {408: b"Request Timeout", 503: b"Service Unavailable"}


def raw_answer(status: int, detail: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A complete HTTP/1.1 answer with a JSON `{"detail": ...}` that closes the connection."""
    body = json.dumps({"detail": detail}).encode()
    lines = [b"HTTP/1.1 %d %s" % (status, REASONS[status]),
             b"content-type: application/json",
             b"content-length: %d" % len(body),
             b"x-content-type-options: nosniff",
             b"connection: close",
             *(f"{name}: {value}".encode() for name, value in headers)]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class GuardedHttpProtocol(HttpToolsProtocol):
    """HttpToolsProtocol whose connection holds a slot of `guard` (see the module's doc)."""

    guard: ClassVar[ConnectionGuard]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.ws_protocol_class is not None:
            self.ws_protocol_class = releasing_ws_protocol(self.ws_protocol_class, self.guard)
        self.slot: Slot | None = None
        self.head_started = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else ""
        self.slot = self.guard.admit(address, self._close_idle)
        if self.slot is None:
            self._answer_and_close(503, "the server holds as many connections as it may, all "
                                   "of them busy: try again in a moment", (("retry-after", "1"),))
            return
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.slot is not None:
            self.guard.release(self.slot)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.slot is None or self.transport.is_closing():
            return  # refused or timed out: whatever else comes is not read
        super().data_received(data)

    def on_message_begin(self) -> None:
        self.head_started = True
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self.head_started = False
        super().on_headers_complete()
        if self.slot is not None and self.slot.waiting_since is not None:
            self._arm(self.guard.body_seconds, self._body_timed_out)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        # A body that ends after its answer (a 413 sent before reading it) leaves the
        # connection waiting for the next head, deadline included.
        if self.slot is not None and self.cycle is not None and not self.cycle.response_complete:
            self.guard.busy(self.slot)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        cycle = self.cycle
        if self.slot is None or cycle is None or self.transport.is_closing():
            return
        if cycle.response_complete:
            self._await_head()
        elif cycle.more_body:  # a pipelined request starts with its body still to come
            self.guard.wait(self.slot)
            self._arm(self.guard.body_seconds, self._body_timed_out)

    def handle_websocket_upgrade(self) -> None:
        if self.slot is not None:
            self.guard.busy(self.slot)
        super().handle_websocket_upgrade()
        # The websocket protocol owns the connection from here on, and frees the slot.
        self.transport.get_protocol().guard_slot = self.slot  # type: ignore[attr-defined]

    def _await_head(self) -> None:
        assert self.slot is not None
        self.guard.wait(self.slot)
        self._arm(self.guard.header_seconds, self._head_timed_out)

    def _arm(self, seconds: float, then: Any) -> None:
        assert self.slot is not None
        self.slot.cancel_timer()
        self.slot.timer = self.loop.call_later(seconds, then)

    def _head_timed_out(self) -> None:
        if self.head_started:
            self.guard.count("slow request heads")
            self._answer_and_close(408, f"the request head took longer than "
                                   f"{self.guard.header_seconds:g} s")
        else:
            self.guard.count("idle connections")
            self._close_idle()

    def _body_timed_out(self) -> None:
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            # The route answered without reading the whole body; its answer decides.
            if self.slot is not None:
                self.guard.busy(self.slot)
            return
        self.guard.count("slow request bodies")
        if cycle is not None:
            cycle.disconnected = True  # the route's receive() gets http.disconnect
            cycle.keep_alive = False
            cycle.message_event.set()
        self._answer_and_close(408, f"the request body took longer than "
                               f"{self.guard.body_seconds:g} s")

    def _answer_and_close(self, status: int, detail: str,
                          headers: tuple[tuple[str, str], ...] = ()) -> None:
        if not self.transport.is_closing():
            self.transport.write(raw_answer(status, detail, headers))
            self.transport.close()
        if self.slot is not None:
            self.guard.release(self.slot)

    def _close_idle(self) -> None:
        if self.slot is not None:
            self.guard.release(self.slot)
        if not self.transport.is_closing():
            self.transport.close()


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedHttpProtocol]:
    """The HTTP protocol class for uvicorn whose connections hold slots of `guard`."""
    return type("GuardedHttpProtocol", (GuardedHttpProtocol,), {"guard": guard})


_RELEASING: dict[tuple[type, int], type] = {}


def releasing_ws_protocol(base: type[asyncio.Protocol], guard: ConnectionGuard) -> type:
    """`base` (uvicorn's websocket protocol) that frees the connection's slot when it closes."""
    key = (base, id(guard))
    if key not in _RELEASING:
        def connection_lost(self: Any, exc: Exception | None) -> None:
            slot = getattr(self, "guard_slot", None)
            if slot is not None:
                guard.release(slot)
            base.connection_lost(self, exc)  # type: ignore[attr-defined]

        _RELEASING[key] = type(base.__name__, (base,), {"connection_lost": connection_lost})
    return _RELEASING[key]
