"""``presensi run``: the kiosk's main process — camera and face pipeline, card reader, GPIO
feedback, the kiosk screen and the maintenance page — composed from the parts, each on its own
thread and its own database connection.

The fingerprint bridge and sync run as their own processes (``presensi bridge``, ``presensi
sync``); the screen learns of their punches from the database.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from core.admission import UnitAdmission, status_text
from core.notify import Notifier, Watchdog
from core.runtime import Runtime
from core.store.punches import Punch, PunchStore
from kiosk.camera import open_camera
from kiosk.camera.base import Camera, Frame
from kiosk.cards.base import CardReader
from kiosk.cards.factory import make_reader
from kiosk.cards.service import CardAttempt, CardService
from kiosk.cards.service import Outcome as CardOutcome
from kiosk.face.attempt import FaceAttempt, Outcome
from kiosk.face.pipeline import FrameResult, SkipLiveness
from kiosk.face.service import FaceService
from kiosk.feedback.gpio import build_feedback
from kiosk.liveness.base import LivenessEngine
from kiosk.liveness.engine import build_engine
from kiosk.privacy.evidence import EvidenceKeeper
from kiosk.privileged.client import HelperSystemActions
from kiosk.web.maintenance.actions import SimSystemActions
from kiosk.web.maintenance.fingers import finger_enrolment
from kiosk.web.ports import Decision, DecisionHub, EnrolResult, FaceBox, LatestFrame, Prompt, Services, TapCapture
from kiosk.web.runner import WebRunning, start_web

log = logging.getLogger(__name__)

_FACE_REASONS = {Outcome.UNKNOWN: "unknown_face", Outcome.SPOOF: "spoof", Outcome.DUPLICATE: "duplicate"}
_CARD_REASONS = {"unknown_card": "unknown_card", "inactive": "inactive", "clock": "clock", "storage": "storage"}


def _accepted(punch: Punch, name: str | None, text: str = "") -> Decision:
    return Decision(
        accepted=True,
        employee_id=punch.employee_id,
        name=name,
        method=punch.method,
        kind=punch.kind,
        status=punch.status,
        minutes=punch.minutes,
        instant=punch.instant,
        punch_id=punch.id,
        reason_text=text or None,
    )


def face_to_screen(decision: FaceAttempt) -> Decision:
    """What the screen shows for a face pipeline decision."""
    if decision.outcome is Outcome.ACCEPTED and decision.punch is not None:
        return _accepted(decision.punch, decision.name, decision.status_text)
    reason = _FACE_REASONS.get(decision.outcome, "error" if decision.reason == "store_error" else "policy")
    return Decision(
        False, employee_id=decision.employee_id, name=decision.name, method="face", reason=reason, reason_text=decision.message
    )


def card_to_screen(decision: CardAttempt) -> Decision | Prompt | None:
    """What the screen shows for a card decision (None: nothing to show)."""
    if decision.outcome is CardOutcome.ACCEPTED and decision.punch is not None:
        return _accepted(decision.punch, decision.employee_name, decision.status_text)
    if decision.outcome is CardOutcome.AWAITING_FACE:
        return Prompt("look_at_camera", decision.text or None)
    if decision.outcome in (CardOutcome.ENROLLED, CardOutcome.ENROL_REFUSED):
        return Prompt("tap_card", decision.text or None)
    reason = "duplicate" if decision.outcome is CardOutcome.DUPLICATE else _CARD_REASONS.get(decision.reason or "", "policy")
    return Decision(
        False,
        employee_id=decision.employee_id,
        name=decision.employee_name,
        method=decision.method or "card",
        reason=reason,
        reason_text=decision.text or None,
    )


class FaceEnrolmentPort:
    """The maintenance page's face enrolment (:class:`kiosk.web.ports.FaceEnrolment`), served by
    the running face service: samples from the kiosk camera, prompts on the kiosk screen."""

    def __init__(self, face: FaceService) -> None:
        self.face = face

    def __repr__(self) -> str:
        return f"FaceEnrolmentPort({self.face!r})"

    def enrol_face(self, employee_id: str, timeout_s: float) -> EnrolResult:
        result = self.face.enrol(employee_id, timeout_s)
        return EnrolResult(result.ok, result.message, result.detail())


@dataclass
class KioskUnit:
    """The parts of ``presensi run`` and their lifecycle. Collaborators may be passed in (the
    demo passes a simulated reader, a file camera and its documented liveness mode; tests pass
    port 0 for the web servers).

    With the face service running, the card service gets its 1:1 verifier (card then face) and
    the maintenance page its face enrolment from the kiosk camera."""

    runtime: Runtime
    camera: Camera | None = None
    reader: CardReader | None = None
    liveness: LivenessEngine | SkipLiveness | None = None
    hub: DecisionHub = field(default_factory=DecisionHub)
    frames: LatestFrame = field(default_factory=LatestFrame)
    tap_capture: TapCapture = field(default_factory=TapCapture)
    screen_port: int | None = None  # None: web.screen_port
    maintenance_port: int | None = None  # None: web.maintenance_port
    services: Services = field(default_factory=Services)
    face: FaceService | None = None
    cards: CardService | None = None
    web: WebRunning | None = None
    _stores: list[PunchStore] = field(default_factory=list)
    _started: bool = False

    def _own_store(self) -> PunchStore:
        store = self.runtime.new_store()
        self._stores.append(store)
        return store

    def start(self, *, web: bool = True) -> KioskUnit:
        """Start every configured part; if one cannot start, stop those already running.
        Starting a started unit does nothing."""
        if self._started:
            return self
        self._started = True
        try:
            return self._start(web=web)
        except BaseException:
            self.stop()
            raise

    def _start(self, *, web: bool) -> KioskUnit:
        rt, config = self.runtime, self.runtime.config
        sim = config.unit.hardware == "sim"
        reader = self.reader or make_reader(config.cards, rt.clock, simulated=sim)
        services = self.services
        services.cards = self.tap_capture if reader is not None else None
        if services.system is None:
            services.system = SimSystemActions(tuple(config.web.services)) if sim else HelperSystemActions(config.web.services)
        if services.fingers is None:
            services.fingers = finger_enrolment(rt)
        if web:  # first: the screen comes up before the camera and models load (faces joins below)
            self.web = start_web(
                rt,
                services=services,
                hub=self.hub,
                frames=self.frames,
                screen_port=self.screen_port,
                maintenance_port=self.maintenance_port,
            )
        if config.face.enabled:
            store = self._own_store()
            liveness = self.liveness or build_engine(config.liveness, clock=rt.clock, rng=random.SystemRandom())
            camera = self.camera or open_camera(config.camera, rt.clock, hardware=config.unit.hardware)
            self.face = FaceService(config, store, camera, liveness, rt.clock, classify=UnitAdmission(config, store, rt.clock))
            self.face.subscribe(self._face_decision)
            self.face.subscribe_prompts(self._face_prompt)
            self.face.subscribe_frames(self._preview)
            self.face.start()
            services.faces = FaceEnrolmentPort(self.face)
        if reader is not None:
            store = self._own_store()
            self.cards = CardService(
                reader,
                store,
                config=config.cards,
                clock=rt.clock,
                verify_face=self.face.verify_face if self.face is not None else None,
                classify=UnitAdmission(config, store, rt.clock),
                feedback=build_feedback(config.gpio, simulated=sim),
                tap_capture=self.tap_capture.offer,
                evidence=EvidenceKeeper(store.conn, rt.clock).keep_jpeg if config.privacy.evidence_photos else None,
            )
            self.cards.subscribe(self._card_decision)
            self.cards.start()
        return self

    def _preview(self, frame: Frame, result: FrameResult) -> None:
        boxes: tuple[FaceBox, ...] = ()
        if self.face is not None:
            boxes = tuple(
                FaceBox(*t.box, state="ok" if t.decision is not None and t.decision.outcome is Outcome.ACCEPTED else "tracking")
                for t in self.face.pipeline.tracker.tracks
            )
        self.frames.put(frame.image, boxes)

    def _face_decision(self, decision: FaceAttempt) -> None:
        self.hub.publish(face_to_screen(decision))

    def _face_prompt(self, prompt: str | None) -> None:
        if prompt:
            self.hub.publish(Prompt("face", prompt))

    def _card_decision(self, decision: CardAttempt) -> None:
        shown = card_to_screen(decision)
        if shown is not None:
            self.hub.publish(shown)

    def alive(self) -> bool:
        """True while every started part is running (the watchdog pings only then)."""
        parts: list[Any] = [p for p in (self.face, self.cards) if p is not None]
        face_ok = self.face is None or self.face.running
        cards_ok = self.cards is None or self.cards.running
        web_ok = self.web is None or self.web.alive()
        return bool(parts or self.web) and face_ok and cards_ok and web_ok

    def stop(self) -> None:
        for part in (self.web, self.cards, self.face):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # stopping must reach every part
                    log.exception("stopping %r failed", part)
        for store in self._stores:
            store.conn.close()
        self._stores.clear()
        self._started = False

    def __enter__(self) -> KioskUnit:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_until(unit: KioskUnit, stop: threading.Event, *, tick_s: float = 5.0) -> int:
    """The service's main loop: watchdog pings while every part runs; the clock keeper's tick
    (NTP anchors, punch corrections) every ``tick_s``."""

    runtime = unit.runtime
    notifier = Notifier.from_env()
    keeper = runtime.clock_state(runtime.connect())
    with Watchdog(notifier, runtime.clock) as watchdog:
        notifier.ready("kiosk berjalan")
        while not stop.wait(tick_s):
            if not unit.alive():
                log.error("a part of the kiosk stopped; exiting so systemd restarts the service")
                return 1
            tick = getattr(keeper, "tick", None)
            if tick is not None:
                try:
                    tick()
                except Exception:
                    log.exception("the clock keeper's tick failed")
            watchdog.progress()
    return 0


__all__ = ["FaceEnrolmentPort", "KioskUnit", "card_to_screen", "face_to_screen", "run_until", "status_text"]
