"""Schedulers for timed outputs (a beep 120 ms long, a relay held 500 ms), injected so tests never sleep.

:class:`ThreadScheduler` runs callbacks on one worker thread at real monotonic times;
:class:`ManualScheduler` runs them when a test (or a FakeClock-driven simulation) advances it.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(order=True)
class Timer:
    due: float
    order: int
    fn: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler(Protocol):
    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        """Run ``fn`` once, ``delay_s`` from now (0: as soon as possible, in order of scheduling)."""


def _run(timer: Timer) -> None:
    try:
        timer.fn()
    except Exception:
        log.exception("a scheduled output step failed")


class ManualScheduler:
    """Time moves only in :meth:`advance`; due callbacks run in time order, inside the call.

    Time is kept in whole microseconds so that ten steps of 10 ms reach exactly 100 ms.
    """

    def __init__(self) -> None:
        self._now_us = 0
        self._heap: list[Timer] = []
        self._order = itertools.count()

    @property
    def now_s(self) -> float:
        return self._now_us / 1e6

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(self._now_us + max(0, round(delay_s * 1e6)), next(self._order), fn)
        heapq.heappush(self._heap, timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, running each callback at its due time."""
        end = self._now_us + round(seconds * 1e6)
        while self._heap and self._heap[0].due <= end:
            timer = heapq.heappop(self._heap)
            self._now_us = max(self._now_us, int(timer.due))
            if not timer.cancelled:
                _run(timer)
        self._now_us = end

    def run_due(self) -> None:
        """Run what is due now (zero-delay steps) without moving time."""
        self.advance(0.0)

    @property
    def pending(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)

    def __repr__(self) -> str:
        return f"ManualScheduler(t={self.now_s:.6f}s, pending={self.pending})"


class ThreadScheduler:
    """One daemon thread that runs callbacks at their due monotonic time."""

    def __init__(self, name: str = "feedback") -> None:
        self._heap: list[Timer] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def call_later(self, delay_s: float, fn: Callable[[], None]) -> Timer:
        timer = Timer(time.monotonic() + max(0.0, delay_s), next(self._order), fn)
        with self._cond:
            heapq.heappush(self._heap, timer)
            self._cond.notify()
        return timer

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._heap or self._heap[0].due > time.monotonic()):
                    wait = self._heap[0].due - time.monotonic() if self._heap else None
                    self._cond.wait(wait)
                if self._closed:
                    return
                timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                _run(timer)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=2)

    def __repr__(self) -> str:
        return f"ThreadScheduler({'closed' if self._closed else 'running'}, pending={len(self._heap)})"
