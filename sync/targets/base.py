"""Delivery to servers other than our own, each with its own cursor.

A :class:`PunchTarget` takes punches in sequence order and says how far it delivered and which
punches the server rejected for good (an unknown or inactive employee: retrying cannot help).
:class:`TargetRunner` keeps the target's cursor in ``sync_cursors`` (``<type>:<name>``),
records rejects in ``target_rejects`` for the maintenance page, and backs off with jitter when
the server is unavailable. Several runners can run at once beside the presensi_v1 uploader.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from core.clock import Clock
from core.errors import SyncError
from core.health import Health, report
from core.store.punches import Punch, PunchStore
from core.store.sync_state import get_cursor, record_delivery

log = logging.getLogger(__name__)


class TargetUnavailable(SyncError):
    """The server cannot take punches now; try again later (``retry_after_s`` if it said)."""

    def __init__(self, message: str, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass
class Delivery:
    """What one round achieved: every seq up to ``through_seq`` is settled (delivered, known as
    a duplicate, or rejected for good with its reason in ``rejects``)."""

    through_seq: int
    delivered: int = 0
    duplicates: int = 0
    rejects: list[tuple[int, str, str]] = field(default_factory=list)  # (seq, punch id, reason)


class PunchTarget(Protocol):
    type_key: ClassVar[str]
    name: str

    def deliver(self, punches: Sequence[Punch], after_seq: int) -> Delivery:
        """Deliver ``punches`` (seq > ``after_seq``, in order); raise TargetUnavailable when
        nothing more can be done now (the Delivery so far is then lost: keep rounds small)."""
        ...

    def close(self) -> None: ...


class TargetRunner:
    """Runs one target: rounds of ``batch`` punches from its cursor, until stopped."""

    def __init__(
        self,
        store: PunchStore,
        target: PunchTarget,
        clock: Clock,
        *,
        batch: int = 200,
        interval_s: float = 30.0,
        backoff_max_s: float = 300.0,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.target = target
        self.clock = clock
        self.batch = batch
        self.interval_s = interval_s
        self.backoff_max_s = backoff_max_s
        self.cursor_name = f"{target.type_key}:{target.name}"
        self._rng = rng or random.Random()
        self._failures = 0

    def __repr__(self) -> str:
        return f"TargetRunner({self.cursor_name}, cursor={self.cursor()})"

    @property
    def conn(self) -> sqlite3.Connection:
        return self.store.conn

    def cursor(self) -> int:
        return get_cursor(self.conn, self.cursor_name)

    def _advance(self, delivery: Delivery) -> None:
        record_delivery(self.conn, self.cursor_name, delivery.through_seq, delivery.rejects, self.clock.now())

    def run_once(self) -> Delivery:
        """One round: deliver what is pending (in batches) until none is left or the server
        is unavailable (TargetUnavailable propagates after the cursor keeps what was settled)."""
        cursor = self.cursor()
        resume = getattr(self.target, "resume_after", None)
        start = resume(cursor) if resume is not None else cursor
        if start != cursor:
            self._advance(Delivery(min(start, self.store.last_seq())))
        total = Delivery(min(start, self.store.last_seq()))
        while True:
            after = total.through_seq
            punches = self.store.since(after, self.batch)
            if not punches:
                break
            delivery = self.target.deliver(punches, after)
            if delivery.through_seq > after:
                self._advance(delivery)
            total.through_seq = delivery.through_seq
            total.delivered += delivery.delivered
            total.duplicates += delivery.duplicates
            total.rejects += delivery.rejects
            if delivery.through_seq < punches[-1].seq:
                break
        poll = getattr(self.target, "poll", None)
        if poll is not None:
            poll()
        return total

    def next_wait_s(self, retry_after_s: float | None = None) -> float:
        """After a failure: exponential backoff with full jitter, at least Retry-After."""
        self._failures += 1
        ceiling = min(self.backoff_max_s, 2.0 ** min(self._failures, 16))
        wait = self._rng.uniform(ceiling / 2, ceiling)
        return max(wait, retry_after_s or 0.0)

    def loop(self, stop: threading.Event) -> None:
        """Until ``stop``: a round, then wait ``interval_s`` (or the backoff after a failure)."""
        while not stop.is_set():
            try:
                delivery = self.run_once()
            except TargetUnavailable as exc:
                wait = self.next_wait_s(exc.retry_after_s)
                log.warning("%s unavailable (%s); retrying in %.0f s", self.cursor_name, exc, wait)
                report(
                    self.conn,
                    f"target:{self.target.name}",
                    Health.WARN,
                    f"server unavailable: {exc}",
                    now=self.clock.now(),
                    error=str(exc),
                )
                stop.wait(wait)
                continue
            except SyncError as exc:
                log.error("%s refused us: %s", self.cursor_name, exc)
                report(self.conn, f"target:{self.target.name}", Health.FAIL, str(exc), now=self.clock.now(), error=str(exc))
                stop.wait(self.backoff_max_s)
                continue
            except Exception as exc:  # a server's unexpected words must not stop every target
                log.exception("%s: unexpected failure talking to the server; retrying later", self.cursor_name)
                report(
                    self.conn,
                    f"target:{self.target.name}",
                    Health.FAIL,
                    f"unexpected answer from the server: {type(exc).__name__}",
                    now=self.clock.now(),
                    error=str(exc)[:200],
                )
                stop.wait(self.backoff_max_s)
                continue
            self._failures = 0
            detail = f"up to punch {delivery.through_seq}"
            if delivery.rejects:
                detail += f"; {len(delivery.rejects)} rejected (see the maintenance page)"
            report(
                self.conn,
                f"target:{self.target.name}",
                Health.WARN if delivery.rejects else Health.OK,
                detail,
                now=self.clock.now(),
            )
            stop.wait(self.interval_s)
