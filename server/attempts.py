"""Limits wrong access-code guesses per client address, so a class code cannot be brute-forced.

A class often sits behind one address (a school's NAT), so the budget of one address is sized
for a class: `class_size` students × `join_attempts_per_minute` wrong codes each, a minute
(120 by default). Past it, `/join` answers 429 to everyone at that address, the right code too:
otherwise a guesser could go on guessing there. A guesser therefore gets at most that many
guesses a minute from one address; `weak_code_warning` says when that is too many for the
code, and docs/hosting.md gives the code length that makes guessing hopeless.
"""

from __future__ import annotations

import ipaddress
import math
import string
import time
from collections import OrderedDict, deque

MINUTES_A_YEAR = 365.25 * 24 * 60
# The code is too weak when one address guessing at the budget's rate for a year would find it
# with a chance above 1 in HOPELESS_ODDS.
HOPELESS_ODDS = 1000


class FailedAttempts:
    """Sliding one-minute window of failed `/join` attempts per client address."""

    WINDOW = 60.0
    MAX_CLIENTS = 10_000  # the oldest addresses are forgotten past this, so memory is bounded

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def retry_after(self, client: str, now: float | None = None) -> int:
        """Seconds until `client` may try again (0: it may try now)."""
        now = time.monotonic() if now is None else now
        times = self._recent(client, now)
        if len(times) < self.per_minute:
            return 0
        return max(1, math.ceil(times[0] + self.WINDOW - now))

    def record_failure(self, client: str, now: float | None = None) -> None:
        """Count one wrong code from `client`."""
        now = time.monotonic() if now is None else now
        self._recent(client, now).append(now)
        self._seen.move_to_end(client)
        while len(self._seen) > self.MAX_CLIENTS:
            self._seen.popitem(last=False)

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self.WINDOW:
            times.popleft()
        return times


def address_key(host: str) -> str:
    """What one client's budget is counted by: its IPv4 address, or its IPv6 /64 (one
    machine usually holds a whole /64, so counting single IPv6 addresses would not bound it)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def guess_space(code: str) -> int:
    """How many codes a guesser who knows the code's length and kinds of characters must try:
    (26 per letter case used, 10 if digits, 32 if other symbols) ^ length. An upper bound:
    a word or a name is far easier to guess than its letters suggest."""
    kinds = ((string.ascii_lowercase, 26), (string.ascii_uppercase, 26), (string.digits, 10))
    alphabet = sum(size for chars, size in kinds if any(c in chars for c in code))
    if any(not any(c in chars for chars, _ in kinds) for c in code):
        alphabet += 32
    return max(alphabet, 1) ** len(code)


def weak_code_warning(code: str, guesses_per_minute: int) -> str | None:
    """A warning for the server's log when `code` is too weak for the guessing budget."""
    a_year = guesses_per_minute * MINUTES_A_YEAR
    if guess_space(code) >= a_year * HOPELESS_ODDS:
        return None
    return (f"GRADWATCH_ACCESS_CODE is weak: one address may try {guesses_per_minute} guesses a "
            f"minute (GRADWATCH_CLASS_SIZE × GRADWATCH_JOIN_ATTEMPTS_PER_MINUTE), so guessing "
            f"all {guess_space(code):.2g} codes of its length and kind takes "
            f"{guess_space(code) / a_year:.2g} years; use a random code of 8 or more letters "
            "and digits (see docs/hosting.md)")
