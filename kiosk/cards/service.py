"""The card service: reads the reader, applies the card policy, records punches, tells subscribers.

One thread owns the reader and a :class:`~core.store.punches.PunchStore` of its own. A reader
that goes away (unplugged, pcscd restarted) is closed and reopened with exponential backoff;
the part ``card_reader`` in the health table says FAIL while it is gone and, once it is back,
how long the gap was (``last_gap_s``, ``gaps``).

Subscribers (the kiosk screen, the demo) get a :class:`CardAttempt` for every tap, on the
service's thread: keep callbacks short and hand work to your own thread or loop.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core import health
from core.admission import Admit, Verdict, already_punched_text, no_schedule, refusal, request_fields
from core.card_uid import masked_uid
from core.clock import Clock, local_time, zone_abbreviation
from core.config import CardsConfig
from core.errors import ClockError, PresensiError, StorageError
from core.schedule.classify import Classification as WorkCodeClassification
from core.store.cards import CardBindingRefused, CardPolicy, Employee, bind_card, find_card
from core.store.punches import Punch, PunchRequest, PunchStore
from kiosk.cards.base import CardEvent, CardEventKind, CardReader
from kiosk.cards.enrol import CardEnrolment, EnrolResult, EnrolStatus
from kiosk.cards.policy import TEXTS, FaceVerification, FaceVerifier, Reason, is_lookalike, judge_face, resolve
from kiosk.feedback.gpio import Feedback, NullFeedback

log = logging.getLogger(__name__)

HEALTH_PART = "card_reader"
HEALTH_REFRESH_S = 60.0
POLL_S = 0.25


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"  # a punch was recorded (``punch``)
    DUPLICATE = "duplicate"  # the employee punched moments ago; that punch is shown (``punch``)
    REJECTED = "rejected"  # nothing recorded (``reason``)
    AWAITING_FACE = "awaiting_face"  # card then face: the card is known, now look at the camera
    ENROLLED = "enrolled"  # tap to register: the card now belongs to ``employee_id``
    ENROL_REFUSED = "enrol_refused"  # tap to register refused (``reason``)


@dataclass(frozen=True)
class CardAttempt:
    """What one tap came to: ``text`` (Bahasa Indonesia) and ``text_en``. The screen is told the
    path-neutral :class:`kiosk.web.ports.Decision` made from it (``kiosk.unit.card_to_screen``)."""

    outcome: Outcome
    at: datetime  # UTC
    reader: str
    uid: str | None  # normalised; show :func:`~core.card_uid.masked_uid` of it, never log it whole
    employee_id: str | None = None
    employee_name: str | None = None
    punch: Punch | None = None
    reason: str | None = None  # a :class:`~kiosk.cards.policy.Reason` value, or an enrolment reason
    text: str = ""
    text_en: str = ""
    method: str | None = None  # card | card+face
    status_text: str = ""  # the schedule's line, e.g. "Masuk – tepat waktu" / "Terlambat 12 menit" (when it gives one)
    status_text_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the card UID masked)."""
        punch = self.punch
        return {
            "outcome": self.outcome.value,
            "at": self.at.isoformat(),
            "reader": self.reader,
            "card": masked_uid(self.uid) if self.uid else None,
            "employee_id": self.employee_id,
            "employee_name": self.employee_name,
            "reason": self.reason,
            "text": self.text,
            "text_en": self.text_en,
            "method": self.method,
            "status_text": self.status_text,
            "status_text_en": self.status_text_en,
            "punch": None
            if punch is None
            else {
                "seq": punch.seq,
                "id": punch.id,
                "instant": punch.instant,
                "zone": punch.zone,
                "kind": punch.kind,
                "status": punch.status,
                "minutes": punch.minutes,
                "method": punch.method,
            },
        }


def _status_texts(result: Verdict) -> tuple[str, str]:
    text = getattr(result, "text", None)
    if not callable(text):
        return "", ""
    return str(text("id")), str(text("en"))


@dataclass(frozen=True)
class ReaderStatus:
    connected: bool
    reader: str
    since: datetime | None  # when it connected or went away
    gaps: int  # times it went away and came back
    last_gap_s: float | None
    taps: int
    last_error: str | None


Subscriber = Callable[[CardAttempt], None]


