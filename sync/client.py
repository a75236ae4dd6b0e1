"""The unit's side of sync: upload what the server has not acknowledged, pull the roster, send
heartbeats, prune what is acknowledged and past retention; retry with backoff whatever happens.

Nothing is deleted before the server acknowledged it: the cursor moves only to the sequence
number the server answers with, in the same database the punches live in, so a crash at any
moment at worst re-sends a batch (which the server counts as duplicates).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from core.clock import Clock, ClockStateSource
from core.errors import PresensiError, SyncError
from core.health import Health, report
from core.schedule.events import parse_utc
from core.store.acknowledgements import acknowledged_by
from core.store.punches import PunchStore, format_instant
from core.store.sync_state import get_cursor, get_text_setting, put_text_setting, set_cursor
from core.store.time_corrections import mark_corrections_delivered, undelivered_corrections
from core.store.tx import write_transaction
from core.timekeeping import TimeKeeper
from core.wire import Ack, CorrectionsAck, SyncRejected, SyncUnavailable
from sync.health import build_report, queue
from sync.roster_pull import apply_roster, verify_roster
from sync.state import FORK_KEY, ROSTER_CURSOR, ROSTER_EMBEDDER, UPLOAD_CURSOR

log = logging.getLogger(__name__)

LOCK_FILENAME = "sync.lock"


class Target(Protocol):
    """What the client needs of a server (see :class:`sync.targets.presensi_v1.PresensiV1Target`)."""

    offset_s: float
    offset_measured: bool

    def upload(self, punches: Any) -> Ack: ...
    def upload_corrections(self, corrections: Any) -> CorrectionsAck: ...
    def roster(self, since: int, embedder: str | None = None) -> tuple[bytes, str]: ...
    def heartbeat(self, report: dict[str, Any]) -> None: ...
    def close(self) -> None: ...


class Backoff:
    """Exponential backoff with jitter: the n-th wait is uniform in [cap/2, cap] where
    cap = min(max_s, base_s·2ⁿ⁻¹); a server's Retry-After is a floor (bounded by ``limit_s``)."""

    def __init__(self, base_s: float, max_s: float, rng: random.Random, *, limit_s: float = 3600.0) -> None:
        self.base_s, self.max_s, self.rng, self.limit_s = base_s, max_s, rng, limit_s
        self.failures = 0

    def next_delay(self, retry_after_s: float | None = None) -> float:
        self.failures += 1
        cap = min(self.max_s, self.base_s * 2 ** min(self.failures - 1, 30))
        delay = self.rng.uniform(cap / 2, cap)
        if retry_after_s is not None:
            delay = max(delay, min(retry_after_s, self.limit_s))
        return delay

    def reset(self) -> None:
        self.failures = 0


