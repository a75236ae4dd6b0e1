"""Punches made by other processes reach the screen through the database.

:class:`PunchWatcher` keeps its own connection and polls ``PRAGMA data_version`` (which changes
only when another connection commits); on a change it reads the punches after the last one it
saw and publishes each as a :class:`Decision`. The hub drops a punch a service already published.
The fingerprint bridge (its own process) also writes its refusals to ``finger_feedback``
(unknown finger, already recorded, module fault); those are published as refused decisions with
the bridge's own text.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from core.store.db import data_version
from core.store.finger_templates import feedback_after, last_feedback_id
from core.store.punch_views import named_punches_after
from core.store.punches import head_seq
from kiosk.web.ports import Decision, DecisionHub

log = logging.getLogger(__name__)


class PunchWatcher:
    def __init__(self, connect: Callable[[], sqlite3.Connection], hub: DecisionHub, *, poll_s: float = 0.2) -> None:
        self._connect = connect
        self.hub = hub
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_seq = 0
        self.last_feedback = 0

    def __repr__(self) -> str:
        return f"PunchWatcher(last_seq={self.last_seq}, running={self._thread is not None})"

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        conn = self._connect()
        self.last_seq = head_seq(conn)
        self.last_feedback = last_feedback_id(conn)
        self._thread = threading.Thread(target=self._run, args=(conn,), name="punch-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self, conn: sqlite3.Connection) -> None:
        version = -1
        try:
            while not self._stop.wait(self.poll_s):
                try:
                    now_version = data_version(conn)
                    if now_version != version:
                        version = now_version
                        self.poll_once(conn)
                        self.poll_feedback(conn)
                except sqlite3.Error as exc:
                    log.warning("punch watcher cannot read the database: %s", exc)
        finally:
            conn.close()

    def poll_once(self, conn: sqlite3.Connection) -> int:
        """Publish punches after ``last_seq``; returns how many."""
        rows = named_punches_after(conn, self.last_seq, limit=50)
        for r in rows:
            self.last_seq = int(r["seq"])
            self.hub.publish(
                Decision(
                    accepted=True,
                    employee_id=r["employee_id"],
                    name=r["name"],
                    method=r["method"],
                    kind=r["kind"],
                    status=r["status"],
                    minutes=int(r["minutes"]),
                    instant=r["instant"],
                    punch_id=r["id"],
                )
            )
        return len(rows)

    def poll_feedback(self, conn: sqlite3.Connection) -> int:
        """Publish the fingerprint bridge's refusals after ``last_feedback``; returns how many.
        (Its accepted punches arrive as punches.)"""
        rows = feedback_after(conn, self.last_feedback, limit=50)
        for r in rows:
            self.last_feedback = int(r["id"])
            if r["kind"] == "accepted":
                continue
            self.hub.publish(
                Decision(
                    accepted=False,
                    employee_id=r["employee_id"],
                    method="finger",
                    reason=FINGER_REASONS.get(r["kind"], "error"),
                    reason_text=r["text"],
                )
            )
        return len(rows)


#: ``finger_feedback.kind`` → the screen's reason code.
FINGER_REASONS = {"unknown": "finger_unknown", "duplicate": "duplicate", "poor": "finger_unknown", "fault": "error"}
