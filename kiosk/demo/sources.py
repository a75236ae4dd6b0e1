"""Where the demo's faces come from: the shared test data beside the repository, photos and a
video named on the command line, or a webcam — and a sentence saying which, for the output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import kiosk
from core.errors import ConfigError
from kiosk.camera.file import list_images

VIDEO_NAME = "short_hamilton_clip.mp4"
WEBCAM = Path("/dev/video0")


def shared_faces() -> Path:
    """``../shared/testdata/faces`` beside the repository (present in the project's workspace
    and CI, absent in a user's clone)."""
    return Path(kiosk.__file__).resolve().parents[2] / "shared" / "testdata" / "faces"


@dataclass(frozen=True)
class DemoSources:
    """What the demo enrols and what its camera shows."""

    train: Path | None  # <faces>/train/<person>/*.jpg: enrolled at start
    test: Path | None  # <faces>/test/*.jpg: played as the camera
    video: Path | None  # tracked by the face detector and tracker
    webcam: Path | None  # a V4L2 camera instead of photos
    note: str  # what the demo uses, in a sentence

    @property
    def has_faces(self) -> bool:
        return self.test is not None or self.webcam is not None


def find_sources(faces: Path | None, video: Path | None, *, shared: Path | None = None, webcam: Path = WEBCAM) -> DemoSources:
    """``--faces``/``--video`` when given; else the shared test data; else a webcam; else none."""
    if faces is not None:
        if not (faces / "train").is_dir() or not (faces / "test").is_dir():
            raise ConfigError(
                f"--faces {faces}: expected a folder with train/<person>/ photos and test/ photos",
                [f"--faces: {faces} has no train/ and test/ folders (expected train/<person>/*.jpg and test/*.jpg)"],
            )
        if not list_images(faces / "test"):
            raise ConfigError(f"--faces {faces}: test/ holds no photos", [f"--faces: {faces}/test is empty (expected .jpg/.png)"])
        found = _video(faces, video)
        return DemoSources(faces / "train", faces / "test", found, None, f"photos from {faces} (given with --faces)")
    shared = shared if shared is not None else shared_faces()
    if (shared / "train").is_dir() and (shared / "test").is_dir():
        found = _video(shared, video)
        return DemoSources(shared / "train", shared / "test", found, None, f"the shared test data in {shared}")
    found = _video(None, video)
    if webcam.exists():
        return DemoSources(
            None,
            None,
            found,
            webcam,
            f"no test photos ({shared} is absent): the webcam {webcam} is the camera; nobody is enrolled by face — "
            "enrol on the maintenance page, or run again with --faces DIR (train/ and test/ photos)",
        )
    return DemoSources(
        None,
        None,
        found,
        None,
        f"no test photos ({shared} is absent) and no webcam at {webcam}: punching by face is off — "
        "run again with --faces DIR (train/<person>/ and test/ photos) and --video FILE to see it",
    )


def _video(faces: Path | None, video: Path | None) -> Path | None:
    if video is not None:
        if not video.is_file():
            raise ConfigError(f"--video {video}: no such file", [f"--video: {video} does not exist (expected a video file)"])
        return video
    if faces is not None and (faces / VIDEO_NAME).is_file():
        return faces / VIDEO_NAME
    return None
