"""The demo's video: its faces followed by the kiosk's own detector and tracker (issue 3: the
demo "tracks the faces in the video"). Identification and punching happen on the camera; the
video shows how approaches are told apart over time."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from core.config import FaceConfig
from kiosk.camera.file import read_video_frames, video_fps
from kiosk.face.detect import make_detector, to_rgb
from kiosk.face.track import Tracker

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VideoTracking:
    video: str
    frames: int
    frames_with_face: int
    approaches: int  # tracks started: a face coming into view
    most_faces: int  # faces in one frame at most

    def line(self) -> str:
        return (
            f"{self.video}: {self.frames} frames, a face tracked in {self.frames_with_face}, "
            f"{self.approaches} approach(es), at most {self.most_faces} face(s) at once"
        )


def track_video(path: Path, config: FaceConfig, stop: threading.Event | None = None) -> VideoTracking:
    """Follow every face of ``path``, frame by frame at the video's own timing, as the face
    pipeline does: a full detection every ``redetect_frames``, a local search in between.
    ``stop`` set: ends after the current frame (what was tracked so far is returned)."""
    detector = make_detector(config)
    tracker = Tracker(lost_after_s=config.track_lost_s, agree_frames=config.agree_frames)
    fps = video_fps(path)
    frames = read_video_frames(path)
    with_face = most = 0
    for i, image in enumerate(frames):
        if stop is not None and stop.is_set():
            break
        t_ns = int(i / fps * 1e9)
        rgb = to_rgb(image)
        if i % config.redetect_frames == 0 or not tracker.tracks:
            seen = tracker.update(detector.detect(rgb), t_ns)
        else:
            seen = []
            for track in list(tracker.tracks):
                box = detector.detect_near(rgb, track.box)
                tracker.refresh(track, box, t_ns)
                if box is not None:
                    seen.append(track)
        tracker.expire(t_ns)
        with_face += bool(seen)
        most = max(most, len(seen))
    log.info("video %s: %d frames tracked", path.name, len(frames))
    return VideoTracking(path.name, len(frames), with_face, tracker.started, most)
