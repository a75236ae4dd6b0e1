"""Doctor checks of sync: provisioning, the pinned CA, the server's reachability, queue and clock offset."""

from __future__ import annotations

import httpx

from core.errors import PresensiError
from core.runtime import Runtime
from core.store.sync_state import get_text_setting
from core.timekeeping import server_offset_s
from kiosk.checks.findings import Finding, Status, check
from sync.health import queue
from sync.provision import clock_trusted, endpoint
from sync.state import FORK_KEY
from sync.targets.presensi_v1 import tls_context

QUEUE_AGE_WARN_S = 24 * 3600


@check
def sync(rt: Runtime) -> list[Finding]:

    try:
        conn = rt.connect()
    except PresensiError as exc:
        return [Finding("sync", Status.FAIL, f"cannot open the database: {exc}", "see the database finding")]
    try:
        try:
            where = endpoint(rt, conn)
        except PresensiError:
            status = Status.WARN if rt.config.sync.enabled else Status.OK
            return [Finding("sync", status, "not provisioned", "presensi provision --server URL --token TOKEN --ca CA.pem")]
        findings = []
        depth, age = queue(conn, rt.clock.now())
        if age is not None and age > QUEUE_AGE_WARN_S:
            findings.append(
                Finding(
                    "sync queue",
                    Status.WARN,
                    f"{depth} punches unsent, oldest {age / 3600:.0f} h old",
                    "check the network, or export to a flash disk: presensi export --to /media/…",
                )
            )
        else:
            findings.append(Finding("sync queue", Status.OK, f"{depth} punches unsent"))
        fork = get_text_setting(conn, FORK_KEY)
        if fork is not None:
            findings.append(
                Finding(
                    "sync fork",
                    Status.FAIL,
                    f"the server found punches signed with this unit's key that contradict this unit's chain ({fork}): "
                    "another unit holds this unit's key (a copied data directory or SD card)",
                    "ask the server's operator which unit is genuine (presensi server devices shows the fork); take the copy "
                    "out of service, then: presensi sync clear-fork",
                )
            )
        offset = server_offset_s(conn, rt.clock.boot_id())  # this boot's, or none (issue 21: a stale figure misled)
        limit = rt.config.clock.max_offset_s
        if offset is not None and abs(offset) > limit:
            findings.append(
                Finding(
                    "clock offset",
                    Status.WARN,
                    f"the server's clock differs by {offset:+.0f} s (limit {limit:.0f} s); new punches are marked unsynced",
                    "fix NTP on the unit (timedatectl), or set the time on the maintenance page",
                )
            )
        elif offset is not None:
            findings.append(Finding("clock offset", Status.OK, f"{offset:+.1f} s from the server"))
        else:
            findings.append(Finding("clock offset", Status.OK, "not measured since the unit started (the next sync measures it)"))
        try:
            trusted = clock_trusted(rt, conn)  # as the sync client judges the certificate
            verify = (
                tls_context(where.ca_file, check_time=trusted) if where.url.startswith("https://") and where.ca_file else True
            )
            response = httpx.get(f"{where.url}/healthz", verify=verify, timeout=5)
            findings.append(Finding("server", Status.OK, f"{where.url} answers ({response.status_code})"))
        except (httpx.HTTPError, PresensiError) as exc:
            findings.append(
                Finding(
                    "server", Status.WARN, f"{where.url} unreachable: {exc}", "check the network, DNS, firewall and the CA file"
                )
            )
        return findings
    finally:
        conn.close()
