"""Provisioning a unit, and building its sync client from what provisioning recorded.

``presensi provision --server URL --token TOKEN --ca CA.pem`` registers the device key with a
one-time token. The CA is copied into the data directory (``server-ca.pem``) and pinned from then
on; the server URL, the server's roster-signing key and the unit code go into ``settings``.
"""

from __future__ import annotations

import logging
import os
import random
import shutil
import sqlite3
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from core.clock import ClockState, ClockStateSource
from core.errors import PresensiError, SyncError
from core.identity import KEY_FILENAME
from core.privacy.keys import KeyFileProvider
from core.runtime import Runtime
from core.store.sync_state import get_text_setting, put_text_setting, record_server
from core.store.tx import write_transaction
from core.templates.embedder_ids import embedder_id
from core.timekeeping import TimeKeeper, server_offset_s
from sync.client import Backoff, SyncClient
from sync.state import (
    CA_FILENAME,
    SERVER_KEY_KEY,
    SERVER_URL_KEY,
    UNIT_CODE_KEY,
    effective_server,
)
from sync.targets.presensi_v1 import PresensiV1Target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    url: str
    ca_file: Path | None
    server_key_hex: str | None


def provision(
    runtime: Runtime,
    server_url: str,
    token: str,
    ca_file: Path | None,
    *,
    name: str = "",
    client_cert: Path | None = None,
    client_key: Path | None = None,
) -> dict[str, str]:
    """Register this unit's key with the server; returns what the server answered. A unit on a
    key file gets its template key here if it has none yet (provisioning is where keys are made)."""
    cfg = runtime.config.sync
    if (
        runtime.config.privacy.key_provider == "keyfile"
        and KeyFileProvider(runtime.config.privacy.key_file, runtime.data_dir).ensure()
    ):
        log.info("made the template key file %s", runtime.config.privacy.key_file)
    if (runtime.data_dir / KEY_FILENAME).exists():  # a unit that began with a plain signing key: seal it now
        try:
            runtime.seal_device_key()
        except PresensiError as exc:
            log.warning("the device key stays a plain file: the unit's key cannot be read (%s)", exc)
    store = runtime.store()
    identity = store.identity
    pinned = None
    if ca_file is not None:
        pinned = runtime.data_dir / CA_FILENAME
        tmp = pinned.with_name(f".{CA_FILENAME}.tmp")
        shutil.copyfile(ca_file, tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, pinned)
    target = PresensiV1Target(
        server_url,
        identity,
        runtime.clock,
        ca_file=pinned,
        client_cert=client_cert or cfg.client_cert_file,
        client_key=client_key or cfg.client_key_file,
        timeout_s=cfg.timeout_s,
        allow_plain_http=cfg.allow_plain_http,
        check_certificate_time=clock_trusted(runtime, store.conn),
    )
    try:
        answer = target.provision(token, name or runtime.config.unit.name)
    finally:
        target.close()
    if answer.get("device_id") != identity.device_id:
        raise SyncError(
            f"the server registered {answer.get('device_id')}, not this unit ({identity.device_id}); ask the server admin"
        )
    now = runtime.clock.now()
    with write_transaction(store.conn, "recording the provisioning"):
        put_text_setting(store.conn, SERVER_URL_KEY, server_url.rstrip("/"), now)
        put_text_setting(store.conn, SERVER_KEY_KEY, str(answer["server_public_key"]), now)
        put_text_setting(store.conn, UNIT_CODE_KEY, str(answer.get("unit_code", "")), now)
        record_server(store.conn, server_url.rstrip("/"), now)
    log.info("provisioned as %s at %s", identity.device_id, server_url)
    return {k: str(v) for k, v in answer.items()}


def endpoint(runtime: Runtime, conn: sqlite3.Connection) -> Endpoint:
    """Where to sync: the configuration first, else what provisioning recorded."""
    cfg = runtime.config.sync
    url, ca = effective_server(conn, runtime.data_dir, cfg.server_url, cfg.ca_file)
    if not url:
        raise SyncError("this unit is not provisioned: run presensi provision --server URL --token TOKEN --ca CA.pem")
    return Endpoint(url, ca, get_text_setting(conn, SERVER_KEY_KEY))


def clock_trusted(runtime: Runtime, conn: sqlite3.Connection) -> bool:
    """Whether the unit's clock is good enough to judge certificates' validity dates
    (:func:`sync.targets.presensi_v1.tls_context`)."""
    return certificate_dates_trusted(runtime.timekeeper(conn, signing=False))


def certificate_dates_trusted(keeper: TimeKeeper) -> bool:
    """Only a clock synchronised by NTP or by the server's own Date: a technician's typed time (a
    year mistyped) would fail a certificate that is still valid."""
    report = keeper.report()
    return report.state is ClockState.SYNCED and report.source in ("ntp", "server")


def offset_aware_state(runtime: Runtime, conn: sqlite3.Connection) -> ClockStateSource:
    """The unit's clock state source on ``conn``: the TimeKeeper, which also turns ``unsynced``
    while the server's clock is further off than ``clock.max_offset_s`` (core.timekeeping)."""
    return runtime.clock_state(conn)


def build_client(runtime: Runtime) -> SyncClient:
    """The sync client of this unit (its own connection and store)."""
    cfg = runtime.config.sync
    conn = runtime.connect()
    state = offset_aware_state(runtime, conn)
    store = runtime.new_store(conn, state)
    where = endpoint(runtime, conn)
    target = PresensiV1Target(
        where.url,
        store.identity,
        runtime.clock,
        ca_file=where.ca_file,
        client_cert=cfg.client_cert_file,
        client_key=cfg.client_key_file,
        timeout_s=cfg.timeout_s,
        allow_plain_http=cfg.allow_plain_http,
        compress=cfg.compress,
        offset_s=server_offset_s(conn) or 0.0,
        check_certificate_time=partial(certificate_dates_trusted, state)
        if isinstance(state, TimeKeeper)
        else state.state() is ClockState.SYNCED,
    )
    return SyncClient(
        store,
        target,
        runtime.clock,
        state,
        runtime.data_dir,
        server_key_hex=where.server_key_hex,
        batch_size=cfg.batch_size,
        retention_days=runtime.config.store.retention_days,
        max_offset_s=runtime.config.clock.max_offset_s,
        embedder=embedder_id(runtime.config.face) if runtime.config.face.enabled else None,
    )


def backoff_for(runtime: Runtime, rng: random.Random | None = None) -> Backoff:
    cfg = runtime.config.sync
    return Backoff(cfg.backoff_base_s, cfg.backoff_max_s, rng or random.Random())
