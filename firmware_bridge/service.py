"""The bridge loop (``presensi bridge``): identify, punch, enrol, reconcile, survive faults.

One thread owns the module. Each turn it (re)connects if needed, reconciles when the roster
changed (``PRAGMA data_version`` tells it another process committed), takes a pending enrolment
request, or makes one identification attempt: capture → features → search → slot → employee →
punch (method ``finger``). A finger is punched once per touch: after a capture the bridge waits
to see the glass empty before it punches again, and it remembers that across reconnects, so
an unplug or a stall in the middle never loses or doubles a punch. Faults close the module,
report ``fingerprint`` as failing in the health table, and retry with exponential backoff;
nothing else in the kiosk waits on this thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.admission import Admit, already_punched_text, no_schedule, refusal, request_fields, status_text
from core.clock import Clock, local_time, zone_abbreviation
from core.errors import ClockError, DeviceError, PresensiError, StorageError
from core.health import Health, report
from core.store.finger_templates import FingerDB
from core.store.punches import PunchRequest, PunchStore, parse_instant
from firmware_bridge import enrolment as enrol_api
from firmware_bridge.base import Capture, FingerprintModule, Led
from firmware_bridge.errors import ModuleRefused, WrongPassword
from firmware_bridge.reconcile import Reconciler

log = logging.getLogger(__name__)

PART = "fingerprint"


@dataclass
class BridgeSettings:
    poll_s: float = 0.1
    duplicate_interval_s: float = 300.0
    enrol_timeout_s: float = 30.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    health_interval_s: float = 15.0


@dataclass
class BridgeStats:
    connects: int = 0
    faults: int = 0
    identifications: int = 0
    punches: int = 0
    unknown: int = 0
    poor: int = 0
    duplicates: int = 0
    enrolments: int = 0
    reconciles: int = 0

    def metrics(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


class BridgeService:
    """Runs until :meth:`stop`. ``module_factory`` makes a fresh, unopened module each connect."""

    def __init__(
        self,
        *,
        module_factory: Callable[[], FingerprintModule],
        module_id: str,
        db: FingerDB,
        store: PunchStore,
        clock: Clock,
        settings: BridgeSettings | None = None,
        classify: Admit = no_schedule,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.module_factory = module_factory
        self.module_id = module_id
        self.db = db
        self.store = store
        self.clock = clock
        self.settings = settings or BridgeSettings()
        self.classify = classify
        self._monotonic = monotonic
        self.module: FingerprintModule | None = None
        self.family = ""
        self.stats = BridgeStats()
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._backoff = self.settings.backoff_initial_s
        self._lifted = True  # the glass was seen empty since the last touch was acted on
        self._seen_version = -1
        self._reconciled_signature: str | None = None
        self._last_health = -1e9
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def __repr__(self) -> str:
        state = "connected" if self.module is not None else "disconnected"
        return f"BridgeService({self.module_id}, {state}, punches={self.stats.punches})"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Run in a background thread (the demo, tests); ``run()`` runs in the caller's."""
        self._thread = threading.Thread(target=self.run, name="fingerprint-bridge", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def run(self, on_turn: Callable[[], None] | None = None) -> None:
        """Turn until stopped; ``on_turn`` after each turn (the service's watchdog progress)."""
        log.info("fingerprint bridge for %s starting", self.module_id)
        try:
            while not self._stop.is_set():
                self.turn()
                if on_turn is not None:
                    on_turn()
        finally:
            self._disconnect()
            log.info("fingerprint bridge for %s stopped", self.module_id)

    def turn(self) -> None:
        """One step of the loop; never raises for a device or storage fault."""
        try:
            if self.module is None:
                self._connect()
            self._maybe_health()
            if self.db.data_version() != self._seen_version:
                self._seen_version = self.db.data_version()
                if self.db.signature(self.family) != self._reconciled_signature:
                    self.reconcile()
                pending = enrol_api.next_pending(self.db.conn)
                if pending is not None:
                    self.enrol(pending)
                    return
            self.identify_once()
        except WrongPassword as exc:
            self._fault(exc, retry_max=True)
        except (DeviceError, StorageError) as exc:
            self._fault(exc)

    # -- connection and faults ---------------------------------------------------------------

    def _connect(self) -> None:
        module = self.module_factory()
        info = module.open()
        self.module, self.family = module, info.family
        self.stats.connects += 1
        self._backoff = self.settings.backoff_initial_s
        self._reconciled_signature = None
        self._seen_version = -1
        self.reconcile()
        self._safe_led(Led.IDLE)
        self.last_error = None
        # health first: whoever waits on ``connected`` finds it recorded
        self._health(Health.OK, f"{info.family} module at {info.baud} baud, {len(self.db.slots(self.module_id))} templates")
        self.connected.set()

    def _disconnect(self) -> None:
        self.connected.clear()
        if self.module is not None:
            try:
                self.module.close()
            except PresensiError as exc:
                log.debug("closing the module: %s", exc)
            self.module = None

    def _fault(self, exc: PresensiError, *, retry_max: bool = False) -> None:
        self.stats.faults += 1
        self.last_error = str(exc)
        log.warning("fingerprint module fault (%s): %s; retrying in %.1f s", type(exc).__name__, exc, self._backoff)
        self._disconnect()
        try:
            self._health(Health.FAIL, "fingerprint module not answering; face and card still work", error=str(exc))
        except StorageError as store_exc:
            log.error("cannot report fingerprint health: %s", store_exc)
        delay = self.settings.backoff_max_s if retry_max else self._backoff
        self._stop.wait(delay)
        self._backoff = min(self._backoff * 2, self.settings.backoff_max_s)

    def _health(self, status: Health, detail: str, *, error: str | None = None) -> None:
        self._last_health = self._monotonic()
        report(self.db.conn, PART, status, detail, now=self.clock.now(), error=error, metrics=self.stats.metrics())

    def _maybe_health(self) -> None:
        if self._monotonic() - self._last_health >= self.settings.health_interval_s:
            self._health(Health.OK, f"{self.family} module connected, {len(self.db.slots(self.module_id))} templates")

    def _safe_led(self, state: Led) -> None:
        if self.module is None:
            return
        try:
            self.module.led(state)
        except ModuleRefused as exc:
            log.debug("LED %s refused: %s", state.value, exc)

    def _wait(self, seconds: float) -> None:
        self._stop.wait(seconds)

    # -- reconciliation ----------------------------------------------------------------------

    def reconcile(self) -> None:
        assert self.module is not None
        signature = self.db.signature(self.family)
        Reconciler(self.module, self.db, self.module_id, self.family).run()
        self._reconciled_signature = signature
        self.stats.reconciles += 1

    # -- identification ----------------------------------------------------------------------

    def identify_once(self) -> None:
        module = self.module
        assert module is not None
        seen = module.capture(0)
        if seen is Capture.NO_FINGER:
            self._lifted = True
            self._wait(self.settings.poll_s)
            return
        if not self._lifted:
            self._wait(self.settings.poll_s)  # the same touch is still on the glass
            return
        if seen is Capture.POOR:
            self._lifted = False
            self.stats.poor += 1
            self._safe_led(Led.REJECTED)
            self._feedback("poor", "Sidik jari kurang jelas — angkat dan letakkan lagi")
            return
        match = module.identify()
        self.stats.identifications += 1
        self._lifted = False
        employee = self.db.employee_for_slot(self.module_id, match.slot) if match else None
        if employee is None:
            self.stats.unknown += 1
            self._safe_led(Led.REJECTED)
            self._feedback("unknown", "Sidik jari tidak dikenali — gunakan wajah atau kartu")
            if match is not None:
                self._reconciled_signature = None  # an unmapped slot: tidy up on the next roster check
                self._seen_version = -1
            return
        self._punch(employee)

    def _punch(self, employee_id: str) -> None:
        now = self.clock.now()
        last = self.store.repeats_last(employee_id, now, self.settings.duplicate_interval_s)
        if last is not None:
            self.stats.duplicates += 1
            self._safe_led(Led.ACCEPTED)
            at = local_time(parse_instant(last.instant), self.store.zone)
            text = already_punched_text(at, zone_abbreviation(self.store.zone))
            self._feedback("duplicate", text, employee_id)
            return
        admitted = self.classify(employee_id, now)
        refused = refusal(admitted)
        if refused is not None:  # event mode: not a participant here, already counted, …
            self._safe_led(Led.REJECTED)
            self._feedback("refused", refused[1], employee_id)
            return
        try:
            punch = self.store.record(PunchRequest(employee_id=employee_id, method="finger", **request_fields(admitted)))
        except ClockError as exc:
            self._safe_led(Led.REJECTED)
            self._feedback("fault", exc.screen_text, employee_id)
            return
        self.stats.punches += 1
        self._safe_led(Led.ACCEPTED)
        said = status_text(admitted)
        status = f" — {said}" if said else ""
        self._feedback("accepted", f"Terima kasih, {self._name(employee_id)}{status}", employee_id, punch.seq)

    def _name(self, employee_id: str) -> str:
        return self.db.employee_name(employee_id) or employee_id

    def _feedback(self, kind: str, text: str, employee_id: str | None = None, punch_seq: int | None = None) -> None:
        self.db.feedback(kind, text, self.clock.now(), employee_id=employee_id, punch_seq=punch_seq)

    # -- enrolment ---------------------------------------------------------------------------

    def enrol(self, request: enrol_api.Enrolment) -> None:
        """Capture, combine, store, read the template back and save it for sync."""
        module = self.module
        assert module is not None
        now = self.clock.now
        if not enrol_api.update_enrolment(self.db.conn, request.id, state=enrol_api.CAPTURING, message="Menyiapkan", now=now()):
            return
        try:
            reconciler = Reconciler(module, self.db, self.module_id, self.family)
            old = self.db.template_for(request.employee_id, request.finger, self.family)
            for slot, template_id in self.db.slots(self.module_id).items():
                if template_id == old:
                    module.delete(slot)
                    self.db.unassign(self.module_id, slot)
            slot = reconciler.free_slot()
            module.enrol_begin(slot)
            self._safe_led(Led.ENROL)
            total = module.enrol_captures
            for step in range(1, total + 1):
                if not self._enrol_capture(request, step, total):
                    return
            duplicate = module.enrol_finish(slot)
            if duplicate is not None:
                owner = self.db.employee_for_slot(self.module_id, duplicate) or "tidak dikenal"
                self._enrol_end(request, enrol_api.FAILED, f"Sidik jari ini sudah terdaftar (pegawai {owner})")
                return
            raw = module.read_template(slot)
            template_id = self.db.save_enrolled(
                request.employee_id, request.finger, self.family, raw, module=self.module_id, slot=slot, now=now()
            )
        except ModuleRefused as exc:
            self._enrol_end(request, enrol_api.FAILED, f"Gagal: {exc.name} — ulangi pendaftaran")
            return
        except DeviceError:
            self._enrol_end(request, enrol_api.FAILED, "Pemindai terputus — ulangi pendaftaran")
            raise
        self._reconciled_signature = self.db.signature(self.family)
        self.stats.enrolments += 1
        self._lifted = False
        self._safe_led(Led.ACCEPTED)
        self._enrol_end(request, enrol_api.DONE, "Sidik jari terdaftar", template_id=template_id)
        log.info("enrolled finger %d of %s into slot %d of %s", request.finger, request.employee_id, slot, self.module_id)

    def _enrol_end(self, request: enrol_api.Enrolment, state: str, message: str, **extra: Any) -> None:
        enrol_api.update_enrolment(self.db.conn, request.id, state=state, message=message, now=self.clock.now(), **extra)
        if state != enrol_api.DONE:
            self._safe_led(Led.REJECTED)
        self._safe_led(Led.IDLE)

    def _enrol_capture(self, request: enrol_api.Enrolment, step: int, total: int) -> bool:
        module = self.module
        assert module is not None
        deadline = self._monotonic() + self.settings.enrol_timeout_s
        message = f"Letakkan jari ({step}/{total})"
        if not enrol_api.update_enrolment(
            self.db.conn, request.id, state=enrol_api.CAPTURING, message=message, now=self.clock.now()
        ):
            return False  # cancelled
        while True:
            if self._stop.is_set() or self._monotonic() > deadline:
                self._enrol_end(request, enrol_api.FAILED, "Waktu habis — ulangi pendaftaran")
                return False
            seen = module.capture(step)
            if seen is Capture.OK:
                break
            if seen is Capture.POOR:
                enrol_api.update_enrolment(
                    self.db.conn, request.id, state=enrol_api.CAPTURING, message="Kurang jelas — ulangi", now=self.clock.now()
                )
            self._wait(self.settings.poll_s)
        still_on = step < total
        enrol_api.update_enrolment(
            self.db.conn,
            request.id,
            state=enrol_api.CAPTURING,
            step=step,
            message="Angkat jari" if still_on else "Menyimpan",
            now=self.clock.now(),
        )
        while still_on and module.finger_present():
            if self._stop.is_set() or self._monotonic() > deadline:
                self._enrol_end(request, enrol_api.FAILED, "Waktu habis — ulangi pendaftaran")
                return False
            self._wait(self.settings.poll_s)
        return True
