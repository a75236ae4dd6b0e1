"""Building modules, simulators and the bridge from the configuration."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from firmware_bridge.base import FAMILIES, FingerprintModule
from firmware_bridge.gt521.driver import GT521Module
from firmware_bridge.gt521.simulator import GT521Simulator
from firmware_bridge.service import BridgeService, BridgeSettings, Classification, no_schedule
from firmware_bridge.simcore import ModuleSimulator
from firmware_bridge.templates import FingerDB
from firmware_bridge.zhiantec.driver import ZhianTecModule
from firmware_bridge.zhiantec.simulator import ZhianTecSimulator
from kiosk.config import FingerprintConfig, read_secret
from kiosk.errors import ConfigError, PresensiError
from kiosk.runtime import Runtime

log = logging.getLogger(__name__)

DEFAULT_BAUD = {"zhiantec": 57600, "gt521": 9600}
_ = FAMILIES  # both families register themselves on import


def password_from(config: FingerprintConfig) -> int:
    text = read_secret(config.password_file)
    if not text:
        return 0
    try:
        return int(text, 16) & 0xFFFFFFFF
    except ValueError as exc:
        raise ConfigError(f"{config.password_file}: the module password must be hex (up to 8 digits)") from exc


def module_factory(config: FingerprintConfig, family: str, port: str) -> Callable[[], FingerprintModule]:
    """A function making a fresh driver for each (re)connection."""
    baud = config.baud or DEFAULT_BAUD[family]
    if family == "zhiantec":
        password = password_from(config)
        return lambda: ZhianTecModule(
            port,
            baud=baud,
            password=password,
            address=config.address,
            timeout_s=config.timeout_s,
            autobaud=config.autobaud,
            index_bit_order=config.index_bit_order,
            led=config.led,
        )
    if family == "gt521":
        return lambda: GT521Module(port, baud=baud, timeout_s=config.timeout_s, autobaud=config.autobaud)
    raise ConfigError(f"fingerprint.module: unknown family {family!r} (expected zhiantec, gt521 or sim)")


def make_simulator(
    family: str,
    *,
    link: Path | None = None,
    library_file: Path | None = None,
    baud: int | None = None,
    model: str = "r503",
    pace: bool = True,
) -> ModuleSimulator:
    if family == "zhiantec":
        return ZhianTecSimulator(model=model, link=link, library_file=library_file, baud=baud or 57600, pace=pace)
    return GT521Simulator(link=link, library_file=library_file, baud=baud or 9600, pace=pace)


def settings_from(config: FingerprintConfig) -> BridgeSettings:
    return BridgeSettings(
        poll_s=config.poll_ms / 1000,
        duplicate_interval_s=config.duplicate_interval_s,
        enrol_timeout_s=config.enrol_timeout_s,
        backoff_initial_s=config.backoff_initial_s,
        backoff_max_s=config.backoff_max_s,
    )


@dataclass
class SimulatedUnit:
    """A simulated module plus the bridge driving it, both in the background (demo, bench)."""

    simulator: ModuleSimulator
    service: BridgeService

    def place_enrolled_finger(self, employee_id: str, finger: int = 0) -> None:
        """Put the finger enrolled for ``employee_id`` on the glass."""
        self.simulator.place_finger(sim_finger_name(employee_id, finger))

    def place_unknown_finger(self, seed: int = 0) -> None:
        self.simulator.place_finger(f"unknown-finger-{seed}")

    def lift(self) -> None:
        self.simulator.lift()

    def stop(self) -> None:
        self.service.stop()
        self.simulator.stop()
        self.service.db.conn.close()


def sim_finger_name(employee_id: str, finger: int = 0) -> str:
    """The simulated finger that stands for ``employee_id``'s finger ``finger`` everywhere (the
    demo enrols with it, the control places it)."""
    return f"{employee_id}/{finger}"


def seed_sim_template(
    conn: sqlite3.Connection, employee_id: str, *, finger: int = 0, family: str = "zhiantec", now: datetime
) -> int:
    """Give an (existing) employee the template a simulated module would have made of
    :func:`sim_finger_name` — as if enrolled and synced — so the demo can place an enrolled
    finger without an enrolment first. The bridge writes it to the module on its next check."""
    from firmware_bridge import simfinger
    from firmware_bridge.gt521.simulator import TEMPLATE as GT_TEMPLATE
    from firmware_bridge.templates import seal_template
    from firmware_bridge.zhiantec.simulator import TEMPLATE as ZT_TEMPLATE
    from kiosk.store.db import write_transaction
    from kiosk.store.punches import format_instant

    name = sim_finger_name(employee_id, finger)
    points = simfinger.combine(simfinger.capture(name, 1000), simfinger.capture(name, 1001))
    raw = (ZT_TEMPLATE if family == "zhiantec" else GT_TEMPLATE).pack(points)
    stored, scheme, digest = seal_template(raw, employee_id=employee_id, finger=finger, family=family)
    with write_transaction(conn, "seeding a simulated finger template"):
        conn.execute(
            "INSERT INTO finger_templates (employee_id, finger, family, template, scheme, digest, source, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, 'local', ?) ON CONFLICT(employee_id, finger, family) DO UPDATE SET "
            "template = excluded.template, scheme = excluded.scheme, digest = excluded.digest",
            (employee_id, finger, family, stored, scheme, digest, format_instant(now)),
        )
        row = conn.execute(
            "SELECT id FROM finger_templates WHERE employee_id = ? AND finger = ? AND family = ?", (employee_id, finger, family)
        ).fetchone()
    return int(row["id"])


def start_simulated_bridge(
    runtime: Runtime,
    *,
    classify: Callable[[str, datetime], Classification] | None = None,
    pace: bool = True,
) -> SimulatedUnit:
    """Start a simulated module on a pty and the bridge on it, in background threads, for the
    unit ``runtime`` describes (its database, device key, clock, zone and [fingerprint]).

    The module's library persists in ``fingerprint.sim_library`` (default: the data directory),
    the pty's stable path is ``<data dir>/fingerprint-<family>.pty``. The bridge has its own
    database connection. Control the glass with ``unit.place_enrolled_finger(employee_id)``,
    ``unit.place_unknown_finger()`` and ``unit.lift()``; stop both with ``unit.stop()``.
    """
    config = runtime.config.fingerprint
    family = config.sim_family
    data_dir = runtime.data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    library = config.sim_library or data_dir / "fingerprint-sim.json"
    link = data_dir / f"fingerprint-{family}.pty"
    simulator = make_simulator(family, link=link, library_file=library, baud=config.baud, model=config.sim_model, pace=pace)
    simulator.start()
    service = build_service(runtime, family=family, port=str(link), classify=classify)
    service.start()
    return SimulatedUnit(simulator, service)


def build_service(
    runtime: Runtime,
    *,
    family: str,
    port: str,
    classify: Callable[[str, datetime], Classification] | None = None,
) -> BridgeService:
    """The bridge for ``runtime``'s unit with its own connection and punch store."""
    from kiosk.store.punches import PunchStore

    config = runtime.config.fingerprint
    conn = runtime.connect()
    store = PunchStore(
        conn,
        runtime.identity(),
        runtime.clock,
        runtime.clock_state(),
        zone=runtime.config.unit.zone,
        unsynced_policy=runtime.config.clock.unsynced_policy,
    )
    if classify is None:
        classify = schedule_classifier(conn, runtime.config.unit.zone)
    return BridgeService(
        module_factory=module_factory(config, family, port),
        module_id=config.module_id or (f"sim-{family}" if runtime.config.fingerprint.module == "sim" else f"{family}:{port}"),
        db=FingerDB(conn),
        store=store,
        clock=runtime.clock,
        settings=settings_from(config),
        classify=classify,
    )


def schedule_classifier(conn: sqlite3.Connection, zone: str) -> Callable[[str, datetime], Classification]:
    """The unit's schedule (masuk/pulang, late minutes), or none when it cannot be read."""
    try:
        from kiosk.schedule.classify import Schedule

        schedule = Schedule(conn, zone)
    except (ImportError, PresensiError) as exc:
        log.warning("finger punches will carry no schedule status: %s", exc)
        return no_schedule
    return schedule.classify
