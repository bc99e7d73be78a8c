"""What every visitor sees of a run's failure: one sentence, never a traceback.

A worker (trainer/job.py) reports a failure as the exception, then the last frames of its
traceback, which name the server's files and libraries; a script's callback may report its own
machine's paths. `RunEvents` logs that report whole and stores and sends `public_error` of it:
the exception's type and first line with anything path-like cut out, and what to change.
"""

from __future__ import annotations

import re

# A word holding a slash or a backslash: a file path, a module path, a TensorFlow device.
PATHLIKE = re.compile(r"\S*[/\\]\S*")
EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(?P<name>\w+(?:Error|Exception|Exhausted|Interrupt))"
                       r"\s*:?\s*(?P<message>.*)$")
MAX_MESSAGE = 160
ADVICE = ("try a smaller model, batch or dataset, or a smaller learning rate, and start it "
          "again (the instructor finds the details in the server log)")


def is_private(error: str) -> bool:
    """Whether an error report holds more than a visitor should see (a traceback, a path)."""
    return "\n" in error or "Traceback" in error or bool(PATHLIKE.search(error))


def public_error(error: str | None) -> str | None:
    """The sentence a visitor sees for a run's error report (a short one is kept as it is)."""
    if error is None or not is_private(error):
        return error
    first = error.strip().splitlines()[0] if error.strip() else ""
    found = EXCEPTION.match(first)
    name, message = (found["name"], found["message"]) if found else ("an error", first)
    message = " ".join(PATHLIKE.sub("…", message).split()).rstrip(" .…:")
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE].rsplit(" ", 1)[0] + " …"
    what = f"Training failed with {name}" + (f" ({message})" if message else "")
    return f"{what}: {ADVICE}."
