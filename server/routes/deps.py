"""What route functions take from the app, as FastAPI dependencies.

The lifespan (server/app.py) puts the collaborators in `app.state`; a route names the ones it
uses in its signature (`store: StoreDep`, ...) instead of reaching through the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from server.executors.base import Executor
from server.hub import Hub
from server.identity import Identity, Visitor, visitor_of
from server.liveruns import LiveRuns
from server.service import RunService
from server.settings import Settings
from server.snapshots import SnapshotCache
from server.store import RunStore


def get_service(conn: HTTPConnection) -> RunService:
    """The app's RunService (made by the lifespan)."""
    return conn.app.state.service


def get_store(conn: HTTPConnection) -> RunStore:
    return conn.app.state.store


def get_hub(conn: HTTPConnection) -> Hub:
    return conn.app.state.hub


def get_executor(conn: HTTPConnection) -> Executor:
    return conn.app.state.executor


def get_live(conn: HTTPConnection) -> LiveRuns:
    """The runs of this process that have not ended (RunEvents owns them)."""
    return conn.app.state.live


def get_snapshots(conn: HTTPConnection) -> SnapshotCache:
    return conn.app.state.snapshots


def get_settings(conn: HTTPConnection) -> Settings:
    return conn.app.state.settings


def get_identity(conn: HTTPConnection) -> Identity:
    return conn.app.state.identity


def get_visitor(conn: HTTPConnection) -> Visitor:
    """The caller, as IdentityMiddleware identified them."""
    return visitor_of(conn)


ServiceDep = Annotated[RunService, Depends(get_service)]
StoreDep = Annotated[RunStore, Depends(get_store)]
HubDep = Annotated[Hub, Depends(get_hub)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
LiveDep = Annotated[LiveRuns, Depends(get_live)]
SnapshotsDep = Annotated[SnapshotCache, Depends(get_snapshots)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
IdentityDep = Annotated[Identity, Depends(get_identity)]
Caller = Annotated[Visitor, Depends(get_visitor)]
