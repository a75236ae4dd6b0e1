"""How long a real head turn takes to answer the challenge, measured on a recorded video.

The challenge check runs over the video's own landmarks: from every frame where the face looks at
the camera, a prompt ("Toleh ke kiri" / "Toleh ke kanan") is issued, and the frames that follow
are fed until the check passes or the deadline comes. Each natural turn in the recording answers
the prompt of its side; the time from the last start that still passes (the head about to move)
to the passing frame is the time that turn took. The same runs say how often a recording that
never saw the prompt answers a prompt drawn at random from a random moment: a replayed video
cannot follow the prompt, except by chance.

The person's reaction to the prompt on the screen is not in a recording: ``REACTION_S`` is added
(assumed: a choice reaction to a visual signal takes about 0.4–0.6 s).
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.clock import FakeClock
from kiosk.liveness import landmarks as lm
from kiosk.liveness.base import FaceSample
from kiosk.liveness.challenge import ChallengeCheck, ChallengeSettings, Prompt, turn_offset
from kiosk.liveness.harness import detect, landmarks_at

REACTION_S = 0.5  # assumed (see the module docstring)
FRONTAL = 0.08  # |nose offset| (eye-distance units) under which a face counts as looking at the camera
WARMUP = 4  # frames of history before the prompt (the challenge takes its reference from them)


@dataclass(frozen=True)
class TrackedFrame:
    points: lm.Points | None  # the landmarks of the one face in view, or None


def track_video(frames: list[np.ndarray], *, step: int = 1) -> list[TrackedFrame]:
    """The landmarks of the one face in every ``step``-th frame (None where there is not exactly one)."""

    out = []
    for frame in frames[::step]:
        boxes = detect(frame)
        marks = landmarks_at(frame, boxes[0]) if len(boxes) == 1 else {}
        out.append(TrackedFrame(lm.as_array(marks) if lm.complete(marks) else None))
    return out


def _pass_after(track: list[TrackedFrame], start: int, prompt: Prompt, fps: float, settings: ChallengeSettings) -> float | None:
    """Seconds from issuing ``prompt`` at frame ``start`` until the check passes (None: never)."""
    clock = FakeClock()
    session = ChallengeCheck(settings, clock=clock, rng=random.Random(0)).new_session()
    blank = np.zeros((2, 2, 3), np.uint8)
    for index in range(max(0, start - WARMUP), start + 1):
        points = track[index].points
        if points is not None:
            session.add(FaceSample(blank, (0, 1, 1, 0), lm.from_array(points), clock.monotonic_ns()))
        clock.advance(1 / fps)
    session.begin(prompt)
    issued = clock.monotonic_ns()
    for index in range(start + 1, min(len(track), start + 1 + int(settings.timeout_s * fps))):
        clock.advance(1 / fps)
        points = track[index].points
        if points is None:
            continue
        session.add(FaceSample(blank, (0, 1, 1, 0), lm.from_array(points), clock.monotonic_ns()))
        score = session.score()
        if score is not None and score.confident and score.score >= 0.5:
            return (clock.monotonic_ns() - issued) / 1e9
    return None


def measure(track: list[TrackedFrame], fps: float, settings: ChallengeSettings, *, seed: int = 7) -> dict[str, Any]:
    """Turn times of the recording's natural turns, and how often it answers a random prompt."""
    starts = [i for i, f in enumerate(track) if f.points is not None and abs(turn_offset(f.points)) < FRONTAL]
    turn_prompts: tuple[Prompt, ...] = tuple(p for p in settings.prompts if p != "blink") or ("left", "right")
    turns: list[float] = []
    for prompt in turn_prompts:
        by_pass: dict[int, tuple[int, float]] = {}  # passing frame → (latest start, seconds)
        for start in starts:
            took = _pass_after(track, start, prompt, fps, settings)
            if took is None:
                continue
            passed_at = start + round(took * fps)
            if passed_at not in by_pass or start > by_pass[passed_at][0]:
                by_pass[passed_at] = (start, took)
        turns += [took for _, took in by_pass.values()]
    rng = random.Random(seed)
    trials = [(rng.choice(starts), rng.choice(settings.prompts)) for _ in range(min(200, 4 * len(starts)))] if starts else []
    answered = sum(1 for start, prompt in trials if _pass_after(track, start, prompt, fps, settings) is not None)
    out: dict[str, Any] = {
        "frames_tracked": sum(1 for f in track if f.points is not None),
        "frontal_starts": len(starts),
        "natural_turns": len(turns),
        "reaction_s_assumed": REACTION_S,
        "replay_random_prompt_trials": len(trials),
        "replay_random_prompt_answered_pct": round(100 * answered / len(trials), 2) if trials else None,
    }
    if turns:
        out["turn_s_median"] = round(statistics.median(turns), 3)
        out["turn_s_max"] = round(max(turns), 3)
        out["genuine_challenge_s_median"] = round(REACTION_S + statistics.median(turns), 3)
    return out
