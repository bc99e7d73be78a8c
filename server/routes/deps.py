"""What route functions take from the app: the RunService and the calling Visitor."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from server.identity import Visitor, visitor_of
from server.service import RunService


def get_service(conn: HTTPConnection) -> RunService:
    """The app's RunService (made by the lifespan)."""
    return conn.app.state.service


def get_visitor(conn: HTTPConnection) -> Visitor:
    """The caller, as IdentityMiddleware identified them."""
    return visitor_of(conn)
