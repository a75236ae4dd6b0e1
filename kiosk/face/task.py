"""A camera task: a mode that borrows the face service's camera for a while and answers one caller.

Card then face (:mod:`kiosk.face.verify`) and enrolment from the kiosk camera
(:mod:`kiosk.face.enrol_live`) are camera tasks. The face service runs a task on its own thread,
frame by frame, *instead of* 1:N identification, so nobody is punched by face while a task looks
at them, and dlib and the pipeline's tracks stay on one thread. The caller (the card service's
thread, a maintenance page request) blocks in :meth:`CameraTask.wait` until the task has its
result.

A task's deadline is on the injected clock (``begin`` gets its monotonic time), so a test moves
time forward instead of waiting for it.
"""

from __future__ import annotations

import abc
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

import cv2
import numpy as np

from kiosk.camera.base import Frame
from kiosk.face.detect import RGB, to_rgb
from kiosk.face.pipeline import FrameResult
from kiosk.face.quality import Prompt, Quality, assess
from kiosk.liveness.base import Box, FaceSample, LivenessEngine, LivenessResult, LivenessSession

if TYPE_CHECKING:
    from kiosk.face.pipeline import FacePipeline, FrameResult

log = logging.getLogger(__name__)

R = TypeVar("R")


class CameraTask(abc.ABC, Generic[R]):
    """One job for the face service thread, with one result for one waiting caller."""

    #: A short name for logs and the reason recorded on the approach it handled.
    name = "task"

    def __init__(self, timeout_s: float) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.timeout_s = timeout_s
        self.deadline_ns: int | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: R | None = None

    def __repr__(self) -> str:
        state = "done" if self.done else ("running" if self.deadline_ns is not None else "waiting")
        return f"{type(self).__name__}({state}, timeout={self.timeout_s:g}s)"

    # -- on the face service thread -----------------------------------------------------------

    def begin(self, pipeline: FacePipeline, now_ns: int) -> None:
        """Start: the deadline runs from ``now_ns``; :meth:`prepare` may finish the task at once."""
        self.deadline_ns = now_ns + int(self.timeout_s * 1e9)
        self.prepare(pipeline)

    def expired(self, now_ns: int) -> bool:
        return self.deadline_ns is not None and now_ns > self.deadline_ns

    @abc.abstractmethod
    def prepare(self, pipeline: FacePipeline) -> None:
        """Look up what the task needs (templates, the liveness engine); finish when it cannot run."""

    @abc.abstractmethod
    def process(self, frame: Frame, pipeline: FacePipeline) -> FrameResult:
        """Look at one frame; :meth:`finish` once there is an answer. Returns what the screen shows."""

    @abc.abstractmethod
    def timed_out(self) -> R:
        """The result when the deadline passed without an answer."""

    @abc.abstractmethod
    def failed(self, detail: str) -> R:
        """The result when the task cannot go on (camera fault, service stopping); ``detail`` for the log."""

    def busy(self, other: str) -> R:
        """The result when another task has the camera."""
        return self.failed(f"the camera is busy with {other}")

    # -- either side --------------------------------------------------------------------------

    def finish(self, result: R) -> bool:
        """Set the result; the first one wins (the service and a giving-up caller may race)."""
        with self._lock:
            if self._done.is_set():
                return False
            self._result = result
            self._done.set()
        return True

    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def result(self) -> R | None:
        with self._lock:
            return self._result

    def wait(self, timeout_s: float) -> R | None:
        """Block until the task has its result (None if ``timeout_s`` real seconds pass first)."""
        self._done.wait(timeout_s)
        return self.result


@dataclass(frozen=True)
class Look:
    """The one face in view on a frame: its box, quality and the approach's liveness so far."""

    t: int
    rgb: RGB
    faces: int
    track_id: int
    box: Box
    quality: Quality
    prompt: str | None  # the quality gate's, if any
    liveness: LivenessResult | None


class FaceTask(CameraTask[R]):
    """A camera task about the one person in front of the camera (card then face, enrolment):
    the same rules as 1:N punching for what counts as a usable face — one dominant face, the
    quality gates, liveness fed with every usable frame of the approach."""

    def __init__(self, timeout_s: float) -> None:
        super().__init__(timeout_s)
        self.frames = 0
        self._track_id: int | None = None
        self._session: LivenessSession | None = None
        self._liveness: LivenessResult | None = None
        self._missing = "no face seen"  # what kept the task from an answer, for the timeout

    def new_approach(self) -> None:
        """A different face is in view (or the first one): the task's own per-approach state
        starts again. Liveness starts again in any case."""

    def look(self, frame: Frame, pipeline: FacePipeline) -> Look | FrameResult:
        """The face to work on, or what the screen shows when there is none to work on."""

        self.frames += 1
        t = frame.t_mono_ns
        rgb = to_rgb(frame.image)
        seen = pipeline.follow(rgb, t)
        if not seen:
            self._missing = "no face seen"
            return FrameResult(t, 0, Prompt.LOOK_AT_CAMERA.value)
        dominant = max(seen, key=lambda tr: tr.area)
        config = pipeline.config
        if any(tr is not dominant and tr.area >= config.dominance_ratio * dominant.area for tr in seen):
            self._missing = "more than one face"
            return FrameResult(t, len(seen), Prompt.ONE_PERSON.value, dominant.id)
        if dominant.id != self._track_id:
            self.new_approach()
            self._track_id, self._session, self._liveness = dominant.id, None, None
        landmarks = pipeline.detector.landmarks(rgb, dominant.box)
        gray = np.asarray(cv2.cvtColor(frame.image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        quality = assess(gray, dominant.box, landmarks, config)
        if not quality.ok:
            self._missing = f"quality: {quality.reason}"
        engine = pipeline.liveness
        if isinstance(engine, LivenessEngine) and quality.for_liveness:
            if self._session is None:  # the face confirms a card or is enrolled by an administrator: 1:1
                self._session = engine.new_session(one_to_one=True)
            self._session.add(FaceSample(frame.image, dominant.box, landmarks, t))
            self._liveness = self._session.result()
        prompt = quality.prompt.value if quality.prompt else None
        return Look(t, rgb, len(seen), dominant.id, dominant.box, quality, prompt, self._liveness)