class UploaderLock:
    """One uploader per data directory (an flock the kernel drops if the process dies)."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK_FILENAME
        self._fd: int | None = None

    def acquire(self, *, wait: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise SyncError(f"another sync process (pid {holder}) is already uploading; let it finish or stop it") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode("ascii"), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the lock
            self._fd = None

    def __enter__(self) -> UploaderLock:
        self.acquire(wait=False)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"UploaderLock({self.path}, held={self._fd is not None})"


@dataclass(frozen=True)
class RoundResult:
    uploaded: int
    corrections: int
    acked_seq: int
    pending: int
    pruned: int
    roster_version: int | None
    corrections_refused: str | None = None  # the server's reason, when it refused the corrections


class SyncClient:
    """One unit talking to one server through ``target``."""

    def __init__(
        self,
        store: PunchStore,
        target: Target,
        clock: Clock,
        clock_state: ClockStateSource,
        data_dir: Path,
        *,
        server_key_hex: str | None,
        batch_size: int = 500,
        retention_days: int = 90,
        max_offset_s: float = 120.0,
        keeper: TimeKeeper | None = None,
        embedder: str | None = None,
    ) -> None:
        """``embedder``: the id of the unit's face embedder (kiosk.face.embedders); the server
        sends only the face templates that embedder made, and when it changes the whole roster is
        fetched again."""
        self.store = store
        self.embedder = embedder
        self.max_offset_s = max_offset_s
        if keeper is None:
            keeper = (
                clock_state
                if isinstance(clock_state, TimeKeeper)
                else TimeKeeper(store.conn, clock, store.identity, max_offset_s=max_offset_s)
            )
        self.keeper = keeper
        self.conn: sqlite3.Connection = store.conn
        self.target = target
        self.clock = clock
        self.clock_state = clock_state
        self.data_dir = data_dir
        self.server_key_hex = server_key_hex
        self.batch_size = batch_size
        self.retention_days = retention_days

    def __repr__(self) -> str:
        return f"SyncClient({self.target!r}, batch={self.batch_size})"

    @property
    def acked_seq(self) -> int:
        return get_cursor(self.conn, UPLOAD_CURSOR)

    def pending(self) -> int:
        return queue(self.conn, self.clock.now())[0]

    def upload_pending(self, max_batches: int | None = None) -> int:
        """Send batches until nothing is left (or ``max_batches``); returns punches the server
        newly accepted. Raises SyncUnavailable / SyncRejected."""
        uploaded, batches = 0, 0
        while max_batches is None or batches < max_batches:
            cursor = self.acked_seq
            batch = self.store.since(cursor, self.batch_size)
            if not batch:
                break
            log.info("uploading punches %d–%d", batch[0].seq, batch[-1].seq)
            ack = self.target.upload(batch)
            batches += 1
            uploaded += ack.accepted
            if ack.forked:
                self._note_fork(ack, batch[0].seq, batch[-1].seq)
            self._follow(ack, cursor, batch[-1].seq)
            if ack.acked_seq < batch[0].seq:
                # The server holds less than we thought (a restored server, or a gap it is
                # holding): resend from where it stands, unless we no longer have those punches.
                if self.store.get(ack.acked_seq + 1) is None:
                    raise SyncRejected(
                        f"the server lacks punches from {ack.acked_seq + 1}, which this unit no longer holds; "
                        "import an older flash-disk bundle on the server",
                        reason="server behind pruned punches",
                    )
                if ack.acked_seq <= cursor and ack.gap is not None:
                    raise SyncRejected(
                        f"the server is holding punches beyond a gap at {ack.gap[0]}–{ack.gap[1]} that this unit cannot fill",
                        reason="gap",
                    )
        return uploaded

    def _note_fork(self, ack: Ack, first: int, last: int) -> None:
        """The server found punches signed with this unit's key that contradict what it holds:
        another unit has this unit's key (a copied data directory). Kept for doctor and the
        dashboard; the server kept both chains and an operator decides."""
        now = self.clock.now()
        held = json.loads(get_text_setting(self.conn, FORK_KEY) or "{}")
        log.error("the server holds another chain signed with this unit's key (punches %d–%d kept apart)", first, last)
        note = {
            "first_seen": held.get("first_seen") or format_instant(now),
            "last_seen": format_instant(now),
            "punches": int(held.get("punches", 0)) + ack.forked,
            "seq": [first, last],
        }
        with write_transaction(self.conn, "recording the server's fork alarm"):
            put_text_setting(self.conn, FORK_KEY, json.dumps(note, sort_keys=True), now)

    def _follow(self, ack: Ack, cursor: int, sent_last: int) -> None:
        acked = min(ack.acked_seq, self.store.last_seq())
        if acked != cursor:
            set_cursor(self.conn, UPLOAD_CURSOR, acked, self.clock.now(), {"sent_last": sent_last})

    def upload_corrections(self) -> int:
        """Send the signed corrections the server has not acknowledged, of punches it already
        holds; mark each one the server names in its answer. Returns how many it newly stored.
        A failure leaves them pending for the next round (the server counts repeats as duplicates)."""
        stored = 0
        while True:
            batch = undelivered_corrections(self.conn, self.acked_seq, self.batch_size)
            if not batch:
                break
            log.info("uploading %d punch corrections (punches %d–%d)", len(batch), batch[0].seq, batch[-1].seq)
            ack = self.target.upload_corrections([c.wire() for c in batch])
            sent = {c.punch_id: c.signature for c in batch}
            # by signature: a correction replaced (a better anchor) while this one travelled stays pending
            delivered = [(p, sent[p]) for p in ack.acked if p in sent]
            marked = mark_corrections_delivered(self.conn, delivered, self.clock.now())
            stored += ack.accepted
            if marked == 0:  # the server acknowledged none of them: try again next round
                break
        return stored

    def pull_roster(self) -> int | None:
        """Fetch and apply roster changes; returns the version held (None without a server key).
        Each event pack in the roster raises the clock's lower bound to its issue time."""
        if not self.server_key_hex:
            return None
        since = get_cursor(self.conn, ROSTER_CURSOR)
        if self.embedder is not None and get_text_setting(self.conn, ROSTER_EMBEDDER) not in (None, self.embedder):
            log.warning("the face embedder changed: fetching the whole roster for the new one's templates")
            since = 0
        body, signature = self.target.roster(since, self.embedder)
        doc = verify_roster(body, signature, self.server_key_hex, self.store.identity.device_id, since)
        if int(doc["version"]) == since:
            return since
        version = apply_roster(self.conn, doc, self.clock.now(), embedder=self.embedder)
        for event in doc.get("events", []):
            self._note_pack_issued(event)
        return version

    def _note_pack_issued(self, event: Any) -> None:
        pack = event.get("pack", event) if isinstance(event, dict) else {}
        issued = pack.get("issued_at") if isinstance(pack, dict) else None
        if not isinstance(issued, str):
            return
        try:
            instant = parse_utc(issued)
        except ValueError:
            log.warning("event pack %s in the roster has an unreadable issued_at; no lower bound taken", pack.get("id"))
            return
        self.keeper.note_lower_bound(instant, f"paket acara {pack.get('id', '?')}")

    def heartbeat(self) -> None:
        self.record_offset()
        self.target.heartbeat(build_report(self.conn, self.data_dir, self.clock_state, self.clock.now()))

    def prune(self) -> int:
        """Delete punches the server acknowledged longer ago than the retention (by the time of
        acknowledgement, never by a punch's own instant: a clock gone back to 2019 must not make
        minutes-old punches look expired)."""
        cutoff = self.clock.now() - timedelta(days=self.retention_days)
        through = min(self.acked_seq, acknowledged_by(self.conn, [UPLOAD_CURSOR], cutoff))
        if through <= 0:
            return 0
        removed = self.store.prune_through(through)
        if removed:
            log.info("pruned %d acknowledged punches through seq %d", removed, through)
        return removed

    def record_offset(self) -> None:
        """Hand the server's clock (from the last answer's Date header) to the unit's clock
        keeper: the offset, a lower bound, and a time anchor for correcting this boot's punches."""
        if self.target.offset_measured:
            self.keeper.note_server_offset(self.target.offset_s)

    def learn_time(self) -> int:
        """Anchor this boot from the server's clock or NTP, then sign corrections of the punches
        that can now be placed exactly; returns how many were made."""
        self.record_offset()
        return self.keeper.tick()

    def round(self, *, roster: bool = True, heartbeat: bool = True) -> RoundResult:
        """Upload punches, learn the time and send corrections, then roster and heartbeat as
        asked, then prune. An upload the server refuses does not hold back the roster (erasures
        must reach the unit) nor the heartbeat: the refusal is raised after them."""
        refused_upload: SyncRejected | None = None
        try:
            try:
                uploaded = self.upload_pending()
            except SyncRejected as exc:
                refused_upload, uploaded = exc, 0
                log.error("the server refused the upload (%s); pulling the roster all the same", exc)
            finally:
                try:
                    self.learn_time()  # also when the server is out of reach: NTP may still anchor
                except PresensiError as exc:  # never hides why the upload failed
                    log.warning("learning the time failed: %s", exc)
            corrections, refused = 0, None
            try:
                corrections = self.upload_corrections()
            except SyncRejected as exc:
                # A server refusing corrections (an older server without the endpoint, a punch it
                # lost) must not hold back the roster, the heartbeat or pruning: they stay pending.
                refused = str(exc)
                log.warning("the server refused the time corrections (%s); they stay pending", exc)
            version = self.pull_roster() if roster else None
            if heartbeat:
                self.heartbeat()
        finally:
            self.record_offset()
        if refused_upload is not None:
            raise refused_upload
        pruned = self.prune()
        return RoundResult(uploaded, corrections, self.acked_seq, self.pending(), pruned, version, refused)

    def report_health(self, status: Health, detail: str, error: str | None = None) -> None:
        depth, age = queue(self.conn, self.clock.now())
        metrics: dict[str, float] = {"queue_depth": depth, "acked_seq": self.acked_seq}
        if age is not None:
            metrics["oldest_unsent_age_s"] = round(age, 1)
        if self.target.offset_measured:
            metrics["clock_offset_s"] = round(self.target.offset_s, 3)
        report(self.conn, "sync", status, detail, now=self.clock.now(), error=error, metrics=metrics)


