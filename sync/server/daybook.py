"""The day book: stored attendance days (:mod:`sync.server.days`), kept current and versioned.

* :meth:`DayBook.refresh` recomputes the days touched by punches and corrections received since
  its cursor, the time of its last read on the server's clock (with an overlap of
  ``OVERLAP``, so a transaction that committed after that read with an earlier ``received_at``
  is not missed, nor a second server whose clock is a little behind; recomputing is idempotent,
  and what this process already did inside the overlap is skipped). The server calls it after every upload and bundle, pages call it before they
  read.
* :meth:`DayBook.recompute` recomputes named (employee, day) pairs with a reason: a keterangan
  approved, a pembatalan, a roster change.
* :meth:`DayBook.close_month` makes the days nobody punched on: TK once the day's cut-off has
  passed (or the keterangan's code).

A day never changes silently: each change of a stored day adds a row to
``attendance_day_versions`` with the whole new record, the reason and who caused it; an
unchanged recomputation writes nothing. Writers take one lock (``BEGIN IMMEDIATE`` on SQLite, an
advisory lock on PostgreSQL) so two refreshes never version the same day twice.
"""

from __future__ import annotations

import calendar
import concurrent.futures
import functools
import json
import logging
import multiprocessing
import threading
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from core.clock import Clock, local_time
from core.schedule.events import EventPackError
from core.schedule.holidays import Holiday, HolidayCalendar
from core.schedule.workcodes import WorkCode, parse_work_code, presets
from core.store.punches import format_instant, parse_instant
from sync.server.days import BELUM, TK, DayRecord, PunchFact, classify_punches, compute_day, describe_change
from sync.server.events import stored_pack
from sync.server.roster_versions import PUBLISHED_KEY
from sync.server.storage import Storage, Tx

log = logging.getLogger(__name__)

CURSOR_KEY = "daybook_cursor"
OVERLAP = timedelta(minutes=5)
CHUNK = 400
PARALLEL_FROM = 2 * CHUNK  # fewer employees: one process (a worker takes a second or two to start)
SYSTEM = "sistem"
DAY_LOCK = 7277  # 7275: schema, 7276: roster publication
ROSTER_SEEN_KEY = "daybook_roster_seen"
DEFAULT_ZONE = "Asia/Jakarta"


def month_range(month: str) -> tuple[date, date]:
    """First and last day of ``YYYY-MM``."""
    try:
        year, number = (int(x) for x in month.split("-"))
        first = date(year, number, 1)
    except ValueError as exc:
        raise ValueError(f"month {month!r}: expected YYYY-MM, e.g. 2026-11") from exc
    return first, date(year, number, calendar.monthrange(year, number)[1])


def _days(first: date, last: date) -> Iterable[date]:
    d = first
    while d <= last:
        yield d
        d += timedelta(days=1)


def _event_masuk(tx: Tx, event_ids: set[str]) -> dict[str, bool]:
    """Whether each event's punches count as the day's masuk, from its stored pack (a server pack
    or a unit's local pack kept for reports); an event without a readable pack is left out (its
    punches count by their kind)."""
    found: dict[str, bool] = {}
    for event_id in sorted(event_ids):
        row = tx.one("SELECT pack FROM events WHERE id = ? AND deleted = 0", (event_id,))
        row = row or tx.one("SELECT pack FROM local_events WHERE id = ?", (event_id,))
        if row is None:
            continue
        try:
            found[event_id] = stored_pack(row["pack"], event_id).is_masuk
        except EventPackError as exc:
            log.warning("event %s: %s; its punches count as masuk by their kind", event_id, exc)
    return found


@functools.cache
def _presets() -> dict[str, WorkCode]:
    """The shipped presets (package data: read once per process)."""
    return presets()


def _joined(added_at: str, zone: str) -> date:
    """The first day an employee can be TK: the local date they entered the roster (before the
    column existed: any day)."""
    return local_time(parse_instant(added_at), zone).date() if added_at else date.min


