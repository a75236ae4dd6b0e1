"""``presensi bench recap``: a regency's month on the reference server: 10,000 employees in 200
offices, generated punches for every working day of November 2026 on 200 units (a few late,
early, absent or punching at another office's unit), then the attendance days computed from the
punches and the monthly recap of every office (CSV of all) timed.

The punches are written straight into the server's table (their signatures are the ledger's
business, measured by ``presensi bench sync``); the figures are the day book's and the recap's.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import FakeClock
from core.store.punches import format_instant
from sync.server.daybook import DayBook
from sync.server.recap import Recaps
from sync.server.recap_export import recap_csv
from sync.server.storage import Storage

NAME = "recap"
HELP = "a month's attendance days and recap for 10,000 employees on 200 units (use --database postgresql://…)"
MONTH = "2026-11"
LIVE_EVERY = 5  # minutes between a unit's uploads in the live part
WORK_CODES = ("JEMBER-5H", "(GLOBAL) 5 HARI (NON SEKOLAH)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--employees", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=200, help="offices, one unit each")
    parser.add_argument("--database", default=None, help="server database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--seed", type=int, default=25)
    parser.add_argument("--live-units", type=int, default=100, help="units uploading the next morning (0: skip that part)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes computing days (default: the CPUs)")


def _cpu_s() -> float:
    """CPU seconds of this process and its finished workers (the database server's are not counted)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _punches(args: argparse.Namespace, rng: random.Random) -> list[tuple[Any, ...]]:
    zone = ZoneInfo("Asia/Jakarta")
    rows: list[tuple[Any, ...]] = []
    seqs = [0] * args.units
    received = format_instant(datetime(2026, 12, 1, tzinfo=UTC))
    for day in (date(2026, 11, d) for d in range(1, 31)):
        if day.weekday() >= 5:
            continue
        for n in range(args.employees):
            if rng.random() < 0.03:
                continue  # absent: TK unless a keterangan comes
            office = n % args.units
            base = datetime(day.year, day.month, day.day, 6, 30, tzinfo=zone)
            masuk = base + timedelta(minutes=rng.choice((0, 5, 10, 20)) if rng.random() > 0.1 else 35 + rng.randrange(60))
            pulang = base + timedelta(hours=8, minutes=rng.randrange(90) if rng.random() > 0.08 else -rng.randrange(60))
            for instant, kind in ((masuk, "masuk"), (pulang, "pulang")):
                unit = office if rng.random() > 0.05 else rng.randrange(args.units)
                seqs[unit] += 1
                rows.append(
                    (
                        f"unit-{unit:03d}",
                        seqs[unit],
                        f"b-{unit}-{seqs[unit]}",
                        f"E{n:06d}",
                        format_instant(instant),
                        kind,
                        received,
                    )
                )
    return rows


def run(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="presensi-bench-recap-") as tmp:
        storage = Storage(args.database or f"sqlite:///{tmp}/server.db")
        storage.create_schema()
        clock = FakeClock(datetime(2026, 12, 3, 2, 0, tzinfo=UTC))
        started = time.perf_counter()
        # raw SQL on purpose (issue 24's allow-list): the reference server's own database (its
        # Storage, not the unit's store), bulk-loaded as fast as it can be; the load is timed (load_s)
        with storage.tx() as tx:
            tx.executemany(
                "INSERT INTO units (code, name, version, zone) VALUES (?, ?, 1, 'Asia/Jakarta')",
                [(f"OPD{u:03d}", f"Perangkat Daerah {u}") for u in range(args.units)],
            )
            tx.executemany(
                "INSERT INTO employees (id, name, unit_code, work_code, version) VALUES (?, ?, ?, ?, 1)",
                [(f"E{n:06d}", f"Pegawai {n}", f"OPD{n % args.units:03d}", WORK_CODES[n % 2]) for n in range(args.employees)],
            )
        rows = _punches(args, rng)
        for start in range(0, len(rows), 20_000):
            with storage.tx() as tx:
                tx.executemany(
                    "INSERT INTO punches (device_id, seq, id, employee_id, instant, zone, method, kind, status, minutes, "
                    "liveness_scores, clock_state, boot_id, mono_ns, prev_hash, hash, signature, received_at, source) "
                    "VALUES (?, ?, ?, ?, ?, 'Asia/Jakarta', 'face', ?, 'tepat_waktu', 0, '{}', 'synced', 'b', 0, 'x', 'y', 'z', ?, 'bench')",
                    rows[start : start + 20_000],
                )
        load_s = time.perf_counter() - started
        days = DayBook(storage, clock, workers=args.workers)
        started, cpu = time.perf_counter(), _cpu_s()
        changed = days.refresh()
        days_s, days_cpu_s = time.perf_counter() - started, _cpu_s() - cpu
        started, cpu = time.perf_counter(), _cpu_s()
        recaps = Recaps(storage, clock, days).all_offices(MONTH)
        csv_bytes = len(recap_csv(recaps).encode("utf-8"))
        recap_s, recap_cpu_s = time.perf_counter() - started, _cpu_s() - cpu
        started = time.perf_counter()
        again = Recaps(storage, clock, days).all_offices(MONTH)
        recap_again_s = time.perf_counter() - started
        employees = sum(len(r.rows) for r in recaps)
        tk = sum(row.counts["tk"] for r in recaps for row in r.rows)
        live = _live(storage, days, clock, args, rng) if args.live_units else {}
        storage.close()
    if employees != args.employees or len(again) != args.units:
        raise RuntimeError(
            f"recap covers {employees} employees in {len(again)} offices, expected {args.employees} in {args.units}"
        )
    return {
        "server_database": "postgresql" if args.database else "sqlite",
        "employees": args.employees,
        "workers": args.workers,
        "units": args.units,
        "punches": len(rows),
        "load_s": round(load_s, 2),
        "days_written": changed,
        "days_from_punches_s": round(days_s, 2),
        # this process's and its workers' CPU: the rest of the time is the database and the machine's load
        "days_from_punches_cpu_s": round(days_cpu_s, 2),
        "recap_all_offices_s": round(recap_s, 2),
        "recap_all_offices_cpu_s": round(recap_cpu_s, 2),
        "recap_again_s": round(recap_again_s, 2),
        "tk_days": tk,
        "csv_bytes": csv_bytes,
        "target_recap_s": 60,
        "month_total_s": round(days_s + recap_s, 2),
        **live,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def _live(storage: Any, days: Any, clock: Any, args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """The next morning as it happens: ``--live-units`` units each upload what their people
    punched every ``LIVE_EVERY`` simulated minutes from 06:00 to 07:30, and after each upload the
    day book refreshes (as the server does after answering); each refresh is timed, and at the
    end every punched employee's day must say hadir."""
    zone = ZoneInfo("Asia/Jakarta")
    start = datetime(2026, 12, 4, 6, 0, tzinfo=zone)  # after the cold part's clock: a clock never runs back
    units = min(args.live_units, args.units)
    people = [n for n in range(args.employees) if n % args.units < units]
    at = {n: start + timedelta(seconds=rng.randrange(90 * 60)) for n in people}
    rounds = 90 // LIVE_EVERY
    latencies: list[float] = []
    seqs = [10_000_000] * units
    clock.set_wall(start.astimezone(UTC))
    for r in range(1, rounds + 1):
        until = start + timedelta(minutes=r * LIVE_EVERY)
        for unit in range(units):
            clock.advance(LIVE_EVERY * 60 / units)
            batch = []
            for n in people:
                if n % args.units == unit and until - timedelta(minutes=LIVE_EVERY) <= at[n] < until:
                    seqs[unit] += 1
                    batch.append(
                        (
                            f"unit-{unit:03d}",
                            seqs[unit],
                            f"l-{unit}-{seqs[unit]}",
                            f"E{n:06d}",
                            format_instant(at[n]),
                            "masuk",
                            format_instant(clock.now()),
                        )
                    )
            # raw SQL kept (issue 24's allow-list): the reference server's own database (its Storage, not
            # the unit's store); bench punches with fake signatures that no server function would take
            with storage.tx() as tx:
                tx.executemany(
                    "INSERT INTO punches (device_id, seq, id, employee_id, instant, zone, method, kind, status, minutes, "
                    "liveness_scores, clock_state, boot_id, mono_ns, prev_hash, hash, signature, received_at, source) "
                    "VALUES (?, ?, ?, ?, ?, 'Asia/Jakarta', 'face', ?, 'tepat_waktu', 0, '{}', 'synced', 'b', 0, 'x', 'y', 'z', ?, 'bench')",
                    batch,
                )
            started = time.perf_counter()
            days.refresh()
            latencies.append(time.perf_counter() - started)
    with storage.tx(write=False) as tx:
        current = tx.one("SELECT count(*) AS n FROM attendance_days WHERE day = '2026-12-04' AND status = 'hadir'")
    if current is None or int(current["n"]) != len(people):
        raise RuntimeError(f"after the morning {current} days say hadir, expected {len(people)}")
    latencies.sort()
    return {
        "live_units": units,
        "live_uploads": len(latencies),
        "live_punches": len(people),
        "live_refresh_p50_ms": round(latencies[len(latencies) // 2] * 1000, 1),
        "live_refresh_p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "live_refresh_max_ms": round(latencies[-1] * 1000, 1),
        "live_refresh_total_s": round(sum(latencies), 2),
    }
