"""`WS /ws/runs/{id}`: a snapshot on connect, then the run's frames from the hub (CONTRACT §5)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from fastapi import APIRouter, WebSocket
from starlette.responses import Response

from server.detail import bounded_live, bounded_snapshot, parse_buckets, parse_metrics
from server.errors import InvalidInput, NotFound, StrictJSONResponse
from server.hub import Hub, Subscriber
from server.identity import Visitor, visitor_of
from server.routes.deps import HubDep, ServiceDep, SettingsDep, StoreDep
from server.service import RunService
from trainer.contract.protocol import GONE_CODE, REFUSED_CODE_BASE, dumps

router = APIRouter()
CLOSE_GRACE_SECONDS = 5.0


@router.websocket("/ws/runs/{run_id}")
async def watch_run(websocket: WebSocket, run_id: str, service: ServiceDep, store: StoreDep,
                    hub: HubDep, settings: SettingsDep) -> None:
    """Stream a run to one viewer until either side closes."""
    visitor = visitor_of(websocket)
    sockets: Counter[str] = websocket.app.state.sockets
    if sockets[visitor.id] >= settings.max_sockets_per_visitor:
        await _deny(websocket, StrictJSONResponse(
            {"detail": "too many open sockets from this visitor; close some tabs"}, 429))
        return
    sockets[visitor.id] += 1
    try:
        await websocket.accept()
        if store.get_run(run_id) is None:
            await websocket.close(GONE_CODE, "there is no such run")
            return
        try:  # a bounded snapshot (server/detail.py) when the viewer asks for one
            view = (parse_buckets(websocket.query_params.get("buckets"), None),
                    parse_metrics(websocket.query_params.get("metrics")))
        except InvalidInput as exc:
            await websocket.close(REFUSED_CODE_BASE + 422, exc.detail[0]["msg"][:120])
            return
        await _watch(websocket, service, hub, visitor, run_id, view)
    finally:
        sockets[visitor.id] -= 1
        if sockets[visitor.id] <= 0:
            del sockets[visitor.id]


async def _watch(websocket: WebSocket, service: RunService, hub: Hub, visitor: Visitor,
                 run_id: str, view: tuple[int | None, tuple[str, ...]]) -> None:
    buckets, metrics = view
    sub = hub.subscribe(run_id)
    try:
        # No await between subscribing and copying a live run's history: every step is
        # either in the snapshot or in a later frame, never both, never neither.
        frame = service.live_snapshot(run_id, visitor)
        if frame is not None and buckets is not None:
            text = await bounded_live(frame, buckets, metrics)
        elif frame is not None:
            text = await asyncio.to_thread(dumps, frame)
        elif buckets is not None:
            text = await bounded_snapshot(service, run_id, visitor, buckets, metrics)
        else:
            text = await service.stored_snapshot(run_id, visitor)
        await websocket.send_text(text)
        await _pump(websocket, sub)
    except NotFound:
        await websocket.close(GONE_CODE, "there is no such run")
    finally:
        hub.unsubscribe(run_id, sub)


async def _pump(websocket: WebSocket, sub: Subscriber) -> None:
    """Send the subscriber's frames until the client leaves or the hub closes it."""
    sender = asyncio.create_task(_send_frames(websocket, sub))
    receiver = asyncio.create_task(_until_disconnect(websocket))
    closed = asyncio.create_task(sub.wait_closed())
    try:
        await asyncio.wait({sender, receiver, closed}, return_when=asyncio.FIRST_COMPLETED)
        if closed.done() and not sender.done():
            # Evicted (or the run deleted): the sender closes the socket itself, unless it is
            # stuck on a client that stopped reading; then give up on it after a grace period
            # and let the server drop the connection.
            await asyncio.wait({sender, receiver}, timeout=CLOSE_GRACE_SECONDS,
                               return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, receiver, closed):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _send_frames(websocket: WebSocket, sub: Subscriber) -> None:
    while (text := await sub.get()) is not None:
        await websocket.send_text(text)
    await websocket.close(sub.close_code or 1000, sub.close_reason)


async def _until_disconnect(websocket: WebSocket) -> None:
    # Nothing is required from the client; its messages are read only to notice it leaving.
    while (await websocket.receive())["type"] != "websocket.disconnect":
        pass


async def _deny(websocket: WebSocket, response: Response) -> None:
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(response)
    else:
        await websocket.close(REFUSED_CODE_BASE + response.status_code)
