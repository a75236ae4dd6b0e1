"""The attack harness: genuine and attack presentations from the shared test faces, run through the
engine, reported in ISO/IEC 30107-3 terms.

A *presentation* is one approach: a few camera frames of one face (genuine, or one attack
instance). APCER for an attack type is the share of its presentations the engine accepted as
LIVE; BPCER is the share of genuine presentations it did not accept.

Data split (so the reported figures are not the ones the defaults were tuned on):
``calibration`` is ``train/`` and the first half of the video, ``holdout`` is everything else
(``test/``, the resolution series, ``two_people.jpg``, ``lin-manuel-miranda.png``, the second half
of the video). Attacks are made from the sources of the same split.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from core.clock import FakeClock
from core.config import LivenessConfig
from kiosk.liveness import attacks
from kiosk.liveness import landmarks as lm
from kiosk.liveness.base import Box, FaceSample, Verdict
from kiosk.liveness.challenge import ChallengeCheck, ChallengeSettings, Prompt
from kiosk.liveness.cues import frame_cues
from kiosk.liveness.engine import Engine, build_engine

log = logging.getLogger(__name__)

Split = Literal["calibration", "holdout", "all"]
FRAME_NS = 66_666_667  # 15 frames per second


@dataclass(frozen=True)
class Source:
    """A genuine face: a still or a run of video frames, each with its box."""

    name: str
    frames: tuple[np.ndarray, ...]
    boxes: tuple[Box, ...]
    split: Literal["calibration", "holdout"]
    video: bool = False


def detect(frame: np.ndarray, upsample: int = 1) -> list[Box]:
    # late: face_recognition loads only when this runs
    import face_recognition

    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    return [tuple(int(v) for v in box) for box in face_recognition.face_locations(rgb, upsample)]  # type: ignore[misc]


def landmarks_at(frame: np.ndarray, box: Box) -> dict[str, list[tuple[int, int]]]:
    # late: face_recognition loads only when this runs
    import face_recognition

    rgb = np.ascontiguousarray(frame[:, :, ::-1])
    found = face_recognition.face_landmarks(rgb, [box])
    return found[0] if found else {}


def still_sources(faces_dir: Path) -> list[Source]:
    """Every face found in the still photos (HOG, one upsample), with its split."""
    sources = []
    paths = sorted(faces_dir.glob("train/*/*")) + sorted(faces_dir.glob("test/*")) + sorted(faces_dir.glob("*.jpg"))
    paths += sorted(faces_dir.glob("*.png"))
    for path in paths:
        frame = cv2.imread(str(path))
        if frame is None:
            continue
        split: Literal["calibration", "holdout"] = "calibration" if "train" in path.parts else "holdout"
        for index, box in enumerate(detect(frame)):
            if box[1] - box[3] < 40:  # too small to be a kiosk face
                continue
            sources.append(Source(f"{path.relative_to(faces_dir)}#{index}", (frame,), (box,), split))
    return sources


def video_sources(path: Path, *, step: int = 3, frames: int = 5) -> list[Source]:
    """Runs of ``frames`` detections (every ``step``-th frame, ~10 fps) of one face in the video."""
    capture = cv2.VideoCapture(str(path))
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
    run: list[tuple[np.ndarray, Box]] = []
    sources = []
    index = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if index % step == 0:
            boxes = detect(frame)
            if len(boxes) == 1:
                run.append((frame, boxes[0]))
            else:
                run = []
            if len(run) == frames:
                split: Literal["calibration", "holdout"] = "calibration" if index < total / 2 else "holdout"
                sources.append(
                    Source(f"{path.name}@{index}", tuple(f for f, _ in run), tuple(b for _, b in run), split, video=True)
                )
                run = []
        index += 1
    capture.release()
    return sources


def recapture(source: Source, rng: random.Random, frames: int) -> list[attacks.Shot]:
    """A still as the kiosk camera would give it: 640×480 around the face (face 110–190 px wide),
    a little movement between frames, sensor noise and JPEG."""
    frame, box = source.frames[0], source.boxes[0]
    top, right, bottom, left = box
    scale = rng.uniform(110, 190) / max(right - left, 1)
    shots = []
    for _ in range(frames):
        s = scale * rng.uniform(0.97, 1.03)
        cx = (left + right) / 2 + rng.uniform(-4, 4) / s
        cy = (top + bottom) / 2 + rng.uniform(-4, 4) / s
        matrix = np.array([[s, 0, 320 - cx * s], [0, s, 240 - cy * s]], dtype=np.float32)
        warped = cv2.warpAffine(frame, matrix, attacks.FRAME_SIZE, flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REFLECT)
        warped_box = (
            round(top * s + 240 - cy * s),
            round(right * s + 320 - cx * s),
            round(bottom * s + 240 - cy * s),
            round(left * s + 320 - cx * s),
        )
        noisy = np.clip(
            warped.astype(np.float32) + np.random.default_rng(rng.getrandbits(32)).normal(0, 1.5, warped.shape), 0, 255
        )
        shots.append(attacks.Shot(attacks._jpeg(noisy.astype(np.uint8), rng.randint(85, 95)), warped_box))
    return shots


@dataclass
class Outcome:
    kind: str  # genuine_still, genuine_video, print, screen, flat_motion_*
    source: str
    verdict: Verdict
    scores: dict[str, float]
    asked: bool


def run_presentation(
    engine: Engine,
    clock: FakeClock,
    shots: list[attacks.Shot],
    follow_up: Callable[[Prompt], Iterator[FaceSample]] | None,
    *,
    facing: lm.Points | None = None,
) -> tuple[Verdict, dict[str, float], bool]:
    """Feed the frames; if the engine asks for the challenge, feed ``follow_up``'s samples (what the
    presenter does when prompted). Returns the verdict, the scores and whether it asked.
    ``facing``: the landmarks of the presenter's motion model looking at the camera, used for the
    frames before the prompt so that the challenge's reference and the movement are of one face
    (the pixels stay the real frames)."""
    session = engine.new_session()
    result = None
    asked = False
    for shot in shots:
        clock.advance(FRAME_NS / 1e9)
        marks = lm.from_array(facing) if facing is not None else landmarks_at(shot.frame, shot.box)
        session.add(FaceSample(shot.frame, shot.box, marks, clock.monotonic_ns()))
        result = session.result()
        asked = asked or result.prompt is not None
        if result.verdict is not Verdict.UNDECIDED:
            return result.verdict, dict(result.scores), asked
    assert result is not None
    if result.prompt is not None and follow_up is not None:
        for sample in follow_up(session.challenge.prompt or "left"):
            clock.advance(FRAME_NS / 1e9)
            session.add(sample)
            result = session.result()
            if result.verdict is not Verdict.UNDECIDED:
                return result.verdict, dict(result.scores), True
    clock.advance(engine.challenge.settings.timeout_s + 1)
    result = session.result()
    return result.verdict, dict(result.scores), asked


def _iterate_track(track: list[lm.Points], shot: attacks.Shot, clock: FakeClock) -> Iterator[FaceSample]:
    for points in track:
        yield FaceSample(shot.frame, shot.box, lm.from_array(points), clock.monotonic_ns())


def _iterate_shots(shots: list[attacks.Shot], clock: FakeClock) -> Iterator[FaceSample]:
    for shot in shots:
        yield FaceSample(shot.frame, shot.box, landmarks_at(shot.frame, shot.box), clock.monotonic_ns())


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)
    passive_ms: list[float] = field(default_factory=list)
    passive_cpu_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        by_kind: dict[str, list[Outcome]] = defaultdict(list)
        for outcome in self.outcomes:
            by_kind[outcome.kind].append(outcome)
        out: dict[str, Any] = {}
        apcer = {}
        for kind, items in sorted(by_kind.items()):
            live = sum(1 for o in items if o.verdict is Verdict.LIVE)
            asked = sum(1 for o in items if o.asked)
            if kind.startswith("genuine"):
                out[f"bpcer_{kind}_pct"] = round(100 * (len(items) - live) / len(items), 2)
            else:
                apcer[kind] = round(100 * live / len(items), 2)
                out[f"apcer_{kind}_pct"] = apcer[kind]
            out[f"n_{kind}"] = len(items)
            out[f"challenge_asked_{kind}_pct"] = round(100 * asked / len(items), 2)
        genuine = [o for o in self.outcomes if o.kind.startswith("genuine")]
        if genuine:
            out["bpcer_pct"] = round(100 * sum(1 for o in genuine if o.verdict is not Verdict.LIVE) / len(genuine), 2)
        if apcer:
            worst = max(apcer, key=lambda k: apcer[k])
            out["apcer_worst_pct"] = apcer[worst]
            out["apcer_worst_type"] = worst
        if self.passive_ms:
            out["passive_ms_median"] = round(statistics.median(self.passive_ms), 2)
            out["passive_ms_p95"] = round(sorted(self.passive_ms)[int(0.95 * (len(self.passive_ms) - 1))], 2)
            # CPU time of the calling thread (onnxruntime runs one intra-op thread in it): the
            # cost per face, unaffected by other processes sharing the machine.
            out["passive_cpu_ms_median"] = round(statistics.median(self.passive_cpu_ms), 2)
        return out


def evaluate(
    config: LivenessConfig,
    sources: list[Source],
    *,
    split: Split = "holdout",
    seed: int = 7,
    frames: int = 5,
    attacks_per_source: int = 2,
    motion_frames: int = 10,
) -> Report:
    """Run every genuine source and every attack made from it through an engine built from ``config``."""
    rng = random.Random(seed)
    clock = FakeClock()
    engine = build_engine(config, clock=clock, rng=random.Random(seed))
    report = Report()
    chosen = [s for s in sources if split in ("all", s.split)]
    for source in chosen:
        # Genuine: the still recaptured, or the video frames as they are. When prompted, a live
        # person does what is asked: landmark tracks of the rotating 3-D face model.
        if source.video:
            shots = [attacks.Shot(f, b) for f, b in zip(source.frames, source.boxes, strict=True)]
            kind = "genuine_video"
        else:
            shots = recapture(source, rng, frames)
            kind = "genuine_still"

        def live_person(prompt: Prompt, shot: attacks.Shot = shots[-1]) -> Iterator[FaceSample]:
            return _iterate_track(attacks.head_track(rng, prompt, iod_px=0.45 * (shot.box[1] - shot.box[3])), shot, clock)

        facing = attacks.head_track(rng, "blink", iod_px=0.45 * (shots[-1].box[1] - shots[-1].box[3]))[0]
        verdict, scores, asked = run_presentation(engine, clock, shots, live_person, facing=facing)
        report.outcomes.append(Outcome(kind, source.name, verdict, scores, asked))
        _time_passive(engine, shots[0], report)
        if source.video:
            continue
        frame, box = source.frames[0], source.boxes[0]
        for _ in range(attacks_per_source):
            # Print: held still, and moved as a flat sheet when prompted (the best a print can do).
            base = random.Random(rng.getrandbits(32))
            shots = [attacks.print_attack(frame, box, random.Random(base.random())) for _ in range(frames)]

            def move_print(prompt: Prompt, frame: np.ndarray = frame, box: Box = box) -> Iterator[FaceSample]:
                direction = 1.0 if prompt == "left" else -1.0
                return _iterate_shots(attacks.plane_motion(frame, box, rng, frames=motion_frames, direction=direction), clock)

            verdict, scores, asked = run_presentation(engine, clock, shots, move_print)
            report.outcomes.append(Outcome("print", source.name, verdict, scores, asked))
            # Screen replay: if prompted, assume the attacker replays a recording of the person
            # doing exactly that (the worst case): the challenge then passes.
            shots = [attacks.screen_attack(frame, box, random.Random(base.random())) for _ in range(frames)]

            def replay(prompt: Prompt, shot: attacks.Shot = shots[-1]) -> Iterator[FaceSample]:
                return _iterate_track(attacks.head_track(rng, prompt, iod_px=0.45 * (shot.box[1] - shot.box[3])), shot, clock)

            facing = attacks.head_track(rng, "blink", iod_px=0.45 * (shots[-1].box[1] - shots[-1].box[3]))[0]
            verdict, scores, asked = run_presentation(engine, clock, shots, replay, facing=facing)
            report.outcomes.append(Outcome("screen", source.name, verdict, scores, asked))
        # A still photo moved as a flat or bent sheet, with the challenge always asked.
        for bend in ("flat", "vertical", "horizontal"):
            report.outcomes.append(_flat_motion(config, source, bend, rng=rng, seed=seed, frames=motion_frames))
    return report


def _time_passive(engine: Engine, shot: attacks.Shot, report: Report) -> None:
    """Time the passive checks (texture models and cues) on one face, as the pipeline would run them."""
    if engine.texture is None:
        return
    started, cpu_started = time.perf_counter(), time.thread_time()
    engine.texture.model.real_probability(shot.frame, shot.box)
    if engine.cues is not None:
        frame_cues(shot.frame, shot.box, engine.cues.settings)
    report.passive_ms.append((time.perf_counter() - started) * 1000)
    report.passive_cpu_ms.append((time.thread_time() - cpu_started) * 1000)


def _flat_motion(
    config: LivenessConfig, source: Source, bend: attacks.Bend, *, rng: random.Random, seed: int, frames: int
) -> Outcome:
    always = config.model_copy(update={"challenge": "always"})
    clock = FakeClock()
    engine = build_engine(always, clock=clock, rng=random.Random(seed))
    session = engine.new_session()
    session.add(_first_sample(source, clock))
    session.result()
    prompt = session.challenge.prompt or "left"
    if prompt == "blink":  # a photo cannot blink; show the harder case, a turn
        session = engine.new_session()
        session.begin_challenge(rng.choice(["left", "right"]))
        prompt = session.challenge.prompt or "left"
    direction = 1.0 if prompt == "left" else -1.0
    shots = attacks.plane_motion(source.frames[0], source.boxes[0], rng, frames=frames, bend=bend, direction=direction)
    verdict = Verdict.UNDECIDED
    scores: dict[str, float] = {}
    for sample in _iterate_shots(shots, clock):
        clock.advance(FRAME_NS / 1e9)
        session.add(sample)
        result = session.result()
        verdict, scores = result.verdict, dict(result.scores)
        if verdict is not Verdict.UNDECIDED:
            break
    if verdict is Verdict.UNDECIDED:
        clock.advance(engine.challenge.settings.timeout_s + 1)
        result = session.result()
        verdict, scores = result.verdict, dict(result.scores)
    return Outcome(f"flat_motion_{bend}", source.name, verdict, scores, True)


def _first_sample(source: Source, clock: FakeClock) -> FaceSample:
    frame, box = source.frames[0], source.boxes[0]
    return FaceSample(frame, box, landmarks_at(frame, box), clock.monotonic_ns())


def challenge_tracks(settings: ChallengeSettings, *, seed: int = 11, count: int = 40) -> dict[str, float]:
    """The planar test on landmark tracks alone: rotating 3-D heads (genuine) versus rotating
    flat and bent sheets (attacks). Returns BPCER and APCER per sheet, in percent."""
    rng = random.Random(seed)
    results: dict[str, list[bool]] = defaultdict(list)
    for index in range(count):
        prompt: Prompt = ("left", "right", "blink")[index % 3]
        results["head"].append(_track_passes(settings, prompt, attacks.head_track(rng, prompt)))
        direction = 1.0 if prompt != "right" else -1.0
        turn: Prompt = "left" if direction > 0 else "right"
        results["plane_flat"].append(_track_passes(settings, turn, attacks.plane_track(rng, direction)))
        for bend in ("vertical", "horizontal"):
            radius = rng.uniform(2.0, 4.0)
            track = attacks.plane_track(rng, direction, bend=bend, radius=radius)
            results[f"plane_bent_{bend}"].append(_track_passes(settings, turn, track))
    out = {"challenge_bpcer_head_pct": round(100 * (1 - sum(results["head"]) / count), 2)}
    for name, passes in results.items():
        if name != "head":
            out[f"challenge_apcer_{name}_pct"] = round(100 * sum(passes) / count, 2)
    return out


def _track_passes(settings: ChallengeSettings, prompt: Prompt, track: list[lm.Points]) -> bool:
    clock = FakeClock()
    check = ChallengeCheck(settings, clock=clock, rng=random.Random(0))
    session = check.new_session()
    blank = np.zeros((2, 2, 3), np.uint8)
    session.add(FaceSample(blank, (0, 1, 1, 0), lm.from_array(track[0]), clock.monotonic_ns()))
    session.begin(prompt)
    for points in track[1:]:
        clock.advance(FRAME_NS / 1e9)
        session.add(FaceSample(blank, (0, 1, 1, 0), lm.from_array(points), clock.monotonic_ns()))
    score = session.score()
    return score is not None and score.confident and score.score >= 0.5
