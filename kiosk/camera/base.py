"""The camera seam: one interface for every frame source, and the capture thread they share.

A :class:`Camera` opens its device in :meth:`Camera.open` (or ``with camera:``), runs a capture
thread that keeps **only the newest frame** (a slot, never a queue: a slow pipeline skips stale
frames instead of falling behind), and closes idempotently. Every :class:`Frame` carries the
monotonic time of its capture from the injected clock, and a sequence number so a reader can
tell a new frame from one it has already seen.

A driver implements three methods: ``_open_device``, ``_grab`` (one frame, BGR uint8, or None
when the source has ended) and ``_close_device``. Sources that are not paced by hardware (files,
the simulator) set ``paced = True`` and the thread releases a frame every ``1 / fps`` seconds.
"""

from __future__ import annotations

import abc
import enum
import logging
import threading
import time
from dataclasses import dataclass
from types import TracebackType

import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import DeviceError, DeviceTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Frame:
    """One captured frame: BGR uint8, the monotonic capture time, a per-camera sequence number."""

    image: npt.NDArray[np.uint8]
    t_mono_ns: int
    seq: int

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])


class CameraState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    ENDED = "ended"  # a file source without loop has played to its end
    FAILED = "failed"


class Camera(abc.ABC):
    """A frame source with a capture thread that keeps only the newest frame."""

    #: What ``camera.source`` names this driver.
    type_key: str = ""
    #: True when the thread must pace frames itself (files, the simulator).
    paced: bool = False

    def __init__(self, clock: Clock, *, fps: float = 15.0) -> None:
        if fps <= 0:
            raise ValueError("fps must be positive")
        self.clock = clock
        self.fps = float(fps)
        self.state = CameraState.CLOSED
        self.last_error: str | None = None
        self.frames_captured = 0
        self._latest: Frame | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._fps_window: list[int] = []

    # -- what a driver implements ----------------------------------------------------------

    @abc.abstractmethod
    def _open_device(self) -> None:
        """Open the device; raise DeviceError saying what to check when it cannot be opened."""

    @abc.abstractmethod
    def _grab(self) -> npt.NDArray[np.uint8] | None:
        """The next frame (BGR uint8), or None when the source has ended. Called on the capture thread."""

    @abc.abstractmethod
    def _close_device(self) -> None:
        """Release the device. Called once, after the thread has stopped."""

    def describe(self) -> str:
        """The device, for repr and health (no images)."""
        return self.type_key

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> Camera:
        """Open the device and start the capture thread; a second call does nothing."""
        if self.state is CameraState.OPEN:
            return self
        self._stop.clear()
        try:
            self._open_device()
        except DeviceError as exc:
            self.state = CameraState.FAILED
            self.last_error = str(exc)
            raise
        self.state = CameraState.OPEN
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.type_key}", daemon=True)
        self._thread.start()
        log.info("camera %s opened", self.describe())
        return self

    def close(self) -> None:
        """Stop the thread and release the device; safe to call any number of times."""
        thread, self._thread = self._thread, None
        if thread is None and self.state is CameraState.CLOSED:
            return
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)
        try:
            self._close_device()
        finally:
            self.state = CameraState.CLOSED
            log.info("camera %s closed", self.describe())

    def __enter__(self) -> Camera:
        return self.open()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()}, {self.state.value}, fps={self.fps:g}, frames={self.frames_captured})"

    # -- reading ---------------------------------------------------------------------------

    def latest(self) -> Frame | None:
        """The newest frame, without waiting (None before the first)."""
        with self._cond:
            return self._latest

    def read(self, *, after_seq: int = -1, timeout: float = 2.0) -> Frame:
        """The newest frame newer than ``after_seq``, waiting up to ``timeout`` seconds for it.

        Raises DeviceTimeout when nothing new arrives in time, DeviceError when the camera is
        closed, failed or (a file source without loop) has ended.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.seq <= after_seq:
                if self.state is not CameraState.OPEN:
                    raise DeviceError(
                        f"camera {self.describe()} is {self.state.value}"
                        + (f": {self.last_error}" if self.last_error else "")
                        + "; check the camera and restart the kiosk service"
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise DeviceTimeout(
                        f"camera {self.describe()} gave no frame for {timeout:g} s; check its cable and `presensi doctor`"
                    )
                self._cond.wait(remaining)
            return self._latest

    def measured_fps(self) -> float:
        """Frames per second over the last few seconds of capture (by the injected clock)."""
        with self._cond:
            window = list(self._fps_window)
        if len(window) < 2 or window[-1] == window[0]:
            return 0.0
        return (len(window) - 1) / ((window[-1] - window[0]) / 1e9)

    # -- the capture thread ----------------------------------------------------------------

    def _run(self) -> None:
        period = 1.0 / self.fps
        due = time.monotonic()
        seq = 0
        while not self._stop.is_set():
            try:
                image = self._grab()
            except Exception as exc:  # noqa: BLE001 - any driver failure (C libraries raise anything) must reach health
                log.error("camera %s failed: %s", self.describe(), exc)
                self._finish(CameraState.FAILED, f"capture failed: {exc}")
                return
            if image is None:
                self._finish(CameraState.ENDED, None)
                return
            now_ns = self.clock.monotonic_ns()
            seq += 1
            frame = Frame(image=image, t_mono_ns=now_ns, seq=seq)
            with self._cond:
                self._latest = frame  # the one slot: an unread older frame is simply dropped
                self.frames_captured += 1
                self._fps_window.append(now_ns)
                if len(self._fps_window) > 60:
                    del self._fps_window[0]
                self._cond.notify_all()
            if self.paced:
                due += period
                delay = due - time.monotonic()
                if delay < -period:  # fell behind (a slow disk): do not try to catch up in a burst
                    due = time.monotonic()
                elif delay > 0 and self._stop.wait(delay):
                    return

    def _finish(self, state: CameraState, error: str | None) -> None:
        with self._cond:
            self.state = state
            if error:
                self.last_error = error
            self._cond.notify_all()


def to_bgr(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A grey or BGRA image as BGR uint8 (what every frame holds)."""
    # late: cv2 loads only when this runs
    import cv2

    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


def fit_within(image: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """Scale ``image`` down (never up) to fit in ``width`` × ``height``, keeping its aspect."""
    # late: cv2 loads only when this runs
    import cv2

    h, w = image.shape[:2]
    scale = min(width / w, height / h, 1.0)
    if scale >= 1.0:
        return image
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
