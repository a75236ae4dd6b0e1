"""What the web side needs from the live services, as small interfaces.

The services (face pipeline, card readers, fingerprint bridge, sync, systemd) implement or feed
these; the web app is built against them and works, with the matching features shown as "not
connected", when one is absent.

* :class:`DecisionHub` — services ``publish`` a :class:`Decision` (a punch accepted or refused)
  or a :class:`Prompt` (quality or challenge instruction); the kiosk screen's live channel reads.
* :class:`FrameSource` — the latest camera frame and face boxes for the preview.
* :class:`CardEnrolment`, :class:`FaceEnrolment`, :class:`FingerEnrolment` — enrolment from the
  maintenance page; :class:`SystemActions` — restart a unit, reboot, set the time.
* :class:`Services` — the bundle of the above handed to the app factory.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    """What the employee should see after a punch attempt.

    ``accepted`` with the punch's facts, or refused with a ``reason`` code (see
    ``kiosk.web.screen.texts.REASONS``: unknown_face, unknown_card, spoof, duplicate, clock,
    storage, inactive, policy, outside_window, finger_unknown, error) and optionally the
    service's own ``reason_text`` (Bahasa Indonesia). Never carries images or templates.
    """

    accepted: bool
    employee_id: str | None = None
    name: str | None = None
    method: str | None = None  # face | card | finger | card+face | card+finger | manual
    kind: str | None = None  # masuk | pulang | apel | senam | tausiyah | lainnya
    status: str = ""  # tepat_waktu | terlambat | pulang_cepat | di_luar_jadwal | lembur | hadir | tambahan
    minutes: int = 0
    instant: str | None = None  # RFC 3339 UTC of the punch
    punch_id: str | None = None  # the punch's UUID: the hub shows each punch once
    reason: str | None = None
    reason_text: str | None = None


@dataclass(frozen=True)
class Prompt:
    """An instruction while a face is being read: ``code`` from ``texts.PROMPTS`` (move_closer,
    too_dark, too_bright, blurry, look_straight, hold_still, turn_left, turn_right, blink,
    look_at_camera, tap_card, place_finger) or a service's own ``text``."""

    code: str
    text: str | None = None


Message = Decision | Prompt


class DecisionHub:
    """Thread-safe fan-out from services to the screens watching. ``publish`` never blocks; a
    decision whose ``punch_id`` was already published is dropped (the database watcher and the
    service that made the punch may both report it)."""

    def __init__(self, remember: int = 512) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[Message], None]] = []
        self._seen: deque[str] = deque(maxlen=remember)
        self._seen_set: set[str] = set()
        self.last: Message | None = None

    def __repr__(self) -> str:
        return f"DecisionHub(subscribers={len(self._subscribers)})"

    def publish(self, message: Message) -> bool:
        """Send to every subscriber; False when it was a duplicate punch and dropped."""
        with self._lock:
            if isinstance(message, Decision) and message.punch_id:
                if message.punch_id in self._seen_set:
                    return False
                if len(self._seen) == self._seen.maxlen:
                    self._seen_set.discard(self._seen[0])
                self._seen.append(message.punch_id)
                self._seen_set.add(message.punch_id)
            self.last = message
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(message)
            except Exception:
                log.exception("a screen subscriber failed; dropping the message for it")
        return True

    def subscribe(self, callback: Callable[[Message], None]) -> Callable[[], None]:
        """Call ``callback`` (from the publisher's thread) for each message; returns the unsubscribe."""
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe


# -- camera preview ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FaceBox:
    """A face in the frame (full-frame pixels, face_recognition's order) and how it is doing."""

    top: int
    right: int
    bottom: int
    left: int
    state: str = "tracking"  # tracking | ok | refused


@dataclass(frozen=True)
class PreviewFrame:
    image: npt.NDArray[np.uint8]  # BGR; shown on the kiosk screen only, never stored or logged
    boxes: tuple[FaceBox, ...] = ()
    seq: int = 0


class FrameSource(Protocol):
    def latest(self) -> PreviewFrame | None:
        """The newest frame, or None when the camera has given none yet."""


class LatestFrame:
    """The frame source the face pipeline feeds: ``put`` each frame (and its boxes); the
    preview reads ``latest``. Holds one frame; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frame: PreviewFrame | None = None
        self._seq = 0

    def put(self, image: npt.NDArray[np.uint8], boxes: tuple[FaceBox, ...] = ()) -> None:
        with self._lock:
            self._seq += 1
            self._frame = PreviewFrame(image, boxes, self._seq)

    def latest(self) -> PreviewFrame | None:
        with self._lock:
            return self._frame


# -- enrolment and system actions -----------------------------------------------------------------


@dataclass(frozen=True)
class EnrolResult:
    ok: bool
    message: str  # plain language (Bahasa Indonesia) for the page
    detail: dict[str, float | int | str] = field(default_factory=dict)  # counts and scores only


class CardEnrolment(Protocol):
    def capture_next_uid(self, timeout_s: float) -> str | None:
        """Divert the next tap on the reader from punching to here and return its UID (any
        form the reader gives; the page normalises it); None when nobody tapped in time."""


class FaceEnrolment(Protocol):
    def enrol_face(self, employee_id: str, timeout_s: float) -> EnrolResult:
        """Take samples of the person in front of the kiosk camera (quality prompts go to the
        hub as :class:`Prompt`) and store templates for ``employee_id``."""


class FingerEnrolment(Protocol):
    def enrol_finger(self, employee_id: str, finger: int, timeout_s: float) -> EnrolResult:
        """Ask the fingerprint bridge to enrol ``finger`` (0–9) of ``employee_id``."""


class SystemActions(Protocol):
    def restart_service(self, unit: str) -> None:
        """Restart one systemd unit (only names from the configuration reach here)."""

    def reboot(self) -> None: ...

    def set_time(self, instant: datetime) -> None:
        """Step the wall clock to ``instant`` (aware)."""


@dataclass
class Services:
    """Live services the maintenance page can call; None: not connected in this process."""

    cards: CardEnrolment | None = None
    faces: FaceEnrolment | None = None
    fingers: FingerEnrolment | None = None
    system: SystemActions | None = None


class TapCapture:
    """A :class:`CardEnrolment` for a card service: the service calls ``offer(uid)`` for each
    tap before punching, and skips the punch when it returns True (the tap was for enrolment)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed = 0
        self._uid: str | None = None

    def __repr__(self) -> str:
        return f"TapCapture(armed={self._armed > 0})"

    @property
    def armed(self) -> bool:
        with self._cond:
            return self._armed > 0

    def offer(self, uid: str) -> bool:
        with self._cond:
            if self._armed <= 0 or self._uid is not None:
                return False
            self._uid = uid
            self._cond.notify_all()
            return True

    def capture_next_uid(self, timeout_s: float) -> str | None:
        with self._cond:
            self._armed += 1
            self._uid = None
            self._cond.notify_all()
            try:
                self._cond.wait_for(lambda: self._uid is not None, timeout=timeout_s)
                uid, self._uid = self._uid, None
                return uid
            finally:
                self._armed -= 1

    def wait_armed(self, timeout_s: float) -> bool:
        """True once a capture is waiting (for simulators and tests that tap on cue)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._armed > 0, timeout=timeout_s)
