"""Camera sources behind one interface (:class:`kiosk.camera.base.Camera`), chosen by configuration."""

from __future__ import annotations

from core.clock import Clock
from core.config import CameraConfig
from core.errors import ConfigError
from kiosk.camera.base import Camera, CameraState, Frame
from kiosk.camera.file import FileCamera
from kiosk.camera.picamera2 import Picamera2Camera
from kiosk.camera.sim import SimCamera
from kiosk.camera.v4l2 import V4l2Camera

__all__ = ["Camera", "CameraState", "Frame", "open_camera"]


def open_camera(config: CameraConfig, clock: Clock, *, hardware: str = "real") -> Camera:
    """The camera ``config`` names (not yet opened: use ``with`` or ``.open()``).

    ``hardware = "sim"`` (the unit's setting) turns a real device into the simulator; a file
    source stays a file source, since it needs no hardware.
    """
    source = config.source
    if hardware == "sim" and source in ("picamera2", "v4l2"):
        source = "sim"
    if source == "file":
        if config.path is None:
            raise ConfigError(
                "camera.source is 'file' but camera.path is not set",
                ["camera.path: missing (expected a video file or image folder)"],
            )

        return FileCamera(
            config.path,
            clock,
            fps=config.fps,
            loop=config.loop,
            hold_s=config.image_hold_s,
            width=config.width,
            height=config.height,
        )
    if source == "v4l2":
        return V4l2Camera(config.device, clock, width=config.width, height=config.height, fps=config.fps)
    if source == "picamera2":
        return Picamera2Camera(clock, width=config.width, height=config.height, fps=config.fps)

    return SimCamera(clock, width=config.width, height=config.height, fps=config.fps)