class SyncService:
    """``presensi sync``: rounds forever, backing off on failure. ``wait(seconds)`` returns True
    when asked to stop (a threading.Event's ``wait`` in production, a fake clock's in tests)."""

    def __init__(
        self,
        client: SyncClient,
        backoff: Backoff,
        wait: Callable[[float], bool],
        *,
        interval_s: float,
        heartbeat_s: float,
        roster_s: float,
        max_offset_s: float,
    ) -> None:
        self.client = client
        self.backoff = backoff
        self.wait = wait
        self.interval_s = interval_s
        self.heartbeat_s = heartbeat_s
        self.roster_s = roster_s
        self.max_offset_s = max_offset_s
        self._last_heartbeat: float | None = None
        self._last_roster: float | None = None

    def step(self) -> float:
        """One round; returns how long to wait before the next."""
        mono = self.client.clock.monotonic_ns() / 1e9
        heartbeat_due = self._last_heartbeat is None or mono - self._last_heartbeat >= self.heartbeat_s
        roster_due = self._last_roster is None or mono - self._last_roster >= self.roster_s
        try:
            result = self.client.round(roster=roster_due, heartbeat=heartbeat_due)
        except SyncUnavailable as exc:
            delay = self.backoff.next_delay(exc.retry_after_s)
            log.warning("server unavailable (%s); retrying in %.1f s", exc, delay)
            self.client.report_health(Health.WARN, f"Server tidak terjangkau; coba lagi dalam {delay:.0f} dtk", str(exc))
            return delay
        except SyncRejected as exc:
            delay = self.backoff.next_delay()
            log.error("server refused: %s; retrying in %.1f s", exc, delay)
            self.client.report_health(Health.FAIL, f"Ditolak server: {exc.reason}", str(exc))
            return delay
        except PresensiError as exc:  # the unit's own trouble (database busy, CA unreadable…)
            delay = self.backoff.next_delay()
            log.error("sync round failed: %s; retrying in %.1f s", exc, delay)
            with contextlib.suppress(PresensiError):
                self.client.report_health(Health.FAIL, f"Sinkron gagal: {exc}", str(exc))
            return delay
        self.backoff.reset()
        if heartbeat_due:
            self._last_heartbeat = mono
        if roster_due:
            self._last_roster = mono
        offset = self.client.target.offset_s if self.client.target.offset_measured else 0.0
        if result.corrections_refused:
            self.client.report_health(
                Health.WARN, f"Koreksi waktu ditolak server: {result.corrections_refused}", result.corrections_refused
            )
        elif (fork := get_text_setting(self.client.conn, FORK_KEY)) is not None:
            self.client.report_health(
                Health.FAIL,
                "Server menemukan perangkat lain memakai kunci unit ini (salinan data?) — hubungi admin server",
                f"fork: {fork}",
            )
        elif abs(offset) > self.max_offset_s:
            self.client.report_health(
                Health.WARN, f"Jam perangkat selisih {offset:+.0f} dtk dari server; presensi ditandai belum tersinkron"
            )
        else:
            self.client.report_health(Health.OK, f"Tersinkron; antrean {result.pending}")
        return 0.0 if result.pending else self.interval_s

    def run(self) -> None:
        while True:
            delay = self.step()
            if self.wait(delay):
                return
