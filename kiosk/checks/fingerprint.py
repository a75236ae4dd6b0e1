"""Doctor: the fingerprint module, as the bridge last reported it."""

from __future__ import annotations

from datetime import UTC, datetime

from core.errors import PresensiError
from core.health import Health, read_all
from core.runtime import Runtime
from kiosk.checks.findings import Finding, Status, check

#: A report older than this means the bridge is not running (it reports every 15 s).
STALE_S = 120


@check
def fingerprint_module(rt: Runtime) -> list[Finding]:
    cfg = rt.config.fingerprint
    if cfg.module == "none":
        return []
    try:
        conn = rt.connect()
    except PresensiError as exc:
        return [Finding("fingerprint module", Status.FAIL, f"cannot read health: {exc}")]
    try:
        part = next((p for p in read_all(conn) if p.part == "fingerprint"), None)
    finally:
        conn.close()
    if part is None:
        return [
            Finding(
                "fingerprint module",
                Status.WARN,
                "the bridge has not reported yet",
                "start it: systemctl start presensi-bridge (or presensi bridge)",
            )
        ]
    age = (rt.clock.now() - datetime.fromisoformat(part.updated_at).astimezone(UTC)).total_seconds()
    if part.status is Health.FAIL:
        return [
            Finding(
                "fingerprint module",
                Status.FAIL,
                f"{part.detail}: {part.last_error or 'no detail'}",
                "check the module's cable and power; the bridge reconnects by itself once it answers",
            )
        ]
    if age > STALE_S:
        return [
            Finding(
                "fingerprint module",
                Status.WARN,
                f"last report {age:.0f} s ago ({part.detail})",
                "the bridge is not running: systemctl restart presensi-bridge",
            )
        ]
    metrics = part.metrics
    return [
        Finding("fingerprint module", Status.OK, f"{part.detail}; {int(metrics.get('punches', 0))} finger punches since start")
    ]