def _maybe_working(rules: Rules, code: str, day: date) -> bool:
    """Whether ``day`` can need a record without punches: a working day of the work code that is
    no holiday (an unknown or missing work code: yes, so the day says ``tanpa_jadwal``)."""
    found = rules.codes.get(code) if code else None
    if found is None:
        return True
    return found.rule_for(day) is not None and not (found.observes_holidays and day in rules.holidays)


class Rules:
    """Work codes (the roster's over the presets), holidays and office zones, read once."""

    def __init__(self, tx: Tx) -> None:
        self.codes: dict[str, WorkCode] = dict(_presets())
        for row in tx.all("SELECT code, body FROM work_codes WHERE deleted = 0"):
            try:
                self.codes[row["code"]] = parse_work_code({"code": row["code"], **json.loads(row["body"])}, "roster")
            except (ValueError, TypeError) as exc:
                log.warning("work code %s not usable for attendance days: %s", row["code"], exc)
        self.holidays = HolidayCalendar(
            Holiday(date.fromisoformat(r["day"]), r["name"]) for r in tx.all("SELECT day, name FROM holidays WHERE deleted = 0")
        )
        self.zones = {r["code"]: r["zone"] for r in tx.all("SELECT code, zone FROM units")}

    def zone(self, unit_code: str) -> str:
        return self.zones.get(unit_code) or DEFAULT_ZONE


