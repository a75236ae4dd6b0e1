"""A simulated camera: a scene a test or the demo sets, delivered at a set frame rate.

Like gpiozero's mock pins, the simulator has helpers to drive it: :meth:`SimCamera.show` puts a
picture (a person's photo) in front of the camera, :meth:`SimCamera.clear` leaves an empty
scene, :meth:`SimCamera.fail` makes the next capture fail as a broken cable would. Empty scenes
carry a little seeded sensor noise, so frames differ as a real camera's do.
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from core.clock import Clock
from core.errors import DeviceError
from kiosk.camera.base import Camera, fit_within


class SimCamera(Camera):
    """Frames of ``width`` × ``height``: the shown picture centred on a grey wall, or the wall alone."""

    type_key = "sim"
    paced = True

    def __init__(
        self, clock: Clock, *, width: int = 640, height: int = 480, fps: float = 15.0, rng: np.random.Generator | None = None
    ) -> None:
        super().__init__(clock, fps=fps)
        self.width, self.height = width, height
        self._rng = rng if rng is not None else np.random.default_rng(0)
        self._lock = threading.Lock()
        self._scene: npt.NDArray[np.uint8] | None = None
        self._fail: str | None = None
        self.opened_count = 0

    def describe(self) -> str:
        return f"sim:{self.width}x{self.height}"

    # -- driving the simulator -------------------------------------------------------------

    def show(self, picture: npt.NDArray[np.uint8]) -> None:
        """Put ``picture`` (BGR) in front of the camera, scaled to fit and centred."""
        fitted = fit_within(picture, self.width, self.height)
        scene = np.full((self.height, self.width, 3), 110, dtype=np.uint8)
        h, w = fitted.shape[:2]
        top, left = (self.height - h) // 2, (self.width - w) // 2
        scene[top : top + h, left : left + w] = fitted
        with self._lock:
            self._scene = scene

    def clear(self) -> None:
        """Nobody in front of the camera."""
        with self._lock:
            self._scene = None

    def fail(self, reason: str = "simulated cable fault") -> None:
        """The next capture fails with ``reason``."""
        with self._lock:
            self._fail = reason

    # -- the driver ------------------------------------------------------------------------

    def _open_device(self) -> None:
        self.opened_count += 1

    def _grab(self) -> npt.NDArray[np.uint8] | None:
        with self._lock:
            scene, fail = self._scene, self._fail
            self._fail = None
        if fail is not None:
            raise DeviceError(fail)
        if scene is not None:
            return scene.copy()
        noise = self._rng.integers(100, 120, size=(self.height, self.width, 1), dtype=np.uint8)
        return np.repeat(noise, 3, axis=2)

    def _close_device(self) -> None:
        pass
