"""Building modules, simulators and the bridge from the configuration.

The bridge seals the templates it stores with the unit's key and opens them with it
(:mod:`kiosk.privacy`, from ``[privacy]``): :class:`UnitFingerDB`. Templates this key cannot
open (a data directory copied from another unit, a lost key) are not wanted on the module, and
one log line says why; without a key nothing new is stored.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from core.admission import Admit, UnitAdmission, no_schedule
from core.config import FingerprintConfig, read_secret
from core.errors import ConfigError, PresensiError
from core.privacy.seal import Sealer, TemplateKeyError
from core.runtime import Runtime
from core.store.finger_templates import PLAIN, FingerDB, TemplateRow, put_seeded_template, seal_template, template_headers
from core.store.punches import PunchStore
from core.store.vault import sealed_key_id, unit_sealer
from firmware_bridge import simfinger
from firmware_bridge.base import FAMILIES, FingerprintModule
from firmware_bridge.gt521.driver import GT521Module
from firmware_bridge.gt521.simulator import TEMPLATE as GT_TEMPLATE
from firmware_bridge.gt521.simulator import GT521Simulator
from firmware_bridge.service import BridgeService, BridgeSettings
from firmware_bridge.simcore import ModuleSimulator
from firmware_bridge.zhiantec.driver import ZhianTecModule
from firmware_bridge.zhiantec.simulator import TEMPLATE as ZT_TEMPLATE
from firmware_bridge.zhiantec.simulator import ZhianTecSimulator

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


class UnitFingerDB(FingerDB):
    """The bridge's database view on a unit whose templates are sealed with its key.

    ``sealer`` is None when the key cannot be read (``problem`` says why): then no template is
    stored (TemplateKeyError), the module keeps what it holds, and none is written until the key
    can be read. Templates sealed with another unit's key are left off the module."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        sealer: Sealer | None,
        problem: str | None = None,
        key: Callable[[], Sealer] | None = None,
    ) -> None:
        """``key``: asked again at each reconciliation while ``sealer`` is None (a key file made
        or restored after the bridge started takes effect without a restart)."""
        super().__init__(conn, sealer=sealer)
        self.problem = problem
        self._key = key
        self._reported = 0

    def _retry_key(self) -> None:
        if self.sealer is not None or self._key is None:
            return
        try:
            self.sealer = self._key()
        except TemplateKeyError as exc:
            self.problem = f"the template key cannot be read: {exc}"
            return
        self.problem = None
        log.info("the template key can be read now: sealed finger templates go back on the module")

    def _unopenable(self, family: str) -> set[int]:
        """Ids of templates sealed with a key this unit does not hold. Read-only; reads only
        each template's header, never decrypts."""
        unopenable = set()
        for template_id, header, scheme in template_headers(self.conn, family):
            if scheme == PLAIN:
                continue
            key_id = sealed_key_id(header, scheme)
            if self.sealer is None or key_id != self.sealer.key_id:
                unopenable.add(template_id)
        return unopenable

    def desired(self, family: str) -> dict[int, TemplateRow]:
        self._retry_key()
        wanted = super().desired(family)
        if self.sealer is None:
            # The key cannot be read now: keep what the module holds (nothing is deleted for
            # it); templates that would have to be written wait for the key.
            if wanted and self._reported != -1:
                self._reported = -1
                log.error("the template key cannot be read (%s): the module keeps its templates, none is written", self.problem)
            return wanted
        left_out = self._unopenable(family) & set(wanted)
        if len(left_out) != self._reported:
            self._reported = len(left_out)
            if left_out:
                why = (
                    self.problem
                    or "templates were sealed with another unit's key: re-enrol (or pull the roster again) or restore the key"
                )
                log.error("%d finger templates cannot be opened and are left off the module: %s", len(left_out), why)
        return {k: v for k, v in wanted.items() if k not in left_out}

    def save_enrolled(
        self, employee_id: str, finger: int, family: str, raw: bytes, *, module: str, slot: int, now: datetime
    ) -> int:
        self._retry_key()
        if self.sealer is None:
            # A unit's first templates make its key file, as the first face enrolment does
            # (core.store.vault.unit_sealer); where sealed templates exist a lost key stays lost.
            try:
                self.sealer = unit_sealer(self.conn, first_templates=True)
            except TemplateKeyError as exc:
                self.problem = f"the template key cannot be read: {exc}"
            if self.sealer is not None:
                self.problem = None
        if self.sealer is None:
            raise TemplateKeyError(f"the enrolled fingerprint is not stored: {self.problem}")
        return super().save_enrolled(employee_id, finger, family, raw, module=module, slot=slot, now=now)


def unit_finger_db(runtime: Runtime, conn: sqlite3.Connection) -> UnitFingerDB:
    """The bridge's view of ``runtime``'s database, sealing with the unit's key."""
    try:
        return UnitFingerDB(conn, sealer=runtime.template_key.sealer(), key=runtime.template_key.sealer)
    except TemplateKeyError as exc:
        log.error("the template key cannot be read (%s): the module keeps its templates, enrolment is refused", exc)
        return UnitFingerDB(conn, sealer=None, problem=f"the template key cannot be read: {exc}", key=runtime.template_key.sealer)


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
    conn: sqlite3.Connection,
    employee_id: str,
    *,
    finger: int = 0,
    family: str = "zhiantec",
    now: datetime,
    sealer: Sealer | None = None,
) -> int:
    """Give an (existing) employee the template a simulated module would have made of
    :func:`sim_finger_name` — as if enrolled and synced — so the demo can place an enrolled
    finger without an enrolment first. The bridge writes it to the module on its next check.
    Sealed with ``sealer``, by default the unit's key for ``conn``'s database."""

    name = sim_finger_name(employee_id, finger)
    points = simfinger.combine(simfinger.capture(name, 1000), simfinger.capture(name, 1001))
    raw = (ZT_TEMPLATE if family == "zhiantec" else GT_TEMPLATE).pack(points)
    if sealer is None:
        sealer = unit_sealer(conn)
    stored, scheme, digest = seal_template(raw, employee_id=employee_id, finger=finger, family=family, sealer=sealer)
    return put_seeded_template(conn, employee_id, finger, family, stored=stored, scheme=scheme, digest=digest, now=now)


def start_simulated_bridge(
    runtime: Runtime,
    *,
    classify: Admit | None = None,
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
    classify: Admit | None = None,
) -> BridgeService:
    """The bridge for ``runtime``'s unit with its own connection and punch store."""
    config = runtime.config.fingerprint
    conn = runtime.connect()
    store = runtime.new_store(conn, runtime.clock_state())  # the time keeper keeps a connection of its own
    if classify is None:
        classify = unit_admission(runtime, store)
    return BridgeService(
        module_factory=module_factory(config, family, port),
        module_id=config.module_id or (f"sim-{family}" if runtime.config.fingerprint.module == "sim" else f"{family}:{port}"),
        db=unit_finger_db(runtime, conn),
        store=store,
        clock=runtime.clock,
        settings=settings_from(config),
        classify=classify,
    )


def unit_admission(runtime: Runtime, store: PunchStore) -> Admit:
    """The unit's admission, the one the face and card services use (core.admission): the
    running event pack, else the schedule with the unit's default work code. Without it finger
    punches carry no status (logged)."""
    try:
        return UnitAdmission(runtime.config, store, runtime.clock)
    except (ImportError, PresensiError) as exc:
        log.warning("finger punches will carry no schedule status: %s", exc)
        return no_schedule
