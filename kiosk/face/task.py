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
from typing import TYPE_CHECKING, Generic, TypeVar

from kiosk.camera.base import Frame

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
