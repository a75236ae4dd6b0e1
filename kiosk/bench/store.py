"""``presensi bench store``: durable punches per second, and verification of 100,000."""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchRequest, PunchStore, verify_database
from core.store.synthetic import build_signed_chain

NAME = "store"
HELP = "durable punches per second and the time to verify 100,000"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--punches", type=int, default=2000, help="durable punches to record (one commit each)")
    parser.add_argument("--verify-count", type=int, default=100_000, help="punches in the chain to verify")
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="directory for the benchmark databases (default: a temporary one under the data directory's filesystem)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    parent = args.dir
    with tempfile.TemporaryDirectory(prefix="presensi-bench-", dir=parent) as tmp:
        root = Path(tmp)
        identity = DeviceIdentity.generate()
        ours = _record(root / "store.db", identity, args.punches)
        baseline = _baseline_commits(root / "baseline.db", args.punches)
        build_s = _build_chain(root / "verify.db", identity, args.verify_count)
        conn = open_database(root / "verify.db", readonly=True)
        started = time.perf_counter()
        report = verify_database(conn)
        verify_s = time.perf_counter() - started
        conn.close()
        if not report.ok or report.checked != args.verify_count:
            raise RuntimeError(f"benchmark chain did not verify: {report}")
    return {
        "punches": args.punches,
        "punches_per_s": round(args.punches / ours, 1),
        "record_ms_median_est": round(ours / args.punches * 1000, 3),
        "baseline_plain_commits_per_s": round(args.punches / baseline, 1),
        "punch_cost_ratio": round(ours / baseline, 3),
        "verify_count": args.verify_count,
        "verify_100k_s": round(verify_s * 100_000 / args.verify_count, 3),
        "verify_per_punch_us": round(verify_s / args.verify_count * 1e6, 2),
        "chain_build_s": round(build_s, 3),
    }


def _record(path: Path, identity: DeviceIdentity, count: int) -> float:
    conn = open_database(path)
    store = PunchStore(conn, identity, FakeClock(), FixedClockState())
    request = PunchRequest(
        "199001012020121001",
        "face",
        kind="masuk",
        status="tepat_waktu",
        liveness_verdict="live",
        liveness_scores={"texture": 0.97, "cues": 0.88},
        match_distance=0.31,
    )
    started = time.perf_counter()
    for _ in range(count):
        store.record(request)
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _baseline_commits(path: Path, count: int) -> float:
    """The same number of one-row commits, WAL + synchronous=FULL, with no chain or signature."""
    # raw SQL on purpose (issue 24's allow-list): this baseline measures SQLite's own durable
    # commit on a bare table, which the store's functions would hide
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")
    started = time.perf_counter()
    for i in range(count):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 600))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def _build_chain(path: Path, identity: DeviceIdentity, count: int) -> float:
    """A real signed chain of ``count`` punches, written in one transaction (fast to build)."""
    started = time.perf_counter()
    conn = open_database(path)
    build_signed_chain(conn, identity, count, employee_ids=[f"EMP{i:05d}" for i in range(500)])
    conn.close()
    return time.perf_counter() - started
