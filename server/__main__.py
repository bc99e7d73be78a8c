"""`python -m server`: run the dashboard with the settings of the environment."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from server.connections import ConnectionGuard, connection_limit, raise_file_limit
from server.protocol import guarded_protocol
from server.settings import Settings, executor_problem, exposure_problem


def connection_guard(settings: Settings) -> ConnectionGuard:
    """The slots for client connections: as many as the settings and the open-file limit allow."""
    open_files = raise_file_limit()
    workers = settings.workers if settings.executor == "local" else 0
    return ConnectionGuard(connection_limit(settings.max_connections, workers, open_files),
                           settings.max_connections_per_address,
                           settings.header_timeout_seconds, settings.body_timeout_seconds)


def main() -> int:
    """Serve until interrupted; exit status 2 when the settings forbid starting."""
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"gradwatch: a GRADWATCH_* setting is invalid:\n{exc}", file=sys.stderr)
        return 2
    problem = exposure_problem(settings) or executor_problem(settings)
    if problem:
        print(f"gradwatch: {problem}", file=sys.stderr)
        return 2
    from server.app import create_app  # after the checks: a refused start stays instant

    # No permessage-deflate: it compresses every frame once per viewer (0.1-0.8 ms a frame,
    # docs/performance.md), which a class of viewers turns into the server's main cost.
    # Downloads and snapshot encodings run in threads that hold the GIL; a thread waiting for
    # it gets it after at most the switch interval. At Python's 5 ms the event loop waited
    # ~100 ms a request behind an export (issue 12, B3); at 0.5 ms it waits a tenth of that.
    sys.setswitchinterval(0.0005)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level, ws_per_message_deflate=False,
                http=guarded_protocol(connection_guard(settings)),
                timeout_keep_alive=settings.idle_timeout_seconds)  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
