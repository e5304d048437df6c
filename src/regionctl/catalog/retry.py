"""When to try a Keystone request again, and how long to wait (pure; ``live.py`` does the waiting).

Only what Keystone says was not done is retried: 503 and 429 (honouring Retry-After), and a
connection refused before the request left. Reads are also retried after a dropped
connection or a gateway error (502/504), since reading twice changes nothing. A write whose
outcome is unknown (the connection dropped after it was sent) is never repeated here: apply
re-reads Keystone first (``apply.py``). Every request has a bounded number of attempts and
a total time cap; waits grow exponentially, with jitter so parallel writers spread out.
"""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

#: Statuses that mean "not done, try later" for any method.
NOT_DONE = (429, 503)
#: Gateway statuses: the request may or may not have reached Keystone.
GATEWAY = (502, 504)


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for one request: attempts, total seconds, first and longest wait."""

    budget: float = 30.0
    attempts: int = 8
    first: float = 0.25
    longest: float = 8.0

    def wait(self, attempt: int, elapsed: float, retry_after: float | None = None,
             rand: random.Random | None = None) -> float | None:
        """Seconds to wait before attempt ``attempt + 1``, or None: give up.

        ``retry_after`` (Keystone's or a proxy's Retry-After) is honoured as given, but never
        beyond the budget: then we give up rather than wait past the cap.
        """
        if attempt >= self.attempts or self.budget <= 0:
            return None
        if retry_after is not None:
            delay = max(0.0, retry_after)
        else:
            delay = min(self.longest, self.first * 2 ** (attempt - 1)) * (0.5 + (rand or random).random() / 2)
        if elapsed + delay > self.budget:
            return None
        return delay


NO_RETRIES = RetryPolicy(budget=0.0, attempts=1)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: ``"2"`` or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def maybe_sent(text: str) -> bool:
    """From a connection error's text: could the request have reached Keystone?

    Refused, unresolvable and connect timeouts happen before a byte is sent; anything else
    (reset, closed without response, read timeout) may come after Keystone acted on it.
    """
    t = text.lower()
    before = ("refused", "failed to establish a new connection", "newconnectionerror", "name or service not known",
              "temporary failure in name resolution", "connecttimeout", "connect timeout", "no route to host",
              "network is unreachable")
    return not any(b in t for b in before)
