"""Who may talk to port 4370, and for how long (issue 22, finding 7).

ZK's comm key is a number the client folds with the session id; anyone on the LAN could try them
all (7,400 a second, no lockout), join another peer's UDP session by spoofing its source (session
ids were not checked), and grow the session table without bound (80,000 CONNECTs slowed every
reply 60-fold). Here: wrong keys lock the address out with a growing delay, sessions expire, and
the table is bounded. Times come from the injected clock's monotonic counter.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from core.config.base import is_loopback

__all__ = ["AuthGuard", "is_loopback"]

#: Wrong comm keys from one address before it is locked out; the lock then doubles per failure.
FAILURES_BEFORE_LOCK = 5
LOCK_BASE_S = 30.0
LOCK_MAX_S = 3600.0
#: Addresses whose failures are remembered (the oldest forgotten first).
MAX_ADDRESSES = 4096

#: Sessions held at once (TCP connections and UDP peers); the idlest is dropped for a new one.
MAX_SESSIONS = 64
#: A session that has not authenticated is dropped after this long.
UNAUTHENTICATED_IDLE_S = 30.0
#: An authenticated session with no packet for this long is dropped (a live-event listener acks
#: each event, and pyzk's UDP keeps its session busy while it reads).
IDLE_S = 15 * 60.0


@dataclass
class _Failures:
    count: int = 0
    locked_until_s: float = 0.0


class AuthGuard:
    """Wrong comm keys per address, with a lockout that grows (not thread-safe: the event loop)."""

    def __init__(self) -> None:
        self._by_addr: OrderedDict[str, _Failures] = OrderedDict()

    def locked_for(self, addr: str, now_s: float) -> float:
        """Seconds ``addr`` stays locked out (0: it may try)."""
        entry = self._by_addr.get(addr)
        return max(0.0, entry.locked_until_s - now_s) if entry else 0.0

    def failed(self, addr: str, now_s: float) -> float:
        """Count a wrong key; returns the lock it brings (0 below the threshold)."""
        entry = self._by_addr.pop(addr, None) or _Failures()
        entry.count += 1
        self._by_addr[addr] = entry
        while len(self._by_addr) > MAX_ADDRESSES:
            self._by_addr.popitem(last=False)
        if entry.count < FAILURES_BEFORE_LOCK:
            return 0.0
        lock = min(LOCK_MAX_S, LOCK_BASE_S * 2.0 ** (entry.count - FAILURES_BEFORE_LOCK))
        entry.locked_until_s = now_s + lock
        return lock

    def succeeded(self, addr: str) -> None:
        self._by_addr.pop(addr, None)