class DayBook:
    def __init__(self, storage: Storage, clock: Clock, *, workers: int = 1) -> None:
        self.storage = storage
        self.clock = clock
        self.workers = workers
        self._refreshing = threading.Lock()
        self._again = False
        self._seen: dict[tuple[str, str, int], str] = {}  # punches and corrections done inside the overlap

    def __repr__(self) -> str:
        return f"DayBook({self.storage!r})"

    def _lock(self, tx: Tx) -> None:
        if tx.dialect == "postgresql":
            tx.execute("SELECT pg_advisory_xact_lock(?)", (DAY_LOCK,))

    # -- keeping days current -----------------------------------------------------------------

    def refresh(self) -> int:
        """Recompute the days touched by punches and corrections received since the cursor;
        returns how many days changed. Calls that arrive while one runs in this process are
        coalesced into one more pass (a hundred units uploading at 07:00 do not each recompute
        the same minutes); one lost in that race is caught by the next upload or page."""
        total = 0
        while True:
            if not self._refreshing.acquire(blocking=False):
                self._again = True
                return total
            try:
                self._again = False
                total += self._refresh_once()
            finally:
                self._refreshing.release()
            if not self._again:
                return total

    def _refresh_once(self) -> int:
        read_at = self.clock.now()
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT value FROM meta WHERE key = ?", (CURSOR_KEY,))
            since = row["value"] if row else ""
            if since:
                since = format_instant(parse_instant(since) - OVERLAP)
            touched = tx.all(
                "SELECT 'p' AS src, device_id, seq, employee_id, substr(instant, 1, 10) AS d, received_at "
                "FROM punches WHERE received_at >= ?",
                (since,),
            )
            touched += tx.all(
                "SELECT 'c' AS src, c.device_id, c.seq, p.employee_id, substr(c.corrected_instant, 1, 10) AS d, c.received_at "
                "FROM punch_corrections c JOIN punches p ON p.device_id = c.device_id AND p.seq = c.seq WHERE c.received_at >= ?",
                (since,),
            )
        fresh = [r for r in touched if (r["src"], r["device_id"], int(r["seq"])) not in self._seen]
        pairs: set[tuple[str, date]] = set()
        for r in fresh:
            utc_day = date.fromisoformat(r["d"])
            for offset in (-1, 0, 1):  # the UTC date is at most a day from the local one; night shifts a day more
                pairs.add((r["employee_id"], utc_day + timedelta(days=offset)))
        changed = self.recompute(pairs, "presensi diterima / punches received") if pairs else 0
        # what this process has done inside the overlap is not done again at the next refresh
        horizon = format_instant(read_at - OVERLAP)
        self._seen = {key: at for key, at in self._seen.items() if at >= horizon}
        self._seen.update(
            {(r["src"], r["device_id"], int(r["seq"])): r["received_at"] for r in fresh if r["received_at"] >= horizon}
        )
        changed += self._after_publication()
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (CURSOR_KEY, format_instant(read_at)),
            )
        return changed

    def _after_publication(self) -> int:
        """After a roster publication, recompute the stored days of this month and the last that
        its changes touch: employees changed (work code, office), work codes changed, holidays
        added or removed. Older months are reported and closed (Malang: by the 10th)."""
        with self.storage.tx(write=False) as tx:
            published = int((tx.one("SELECT value FROM meta WHERE key = ?", (PUBLISHED_KEY,)) or {"value": 0})["value"])
            seen = int((tx.one("SELECT value FROM meta WHERE key = ?", (ROSTER_SEEN_KEY,)) or {"value": 0})["value"])
            if published <= seen:
                return 0
            today = local_time(self.clock.now(), DEFAULT_ZONE).date().replace(day=1)
            since = (today - timedelta(days=1)).replace(day=1).isoformat()
            rows = tx.all(
                "SELECT d.employee_id, d.day FROM attendance_days d JOIN employees e ON e.id = d.employee_id "
                "WHERE d.day >= ? AND (e.version > ? OR e.work_code IN (SELECT code FROM work_codes WHERE version > ?) "
                "OR d.day IN (SELECT day FROM holidays WHERE version > ?))",
                (since, seen, seen, seen),
            )
        changed = 0
        if rows:
            pairs = [(r["employee_id"], date.fromisoformat(r["day"])) for r in rows]
            changed = self.recompute(pairs, f"roster versi {published} diterbitkan / roster published")
        with self.storage.tx() as tx:
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (ROSTER_SEEN_KEY, str(published)),
            )
        return changed

    def recompute(self, pairs: Iterable[tuple[str, date]], reason: str, actor: str = SYSTEM) -> int:
        """Recompute these (employee, day) pairs and store those that changed (a day not stored
        yet is stored unless it is a day off, or a working day not yet over, without punches).
        Returns the number of days written. With ``workers`` > 1 and many employees, chunks are
        computed in that many processes (each reads and computes unlocked, then writes under the
        lock, recomputing under it when another writer changed its days meanwhile)."""
        by_employee: dict[str, set[date]] = defaultdict(set)
        for employee_id, day in pairs:
            by_employee[employee_id].add(day)
        employees = sorted(by_employee)
        chunks = [{e: by_employee[e] for e in employees[i : i + CHUNK]} for i in range(0, len(employees), CHUNK)]
        if self.workers > 1 and len(employees) >= PARALLEL_FROM and str(self.storage.path) != ":memory:":
            now = format_instant(self.clock.now())
            context = multiprocessing.get_context("spawn")  # never fork a threaded server
            with concurrent.futures.ProcessPoolExecutor(min(self.workers, len(chunks)), mp_context=context) as pool:
                jobs = [
                    pool.submit(_recompute_elsewhere, self.storage.url, now, _plain(chunk), reason, actor) for chunk in chunks
                ]
                return sum(job.result() for job in jobs)
        return sum(self._recompute_chunk(chunk, reason, actor) for chunk in chunks)

    def _recompute_chunk(self, wanted: dict[str, set[date]], reason: str, actor: str) -> int:
        with self.storage.tx(write=False) as tx:
            seen, updates, versions = self._compute_chunk(tx, wanted, reason, actor)
        with self.storage.tx() as tx:
            self._lock(tx)
            if self._stored_versions(tx, wanted) != seen:  # another writer changed these days meanwhile
                seen, updates, versions = self._compute_chunk(tx, wanted, reason, actor)
            _write_days(tx, updates, versions)
        return len(updates)

    @staticmethod
    def _stored_versions(tx: Tx, wanted: dict[str, set[date]]) -> dict[tuple[str, str], int]:
        ids = list(wanted)
        all_days = [d for days in wanted.values() for d in days]
        rows = tx.all(
            f"SELECT employee_id, day, version FROM attendance_days WHERE employee_id IN ({', '.join('?' * len(ids))}) "  # noqa: S608
            "AND day >= ? AND day <= ?",
            (*ids, min(all_days).isoformat(), max(all_days).isoformat()),
        )
        return {(r["employee_id"], r["day"]): int(r["version"]) for r in rows}

    def _compute_chunk(
        self, tx: Tx, wanted: dict[str, set[date]], reason: str, actor: str
    ) -> tuple[dict[tuple[str, str], int], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """(stored versions read, day rows to write, version rows to write); writes nothing."""
        rules = Rules(tx)
        ids = list(wanted)
        marks = ", ".join("?" * len(ids))
        all_days = [d for days in wanted.values() for d in days]
        first, last = min(all_days), max(all_days)
        people = {
            r["id"]: r
            for r in tx.all(f"SELECT id, unit_code, work_code, active, added_at FROM employees WHERE id IN ({marks})", ids)  # noqa: S608
        }
        punches = self._punch_facts(tx, ids, marks, first, last)
        keterangan = self._keterangan(tx, ids, marks, first, last)
        batal = self._pembatalan(tx, ids, marks, first, last)
        stored = self._stored(tx, ids, marks, first, last)
        now = self.clock.now()
        at = format_instant(now)
        updates: list[tuple[Any, ...]] = []
        versions: list[tuple[Any, ...]] = []
        for employee_id, days in wanted.items():
            person = people.get(employee_id)
            if person is None:
                continue
            code = rules.codes.get(person["work_code"]) if person["work_code"] else None
            zone = rules.zone(person["unit_code"])
            classified = classify_punches(punches.get(employee_id, []), code, zone, rules.holidays) if code else []
            for day in sorted(days):
                key = (employee_id, day.isoformat())
                found = next((k for k in keterangan.get(employee_id, []) if k[2] <= key[1] <= k[3]), None)
                record = compute_day(
                    employee_id,
                    day,
                    code,
                    zone,
                    rules.holidays,
                    classified=classified,
                    now=now,
                    keterangan=(found[0], found[1]) if found else None,
                    pembatalan=batal.get(key),
                )
                old = stored.get(key)
                old_body = json.loads(old["body"]) if old else None
                if old_body == record.body or (old is None and not record.counted):
                    continue
                empty = old is None and not record.body["punches"]
                if empty and (record.status == BELUM or (record.status == TK and day < _joined(person["added_at"], zone))):
                    continue  # not over yet, or before the employee entered the roster
                version = int(old["version"]) + 1 if old else 1
                text = json.dumps(record.body, sort_keys=True, ensure_ascii=False)
                updates.append(
                    (employee_id, key[1], person["unit_code"], record.status, record.late_min, record.early_min,
                     record.overtime_min, text, version, at)
                )  # fmt: skip
                versions.append(
                    (employee_id, key[1], version, text, f"{reason}: {describe_change(old_body, record.body)}", actor, at)
                )
        return {k: int(r["version"]) for k, r in stored.items()}, updates, versions

    @staticmethod
    def _punch_facts(tx: Tx, ids: Sequence[str], marks: str, first: date, last: date) -> dict[str, list[PunchFact]]:
        """The employees' punches around the days (a day's punches may lie a day off in UTC), corrected."""
        low = f"{first - timedelta(days=2)}T00:00:00.000Z"
        high = f"{last + timedelta(days=3)}T00:00:00.000Z"
        punches: dict[str, list[PunchFact]] = defaultdict(list)
        rows = tx.all(
            "SELECT p.id, p.device_id, p.seq, p.employee_id, p.instant, p.zone, p.kind, p.event_id, c.corrected_instant "  # noqa: S608 - placeholders only
            "FROM punches p LEFT JOIN punch_corrections c ON c.device_id = p.device_id AND c.seq = p.seq "
            f"WHERE p.employee_id IN ({marks}) AND p.instant >= ? AND p.instant < ?",
            (*ids, low, high),
        )
        events = _event_masuk(tx, {r["event_id"] for r in rows if r["event_id"]})
        for r in rows:
            instant = datetime.fromisoformat(r["corrected_instant"] or r["instant"])  # RFC 3339 UTC ("…Z")
            fact = PunchFact(
                r["id"], r["device_id"], int(r["seq"]), instant, r["zone"], r["kind"], r["event_id"], events.get(r["event_id"])
            )
            punches[r["employee_id"]].append(fact)
        return punches

    @staticmethod
    def _pembatalan(tx: Tx, ids: Sequence[str], marks: str, first: date, last: date) -> dict[tuple[str, str], int]:
        """(employee, day) → the id of its pembatalan kehadiran."""
        return {
            (r["employee_id"], r["day"]): int(r["id"])
            for r in tx.all(
                f"SELECT id, employee_id, day FROM pembatalan WHERE employee_id IN ({marks}) AND day >= ? AND day <= ?",  # noqa: S608
                (*ids, first.isoformat(), last.isoformat()),
            )
        }

    @staticmethod
    def _stored(tx: Tx, ids: Sequence[str], marks: str, first: date, last: date) -> dict[tuple[str, str], Any]:
        """(employee, day) → the stored day's row (version and body)."""
        return {
            (r["employee_id"], r["day"]): r
            for r in tx.all(
                f"SELECT employee_id, day, version, body FROM attendance_days WHERE employee_id IN ({marks}) "  # noqa: S608
                "AND day >= ? AND day <= ?",
                (*ids, first.isoformat(), last.isoformat()),
            )
        }

    @staticmethod
    def _keterangan(
        tx: Tx, ids: Sequence[str], marks: str, first: date, last: date
    ) -> dict[str, list[tuple[int, str, str, str]]]:
        out: dict[str, list[tuple[int, str, str, str]]] = defaultdict(list)
        for r in tx.all(
            f"SELECT id, employee_id, code, first_day, last_day FROM keterangan WHERE employee_id IN ({marks}) "  # noqa: S608
            "AND state = 'disetujui' AND first_day <= ? AND last_day >= ? ORDER BY id",
            (*ids, last.isoformat(), first.isoformat()),
        ):
            out[r["employee_id"]].append((int(r["id"]), r["code"], r["first_day"], r["last_day"]))
        return out

    def close_month(self, month: str, unit_code: str | None = None) -> int:
        """Make the month's days that have no record yet, up to today and from the day each
        employee entered the roster (TK after the cut-off, the keterangan's code where one is
        approved); returns how many were written."""
        first, last = month_range(month)
        with self.storage.tx(write=False) as tx:
            where, params = ("AND unit_code = ?", [unit_code]) if unit_code else ("", [])
            employees = tx.all(
                f"SELECT id, unit_code, work_code, added_at FROM employees WHERE deleted = 0 AND active = 1 {where}",  # noqa: S608 - fixed text
                params,
            )
            rules = Rules(tx)
            held = {
                (r["employee_id"], r["day"])
                for r in tx.all(
                    f"SELECT employee_id, day FROM attendance_days WHERE day >= ? AND day <= ? {where}",  # noqa: S608
                    [first.isoformat(), last.isoformat(), *params],
                )
            }
            zones = {r["code"]: r["zone"] for r in tx.all("SELECT code, zone FROM units")}
            # a masuk without a pulang gets its flag once the day is over
            open_days = tx.all(
                "SELECT employee_id, day FROM attendance_days WHERE day >= ? AND day <= ? AND status = 'hadir' "  # noqa: S608 - fixed text
                f"AND body LIKE ? AND body NOT LIKE ? {where}",
                [first.isoformat(), last.isoformat(), '%"pulang": null%', "%tanpa_pulang%", *params],
            )
        today = {z: local_time(self.clock.now(), z).date() for z in {*zones.values(), DEFAULT_ZONE}}
        missing = [
            (e["id"], d)
            for e in employees
            for d in _days(
                max(first, _joined(e["added_at"], zones.get(e["unit_code"]) or DEFAULT_ZONE)),
                min(last, today[zones.get(e["unit_code"]) or DEFAULT_ZONE]),
            )
            if (e["id"], d.isoformat()) not in held and _maybe_working(rules, e["work_code"], d)
        ]
        missing += [(r["employee_id"], date.fromisoformat(r["day"])) for r in open_days]
        return self.recompute(missing, "hari ditutup / day closed") if missing else 0

    # -- reading --------------------------------------------------------------------------------

    def day(self, employee_id: str, day: date) -> dict[str, Any] | None:
        """The stored day with its record. Read-only."""
        with self.storage.tx(write=False) as tx:
            row = tx.one("SELECT * FROM attendance_days WHERE employee_id = ? AND day = ?", (employee_id, day.isoformat()))
        return _with_body(row) if row else None

    def versions(self, employee_id: str, day: date) -> list[dict[str, Any]]:
        """Every version of the day, oldest first. Read-only."""
        with self.storage.tx(write=False) as tx:
            rows = tx.all(
                "SELECT * FROM attendance_day_versions WHERE employee_id = ? AND day = ? ORDER BY version",
                (employee_id, day.isoformat()),
            )
        return [_with_body(r) for r in rows]

    def days(
        self, first: date, last: date, *, unit_code: str | None = None, employee_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Stored days in a range, by employee then day. Read-only."""
        sql = "SELECT * FROM attendance_days WHERE day >= ? AND day <= ?"
        params: list[Any] = [first.isoformat(), last.isoformat()]
        if unit_code:
            sql += " AND unit_code = ?"
            params.append(unit_code)
        if employee_id:
            sql += " AND employee_id = ?"
            params.append(employee_id)
        with self.storage.tx(write=False) as tx:
            rows = tx.all(sql + " ORDER BY employee_id, day", params)
        return [_with_body(r) for r in rows]


def _write_days(tx: Tx, updates: Sequence[tuple[Any, ...]], versions: Sequence[tuple[Any, ...]]) -> None:
    _insert_rows(
        tx,
        "INSERT INTO attendance_days (employee_id, day, unit_code, status, late_min, early_min, overtime_min, body, "
        "version, updated_at) VALUES {rows} ON CONFLICT (employee_id, day) DO UPDATE SET "
        "unit_code = excluded.unit_code, status = excluded.status, late_min = excluded.late_min, "
        "early_min = excluded.early_min, overtime_min = excluded.overtime_min, body = excluded.body, "
        "version = excluded.version, updated_at = excluded.updated_at",
        updates,
    )
    _insert_rows(
        tx, "INSERT INTO attendance_day_versions (employee_id, day, version, body, reason, actor, at) VALUES {rows}", versions
    )


class _FrozenClock:
    """The recomputing process's clock in a worker: the instant the work was asked at."""

    def __init__(self, now: datetime) -> None:
        self._now = now

    def now(self) -> datetime:
        return self._now

    def monotonic_ns(self) -> int:
        return 0

    def boot_id(self) -> str:
        return "worker"


def _plain(chunk: dict[str, set[date]]) -> list[tuple[str, list[str]]]:
    return [(employee_id, sorted(d.isoformat() for d in days)) for employee_id, days in chunk.items()]


def _recompute_elsewhere(url: str, now: str, chunk: list[tuple[str, list[str]]], reason: str, actor: str) -> int:
    """One chunk in a worker process, against its own connection."""
    storage = Storage(url)
    try:
        book = DayBook(storage, _FrozenClock(parse_instant(now)))
        return book._recompute_chunk({e: {date.fromisoformat(d) for d in days} for e, days in chunk}, reason, actor)
    finally:
        storage.close()


def _insert_rows(tx: Tx, sql: str, rows: Sequence[tuple[Any, ...]], per_statement: int = 500) -> None:
    """``sql`` with ``{rows}`` filled by up to ``per_statement`` rows of placeholders at a time:
    one statement per few hundred rows (PostgreSQL answers each statement; row by row, the
    round trips dominate a month's recomputation)."""
    for start in range(0, len(rows), per_statement):
        batch = rows[start : start + per_statement]
        one = "(" + ", ".join("?" * len(batch[0])) + ")"
        tx.execute(sql.format(rows=", ".join([one] * len(batch))), [value for row in batch for value in row])


def _with_body(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "body": json.loads(row["body"])}


def days_of(records: Iterable[DayRecord]) -> list[tuple[str, date]]:
    return [(r.employee_id, r.day) for r in records]