class CardService:
    """Owns ``reader`` and ``store`` (no other thread may use them) while running."""

    def __init__(
        self,
        reader: CardReader,
        store: PunchStore,
        *,
        config: CardsConfig,
        clock: Clock,
        verify_face: FaceVerifier | None = None,
        classify: Admit = no_schedule,
        feedback: Feedback | None = None,
        enrolment: CardEnrolment | None = None,
        tap_capture: Callable[[str], bool] | None = None,
        evidence: Callable[[Punch, bytes], bool] | None = None,
    ) -> None:
        """``evidence(punch, jpeg)`` keeps the photo of a card-then-face punch
        (``kiosk.privacy.evidence.EvidenceKeeper.keep_jpeg``; privacy.evidence_photos)."""
        self.reader = reader
        self.evidence = evidence
        self.tap_capture = tap_capture  # the maintenance page's "tap to register": True = taken
        self.store = store
        self.config = config
        self.clock = clock
        self.verify_face = verify_face
        self.classify = classify
        self.feedback: Feedback = feedback or NullFeedback()
        self.enrolment = enrolment or CardEnrolment(clock)
        self._subscribers: list[Subscriber] = []
        self._sub_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._connected = False
        self._visible: bool | None = None  # what waiters see: set only after health has been recorded
        self._since: datetime | None = None
        self._down_since_ns: int | None = None
        self._gaps = 0
        self._last_gap_s: float | None = None
        self._taps = 0
        self._last_error: str | None = None
        self._health_at_ns = 0
        self._health_detail: tuple[health.Health, str] = (health.Health.WARN, "starting")

    # -- subscribers ------------------------------------------------------------------------

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(decision)`` for every decision; returns a function that unsubscribes."""
        with self._sub_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._sub_lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def _publish(self, decision: CardAttempt) -> None:
        with self._sub_lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(decision)
            except Exception:
                log.exception("a card decision subscriber failed")

    # -- running ----------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> CardService:
        if self._thread is not None:
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="card-service", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self.reader.wake()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout_s)
            if thread.is_alive():
                log.warning("the card service did not stop within %.1f s", timeout_s)

    def __enter__(self) -> CardService:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def status(self) -> ReaderStatus:
        with self._cond:
            return ReaderStatus(
                self._connected, self.reader.name, self._since, self._gaps, self._last_gap_s, self._taps, self._last_error
            )

    def wait_connected(self, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._visible is True, timeout=timeout_s)

    def wait_disconnected(self, timeout_s: float) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._visible is False, timeout=timeout_s)

    def _run(self) -> None:
        backoff = self.config.reconnect_initial_s
        while not self._stop.is_set():
            try:
                self.reader.open()
            except PresensiError as exc:
                self._went_down(exc)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.config.reconnect_max_s)
                continue
            self._came_up()
            backoff = self.config.reconnect_initial_s
            try:
                self._serve()
            finally:
                self.reader.close()
        with self._cond:
            self._connected = False
            self._visible = None
            self._cond.notify_all()

    def _serve(self) -> None:
        """Read and handle events until the reader fails or the service stops."""
        while not self._stop.is_set():
            try:
                event = self.reader.read(POLL_S)
            except PresensiError as exc:
                self._went_down(exc)
                return
            if event is not None:
                try:
                    self._handle(event)
                except Exception:  # one bad tap must not stop the reader
                    log.exception("handling a card tap failed")
                    self._refuse(event, Reason.STORAGE)
            self._refresh_health()

    # -- health -----------------------------------------------------------------------------

    def _went_down(self, exc: Exception) -> None:
        now_ns = self.clock.monotonic_ns()
        first = self._connected or self._down_since_ns is None
        if first:
            with self._cond:
                self._connected = False
                self._down_since_ns = now_ns
                self._since = self.clock.now()
                self._last_error = str(exc)
            log.warning("card reader %s unavailable: %s", self.reader.name, exc)
            self._report(health.Health.FAIL, f"{self.reader.name} is not available: {exc}", error=str(exc))
        else:
            log.debug("card reader still unavailable: %s", exc)
            self._refresh_health()
        with self._cond:  # waiters see the change only once health says so
            self._connected = False
            self._visible = False
            self._cond.notify_all()

    def _came_up(self) -> None:
        now_ns = self.clock.monotonic_ns()
        with self._cond:
            down_since, self._down_since_ns = self._down_since_ns, None
            was_down_since = self._since
            self._since = self.clock.now()
            if down_since is not None and was_down_since is not None:
                self._gaps += 1
                self._last_gap_s = (now_ns - down_since) / 1e9
            self._connected = True
        if down_since is not None and self._last_gap_s is not None and was_down_since is not None:
            detail = (
                f"{self.reader.name} connected; it was away {self._last_gap_s:.1f} s "
                f"(from {was_down_since.isoformat(timespec='seconds')})"
            )
            log.info("card reader back after %.1f s: %s", self._last_gap_s, self.reader.name)
        else:
            detail = f"{self.reader.name} connected"
            log.info("card reader connected: %s", self.reader.name)
        self._report(health.Health.OK, detail)
        with self._cond:
            self._visible = True
            self._cond.notify_all()

    def _metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {"connected": float(self._connected), "gaps": float(self._gaps), "taps": float(self._taps)}
        if self._last_gap_s is not None:
            metrics["last_gap_s"] = round(self._last_gap_s, 3)
        if self._down_since_ns is not None:
            metrics["down_s"] = round((self.clock.monotonic_ns() - self._down_since_ns) / 1e9, 3)
        return metrics

    def _report(self, status: health.Health, detail: str, error: str | None = None) -> None:
        self._health_at_ns = self.clock.monotonic_ns()
        self._health_detail = (status, detail)
        try:
            health.report(
                self.store.conn, HEALTH_PART, status, detail, now=self.clock.now(), error=error, metrics=self._metrics()
            )
        except StorageError as exc:
            log.warning("cannot record the card reader's health: %s", exc)

    def _refresh_health(self) -> None:
        if self.clock.monotonic_ns() - self._health_at_ns < HEALTH_REFRESH_S * 1e9:
            return
        status, detail = self._health_detail
        self._report(status, detail)

    # -- decisions --------------------------------------------------------------------------

    def _handle(self, event: CardEvent) -> None:
        if event.kind is CardEventKind.REMOVED:
            return
        with self._cond:
            self._taps += 1
        if event.kind is CardEventKind.UNREADABLE or event.uid is None:
            log.info("unreadable card on %s: %s", event.reader, event.detail)
            self._refuse(event, Reason.UNREADABLE)
            return
        if self.tap_capture is not None and self.tap_capture(event.uid):
            log.info("card on %s taken for registration on the maintenance page", event.reader)
            self.feedback.attention()
            return
        armed = self.enrolment.take()
        if armed is not None:
            self._enrol(event, *armed)
            return
        conn = self.store.conn
        check = resolve(find_card(conn, event.uid), CardPolicy(self.config.policy), lambda e: is_lookalike(conn, e))
        if check.refusal is not None or check.employee is None or check.policy is None:
            self._refuse(event, check.refusal or Reason.UNKNOWN_CARD, check.employee)
            return
        employee = check.employee
        last = self.store.repeats_last(employee.id, self.clock.now(), self.config.duplicate_interval_s)
        if last is not None:
            self._duplicate(event, employee, last)
            return
        request_extra: dict[str, Any] = {}
        method = "card"
        photo = b""
        if check.policy is CardPolicy.CARD_FACE:
            verification = self._verify_face(event, employee)
            if verification is None:
                return
            method = "card+face"
            request_extra = {
                "liveness_verdict": verification.liveness_verdict,
                "liveness_scores": dict(verification.liveness_scores),
                "match_distance": verification.distance,
            }
            photo = verification.photo
        punch = self._punch(event, employee, method, request_extra)
        if punch is not None and photo and self.evidence is not None:
            try:  # after the decision is shown; a photo never costs the punch
                self.evidence(punch, photo)
            except Exception:
                log.exception("evidence photo of punch seq %d not kept (the punch is recorded)", punch.seq)

    def _verify_face(self, event: CardEvent, employee: Employee) -> FaceVerification | None:
        if self.verify_face is None:
            log.warning("card then face for %s, but no face verifier is running", employee.id)
            self._refuse(event, Reason.FACE_UNAVAILABLE, employee)
            return None
        self.feedback.attention()
        self._publish(
            CardAttempt(
                Outcome.AWAITING_FACE,
                self.clock.now(),
                event.reader,
                event.uid,
                employee.id,
                employee.name,
                text=f"Halo, {employee.name} — lihat ke kamera",
                text_en=f"Hello, {employee.name} — look at the camera",
                method="card+face",
            )
        )
        try:
            verification = self.verify_face(employee.id, timeout_s=self.config.face_timeout_s)
        except PresensiError as exc:
            log.warning("face verification for %s failed: %s", employee.id, exc)
            self._refuse(event, Reason.FACE_UNAVAILABLE, employee)
            return None
        reason = judge_face(verification)
        if reason is not None:
            log.info("card then face refused for %s: %s (%s)", employee.id, reason, verification.detail)
            self._refuse(event, reason, employee, method="card+face")
            return None
        return verification

    def _punch(self, event: CardEvent, employee: Employee, method: str, extra: dict[str, Any]) -> Punch | None:
        """Record and show the punch; the punch, or None when it was refused."""
        now = self.clock.now()
        classification = self.classify(employee.id, now)
        refused = refusal(classification)
        if refused is not None:  # event mode: not a participant here, already counted, …; or the work code's limit
            why = Reason.SCHEDULE if isinstance(classification, WorkCodeClassification) else Reason.EVENT
            self._refuse(event, why, employee, method=method, text=refused[1])
            return None
        status_text, status_text_en = _status_texts(classification)
        try:
            punch = self.store.record(
                PunchRequest(employee_id=employee.id, method=method, **request_fields(classification), **extra)
            )
        except ClockError as exc:
            self._refuse(event, Reason.CLOCK, employee, method=method, text=exc.screen_text)
            return None
        except StorageError as exc:
            log.error("card punch for %s not recorded: %s", employee.id, exc)
            self._refuse(event, Reason.STORAGE, employee, method=method, text=exc.screen_text)
            return None
        clock_text = self._clock_text(punch)
        self.feedback.accepted()
        self._publish(
            CardAttempt(
                Outcome.ACCEPTED,
                punch.at,
                event.reader,
                event.uid,
                employee.id,
                employee.name,
                punch=punch,
                text=f"Terima kasih, {employee.name} — {clock_text}",
                text_en=f"Thank you, {employee.name} — {clock_text}",
                method=method,
                status_text=status_text,
                status_text_en=status_text_en,
            )
        )
        return punch

    def _duplicate(self, event: CardEvent, employee: Employee, last: Punch) -> None:
        self.feedback.accepted()
        self._publish(
            CardAttempt(
                Outcome.DUPLICATE,
                self.clock.now(),
                event.reader,
                event.uid,
                employee.id,
                employee.name,
                punch=last,
                text=already_punched_text(local_time(last.at, last.zone), zone_abbreviation(last.zone)),
                text_en=already_punched_text(local_time(last.at, last.zone), zone_abbreviation(last.zone), "en"),
                method=last.method,
            )
        )

    def _refuse(
        self,
        event: CardEvent,
        reason: Reason,
        employee: Employee | None = None,
        *,
        method: str | None = None,
        text: str | None = None,
    ) -> None:
        text_id, text_en = TEXTS[reason]
        self.feedback.rejected()
        if reason is Reason.UNKNOWN_CARD and event.uid:
            log.info("unknown card %s on %s", masked_uid(event.uid), event.reader)
        self._publish(
            CardAttempt(
                Outcome.REJECTED,
                self.clock.now(),
                event.reader,
                event.uid,
                employee.id if employee else None,
                employee.name if employee else None,
                reason=reason.value,
                text=text or text_id,
                text_en=text_en,
                method=method,
            )
        )

    def _enrol(self, event: CardEvent, ticket: int, employee_id: str, actor: str) -> None:
        uid = event.uid or ""
        try:
            employee, new = bind_card(self.store.conn, uid, employee_id, actor=actor, now=self.clock.now())
        except CardBindingRefused as exc:
            owner = exc.employee.name if exc.employee else None
            texts = {
                "taken": (f"Kartu sudah terdaftar atas nama {owner}", f"Card already registered to {owner}"),
                "inactive": ("Pegawai tidak aktif — aktifkan dulu", "Employee inactive — activate them first"),
            }.get(exc.reason, ("Pegawai tidak ditemukan", "Employee not found"))
            result = EnrolResult(ticket, EnrolStatus.REFUSED, employee_id, owner, uid, exc.reason, *texts)
            self.enrolment.complete(result)
            self.feedback.rejected()
            self._publish(
                CardAttempt(
                    Outcome.ENROL_REFUSED,
                    self.clock.now(),
                    event.reader,
                    uid,
                    employee_id,
                    None,
                    reason=exc.reason,
                    text=texts[0],
                    text_en=texts[1],
                )
            )
            return
        except StorageError as exc:
            self.enrolment.complete(
                EnrolResult(ticket, EnrolStatus.REFUSED, employee_id, None, uid, "storage", exc.screen_text, str(exc))
            )
            self.feedback.rejected()
            return
        status = EnrolStatus.REGISTERED if new else EnrolStatus.ALREADY
        text = f"Kartu terdaftar untuk {employee.name}" if new else f"Kartu ini sudah milik {employee.name}"
        text_en = f"Card registered to {employee.name}" if new else f"This card already belongs to {employee.name}"
        self.enrolment.complete(EnrolResult(ticket, status, employee.id, employee.name, uid, None, text, text_en))
        self.feedback.accepted()
        self._publish(
            CardAttempt(
                Outcome.ENROLLED, self.clock.now(), event.reader, uid, employee.id, employee.name, text=text, text_en=text_en
            )
        )

    def _clock_text(self, punch: Punch) -> str:
        local = local_time(punch.at, punch.zone)
        return f"{local:%H:%M} {zone_abbreviation(punch.zone)}"

    def __repr__(self) -> str:
        state = "running" if self._thread is not None else "stopped"
        return f"CardService({self.reader!r}, {state}, policy={self.config.policy})"
