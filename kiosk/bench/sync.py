"""``presensi bench sync``: drain a backlog of signed punches to the reference server over TLS on loopback."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from core.clock import SystemClock
from core.config import KioskConfig
from core.runtime import Runtime
from core.store.synthetic import build_signed_chain
from kiosk.demo.server import ServerProcess
from sync.provision import build_client, provision

NAME = "sync"
HELP = "time to drain a 100,000-punch backlog to the reference server over TLS on loopback"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--punches", type=int, default=100_000, help="backlog size")
    parser.add_argument("--batch-size", type=int, default=1000, help="punches per upload request")
    parser.add_argument("--database", default=None, help="server database URL (default: SQLite in a temporary directory)")
    parser.add_argument("--no-compress", action="store_true", help="send upload bodies uncompressed")


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="presensi-bench-sync-") as tmp:
        root = Path(tmp)
        with ServerProcess(root / "server", database_url=args.database) as server:
            admin = server.admin()
            token = admin.issue_token("BENCH")
            config = KioskConfig()
            config.clock.state = "synced"
            config.sync.batch_size = args.batch_size
            config.sync.compress = not args.no_compress
            runtime = Runtime(config=config, data_dir=root / "unit", clock=SystemClock())
            provision(runtime, server.url, token, server.ca_file)
            conn = runtime.connect()
            started = time.perf_counter()
            build_signed_chain(
                conn, runtime.identity(), args.punches, employee_ids=[f"19900101201903{i:04d}" for i in range(800)]
            )
            build_s = time.perf_counter() - started
            conn.close()
            client = build_client(runtime)
            started = time.perf_counter()
            uploaded = client.upload_pending()
            drain_s = time.perf_counter() - started
            client.target.close()
            stored = admin.ledger.punch_count(runtime.identity().device_id)
            runtime.close()
            if uploaded != args.punches or stored != args.punches or client.pending():
                raise RuntimeError(f"bench drained {uploaded}, server holds {stored}, expected {args.punches}")
    return {
        "punches": args.punches,
        "batch_size": args.batch_size,
        "compressed": not args.no_compress,
        "server_database": "postgresql" if args.database else "sqlite",
        "drain_s": round(drain_s, 2),
        "punches_per_s": round(args.punches / drain_s, 1),
        "drain_100k_s_est": round(drain_s * 100_000 / args.punches, 2),
        "target_100k_s": 60,
        "backlog_build_s": round(build_s, 2),
    }
