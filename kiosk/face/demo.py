"""The face part of ``presensi demo``: enrol train/, punch the test/ photos, track the video.

Liveness in the demo: photos and a video from disk cannot pass a real liveness check (that is
the point of one), so the demo runs the pipeline with :class:`~kiosk.face.pipeline.SkipLiveness`
and every punch it makes records ``liveness_verdict = 'skipped'`` — visibly, in the punch
itself and in the summary, never silently. The demo's photos are posed portraits, some turned
about 30°; the demo therefore allows a head turn of up to 40° (``max_yaw_deg``) and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk.camera.base import Frame
from kiosk.camera.file import FileCamera, list_images, read_image, read_video_frames, video_fps
from kiosk.clock import Clock
from kiosk.config import FaceConfig
from kiosk.face.detect import FaceDetector
from kiosk.face.enroll import Enroller
from kiosk.face.identify import Gallery
from kiosk.face.pipeline import Decision, FacePipeline, Outcome, SkipLiveness
from kiosk.face.track import Tracker
from kiosk.store.punches import PunchStore

log = logging.getLogger(__name__)

DEMO_LIVENESS = SkipLiveness("demo: photos and video from disk cannot pass a liveness check")
#: Demo frames: the size a kiosk camera gives, large enough for the group photos' faces.
FRAME_W, FRAME_H = 1280, 960
DEMO_MAX_YAW_DEG = 40.0


def enrol_train(faces_dir: Path, store: PunchStore, clock: Clock, config: FaceConfig) -> list[dict[str, Any]]:
    """Every person in ``<faces>/train/<person>/``, the folder name as employee id."""
    enroller = Enroller(store.conn, config, clock)
    results = []
    for person in sorted(p for p in (faces_dir / "train").iterdir() if p.is_dir()):
        name = person.name.replace("_", " ").title()
        result = enroller.enrol_photos(person.name, name, list_images(person), replace=True)
        results.append(result.as_dict())
    return results


def punch_test_photos(
    faces_dir: Path, store: PunchStore, clock: Clock, config: FaceConfig, *, frames_per_photo: int = 12, fps: float = 10.0
) -> list[dict[str, Any]]:
    """Show each ``<faces>/test/`` photo to the pipeline as camera frames; what was decided for each."""
    face = config.model_copy(update={"max_yaw_deg": max(config.max_yaw_deg, DEMO_MAX_YAW_DEG)})
    pipeline = FacePipeline(face, store=store, gallery=Gallery.from_database(store.conn), liveness=DEMO_LIVENESS, clock=clock)
    camera = FileCamera(faces_dir / "test", clock, fps=fps, width=FRAME_W, height=FRAME_H)
    seq = 0
    outcomes = []
    gap = int(face.track_lost_s * fps) + 2
    blank = None
    for path in list_images(faces_dir / "test"):
        from kiosk.camera.base import fit_within

        image = fit_within(read_image(path), camera.width, camera.height)
        decisions: list[Decision] = []
        prompts: set[str] = set()
        for _ in range(frames_per_photo):
            seq += 1
            result = pipeline.process(Frame(image, _advance(clock, 1 / fps), seq))
            decisions.extend(result.decisions)
            if result.prompt:
                prompts.add(result.prompt)
        outcomes.append({"photo": path.name, "decisions": [d.as_dict() for d in decisions], "prompts": sorted(prompts)})
        blank = blank if blank is not None else image * 0 + 110
        for _ in range(gap):  # the person walks away before the next one comes
            seq += 1
            pipeline.process(Frame(blank, _advance(clock, 1 / fps), seq))
    return outcomes


def _advance(clock: Clock, seconds: float) -> int:
    advance: Callable[[float], None] | None = getattr(clock, "advance", None)
    if advance is not None:  # a FakeClock: move it as the frames go by
        advance(seconds)
    return clock.monotonic_ns()


def track_video(video: Path, config: FaceConfig) -> dict[str, Any]:
    """Follow the faces of a video with the kiosk's detector and tracker (no identification)."""
    detector = FaceDetector(scale=config.detect_scale, upsample=config.upsample)
    tracker = Tracker(lost_after_s=config.track_lost_s, agree_frames=config.agree_frames)
    fps = video_fps(video)
    from kiosk.face.detect import to_rgb

    frames = read_video_frames(video)
    with_face = 0
    for i, image in enumerate(frames):
        t = int(i / fps * 1e9)
        rgb = to_rgb(image)
        if i % config.redetect_frames == 0 or not tracker.tracks:
            seen = tracker.update(detector.detect(rgb), t)
        else:
            seen = []
            for track in list(tracker.tracks):
                box = detector.detect_near(rgb, track.box)
                tracker.refresh(track, box, t)
                if box is not None:
                    seen.append(track)
        tracker.expire(t)
        with_face += bool(seen)
    return {"video": video.name, "frames": len(frames), "frames_with_face": with_face, "approaches": tracker.started}


def run_face_demo(
    faces_dir: Path, store: PunchStore, clock: Clock, config: FaceConfig, out: Callable[[str], None] = print
) -> dict[str, Any]:
    """Enrol, punch, track; prints a summary through ``out`` and returns it."""
    out(f"Wajah: mendaftarkan {faces_dir / 'train'} …")
    enrolled = enrol_train(faces_dir, store, clock, config)
    for e in enrolled:
        out(f"  terdaftar {e['employee_id']:<16} {e['templates_added']} templat")
    out(f"Wajah: memutar foto {faces_dir / 'test'} sebagai kamera (liveness: {DEMO_LIVENESS.reason} → 'skipped')")
    photos = punch_test_photos(faces_dir, store, clock, config)
    for p in photos:
        said = "; ".join(f"{d['outcome']} {d['employee_id'] or ''} {d['message']}".strip() for d in p["decisions"]) or "-"
        out(f"  {p['photo']:<22} {said}" + (f"  [prompt: {', '.join(p['prompts'])}]" if p["prompts"] else ""))
    video = faces_dir / "short_hamilton_clip.mp4"
    tracked = track_video(video, config) if video.is_file() else None
    if tracked:
        out(
            f"Wajah: video {tracked['video']}: {tracked['frames_with_face']} of {tracked['frames']} frames with a face, {tracked['approaches']} approach(es)"
        )
    punched = sorted({d["employee_id"] for p in photos for d in p["decisions"] if d["outcome"] == Outcome.ACCEPTED.value})
    summary = {"enrolled": enrolled, "photos": photos, "punched": punched, "video": tracked, "liveness": "skipped (demo mode)"}
    out(f"Wajah: tercatat {len(punched)} pegawai: {', '.join(punched)}")
    return summary
