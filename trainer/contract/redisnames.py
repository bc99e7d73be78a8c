"""What the server and the scale-out workers agree on in Redis: names, timings, the entry format.

TF-free and web-free (the standard library only): `server.executors.redis` and `trainer.worker`
both import it.

- Runs are RQ jobs of the function `JOB_FUNCTION`, with the job id = the run id, serialized with
  RQ's JSON serializer. There is one RQ queue per fairness level, `QUEUE_NAMES`, listed in
  priority order: a worker always takes from the first non-empty one (see docs/scaling.md).
- A run's events go, in order, to the capped stream `events_key(run_id)`: one entry per event,
  the event as JSON in the field `e`. The first event is `dispatched`, the last `finished`.
- While a run trains, its worker keeps `alive_key(run_id)` (value: the worker's name) set with a
  TTL of `HEARTBEAT_TTL` s, refreshed every `HEARTBEAT_EVERY` s. It sets the key before its
  `dispatched` entry and deletes it after its `finished` entry, so a missing key with no
  `finished` in the stream means the worker died.
- The server asks a run to stop by setting `stop_key(run_id)` to the reason; the worker polls it
  every `STOP_POLL_SECONDS`.
"""

from __future__ import annotations

import json
from typing import Any

JOB_FUNCTION = "trainer.worker.train"
QUEUE_NAMES = ("gradwatch-0", "gradwatch-1", "gradwatch-2", "gradwatch-3")
DEFAULT_URL = "redis://127.0.0.1:6379/0"

STREAM_MAXLEN = 20_000       # entries kept per run stream (XADD MAXLEN ~): minutes of events
STREAM_TTL = 24 * 3600       # a finished run's stream expires if no server ever reads it
STOP_TTL = 24 * 3600
HEARTBEAT_EVERY = 2.0
HEARTBEAT_TTL = 8            # seconds: a dead worker's run is failed this long after its death
STOP_POLL_SECONDS = 0.1
JOB_TIMEOUT_GRACE = 120      # RQ's own job timeout: max_seconds plus this (a backstop only)


def events_key(run_id: str) -> str:
    """The stream of a run's events."""
    return f"gradwatch:events:{run_id}"


def alive_key(run_id: str) -> str:
    """The heartbeat key of a run being trained (its value is the worker's name)."""
    return f"gradwatch:alive:{run_id}"


def stop_key(run_id: str) -> str:
    """Set to the reason when the run should stop."""
    return f"gradwatch:stop:{run_id}"


def encode_event(event: dict[str, Any]) -> dict[str, str]:
    """A stream entry's fields for an event (NaN stays NaN, as on the local workers' queues)."""
    return {"e": json.dumps(event, separators=(",", ":"))}


def decode_event(fields: dict[Any, Any]) -> dict[str, Any]:
    """The event of a stream entry (fields as redis-py returns them, bytes or str)."""
    raw = fields.get(b"e", fields.get("e"))
    return json.loads(raw)


def redacted(url: str) -> str:
    """A Redis URL without its password, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.split("@", 1)[1]
    return scheme + sep + rest
