"""What the ``sync`` and ``export`` commands run, assembled from a :class:`core.runtime.Runtime`."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from core.errors import SyncError
from core.health import Health
from core.notify import Notifier, Watchdog
from core.runtime import Runtime
from core.store.sync_state import get_cursor, get_text_setting, set_cursor
from core.store.time_corrections import count_undelivered_corrections
from core.timekeeping import server_offset_s
from core.wire import SyncRejected, SyncUnavailable
from sync.bundle import ExportResult, export_bundle
from sync.client import SyncService, UploaderLock
from sync.health import queue
from sync.provision import backoff_for, build_client, offset_aware_state
from sync.state import (
    BUNDLE_CURSOR,
    ROSTER_CURSOR,
    SERVER_URL_KEY,
    UPLOAD_CURSOR,
)

log = logging.getLogger(__name__)


def _check_enabled(runtime: Runtime) -> None:
    conn = runtime.connect()
    try:
        provisioned = get_text_setting(conn, SERVER_URL_KEY) is not None
    finally:
        conn.close()
    if not runtime.config.sync.enabled and not provisioned and not runtime.config.sync.server_url:
        raise SyncError("sync is off: provision the unit (presensi provision …) or set sync.enabled and sync.server_url")


def run_forever(runtime: Runtime) -> int:
    """``presensi sync``: until SIGTERM/SIGINT."""
    _check_enabled(runtime)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    lock = UploaderLock(runtime.data_dir)
    log.info("waiting for the uploader lock %s", lock.path)
    lock.acquire(wait=True)
    client = build_client(runtime)
    cfg = runtime.config.sync
    notifier = Notifier.from_env()
    watchdog = Watchdog(notifier, runtime.clock)
    service = SyncService(
        client,
        backoff_for(runtime),
        lambda seconds: watchdog.idle_wait(stop, seconds),
        interval_s=cfg.interval_s,
        heartbeat_s=cfg.heartbeat_s,
        roster_s=cfg.roster_interval_s,
        max_offset_s=runtime.config.clock.max_offset_s,
    )
    log.info("sync running: %r", client)
    try:
        with watchdog:
            notifier.ready("sinkron berjalan")
            service.run()
    finally:
        client.target.close()
        client.conn.close()
        lock.release()
    return 0


def run_once(runtime: Runtime) -> dict[str, Any]:
    """``presensi sync once``: drain, roster, heartbeat; the outcome as a dict (``ok``)."""
    _check_enabled(runtime)
    with UploaderLock(runtime.data_dir):
        client = build_client(runtime)
        try:
            try:
                result = client.round()
            except (SyncUnavailable, SyncRejected) as exc:
                status = Health.WARN if isinstance(exc, SyncUnavailable) else Health.FAIL
                client.report_health(status, f"Sinkron gagal: {exc}", str(exc))
                return {"ok": False, "error": str(exc), "acked_seq": client.acked_seq, "pending": client.pending()}
            if result.corrections_refused:
                client.report_health(
                    Health.WARN, f"Koreksi waktu ditolak server: {result.corrections_refused}", result.corrections_refused
                )
            else:
                client.report_health(Health.OK, f"Tersinkron; antrean {result.pending}")
            return {
                "ok": True,
                "corrections_refused": result.corrections_refused,
                "uploaded": result.uploaded,
                "corrections_sent": result.corrections,
                "corrections_pending": count_undelivered_corrections(client.conn),
                "acked_seq": result.acked_seq,
                "pending": result.pending,
                "pruned": result.pruned,
                "roster_version": result.roster_version,
                "clock_offset_s": round(client.target.offset_s, 3) if client.target.offset_measured else None,
            }
        finally:
            client.target.close()
            client.conn.close()


def status(runtime: Runtime) -> dict[str, Any]:
    """``presensi sync status`` (read-only)."""
    conn = runtime.connect()
    try:
        depth, age = queue(conn, runtime.clock.now())
        return {
            "server": runtime.config.sync.server_url or get_text_setting(conn, SERVER_URL_KEY) or "(not provisioned)",
            "acked_seq": get_cursor(conn, UPLOAD_CURSOR),
            "pending": depth,
            "oldest_unsent_age_s": round(age, 1) if age is not None else None,
            "roster_version": get_cursor(conn, ROSTER_CURSOR),
            "last_exported_seq": get_cursor(conn, BUNDLE_CURSOR),
            "clock_offset_s": server_offset_s(conn),
            "corrections_pending": count_undelivered_corrections(conn),
        }
    finally:
        conn.close()


def export(runtime: Runtime, to_dir: Path, *, all_punches: bool = False, since: int | None = None) -> ExportResult | None:
    """``presensi export``: by default every punch the server has not acknowledged."""
    conn = runtime.connect()
    try:
        store = runtime.new_store(conn, offset_aware_state(runtime, conn))
        if since is not None:
            after = since
        elif all_punches:
            after = 0
        else:
            after = get_cursor(conn, UPLOAD_CURSOR)
        result = export_bundle(
            conn, store.identity, runtime.clock, to_dir, after_seq=after, corrections=runtime.config.sync.bundle_corrections
        )
        if result is not None:
            set_cursor(conn, BUNDLE_CURSOR, result.last_seq, runtime.clock.now(), {"file": result.bundle.name})
        return result
    finally:
        conn.close()
