"""The liveness engine the face pipeline uses: ``build_engine(config, clock=…, rng=…)``.

One :class:`Engine` per process (the ONNX sessions load once); one :class:`EngineSession` per
tracked approach. A session feeds every sample to each check until the verdict is final, then
stops spending CPU; its :meth:`~EngineSession.result` is the rule in :mod:`kiosk.liveness.decide`
applied to the checks' latest scores, plus every score for the punch record.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import replace

from core.clock import Clock
from core.config import LivenessConfig
from core.errors import LivenessError
from kiosk.liveness.base import CheckScore, FaceSample, LivenessEngine, LivenessResult, LivenessSession, Verdict
from kiosk.liveness.challenge import ChallengeCheck, ChallengeSession, ChallengeSettings, Prompt
from kiosk.liveness.cues import CuesCheck, CueSettings, CuesSession
from kiosk.liveness.decide import Judgement, Policy, decide
from kiosk.liveness.texture import MiniFasNet, TextureCheck, TextureSession, TextureSettings, model_paths

log = logging.getLogger(__name__)

NOT_READY_TEXT = "Presensi wajah tidak tersedia — gunakan kartu atau sidik jari"


class Engine(LivenessEngine):
    def __init__(
        self,
        *,
        texture: TextureCheck | None,
        cues: CuesCheck | None,
        challenge: ChallengeCheck,
        policy: Policy,
        problems: list[str] | None = None,
    ) -> None:
        self.texture = texture
        self.cues = cues
        self.challenge = challenge
        self.policy = policy
        self.problems = problems or []
        #: check → [seconds, samples] over every session (health and ``presensi bench face``)
        self.check_time: dict[str, list[float]] = {"texture": [0.0, 0], "cues": [0.0, 0], "challenge": [0.0, 0]}

    def check_mean_ms(self) -> dict[str, float]:
        """Mean time per sample of each check that ran."""
        return {name: round(total / n * 1000, 3) for name, (total, n) in self.check_time.items() if n}

    @property
    def ready(self) -> bool:
        return self.texture is not None or self.policy.allow_challenge_only

    def new_session(self, *, one_to_one: bool = False) -> EngineSession:
        if not self.ready:
            raise LivenessError(
                "face-only punching is refused: the liveness model is missing ("
                + "; ".join(self.problems)
                + "); install the model files or set liveness.allow_challenge_only = true (see presensi doctor)",
                screen_text=NOT_READY_TEXT,
            )
        return EngineSession(self, replace(self.policy, one_to_one=one_to_one))

    def __repr__(self) -> str:
        checks = [name for name, c in (("texture", self.texture), ("cues", self.cues), ("challenge", self.challenge)) if c]
        return f"Engine(checks={checks}, challenge={self.policy.challenge!r}, ready={self.ready})"


class EngineSession(LivenessSession):
    def __init__(self, engine: Engine, policy: Policy | None = None) -> None:
        self._engine = engine
        self.policy = policy or engine.policy
        self._texture: TextureSession | None = engine.texture.new_session() if engine.texture else None
        self._cues: CuesSession | None = engine.cues.new_session() if engine.cues else None
        self.challenge: ChallengeSession = engine.challenge.new_session()
        self._final: LivenessResult | None = None
        self.frames = 0

    def add(self, sample: FaceSample) -> None:
        if self._final is not None:
            return
        self.frames += 1
        if self._texture is not None:
            self._timed("texture", self._texture.add, sample)
        if self._cues is not None:
            self._timed("cues", self._cues.add, sample)
        self._timed("challenge", self.challenge.add, sample)

    def _timed(self, name: str, add: Callable[[FaceSample], None], sample: FaceSample) -> None:
        started = time.perf_counter()
        add(sample)
        spent = self._engine.check_time[name]
        spent[0] += time.perf_counter() - started
        spent[1] += 1

    def check_scores(self) -> dict[str, CheckScore | None]:
        return {
            "texture": self._texture.score() if self._texture else None,
            "cues": self._cues.score() if self._cues else None,
            "challenge": self.challenge.score(),
        }

    def begin_challenge(self, prompt: Prompt | None = None) -> str:
        """Issue the challenge now (the engine does this itself when the rule asks for it)."""
        return self.challenge.begin(prompt)

    def result(self) -> LivenessResult:
        if self._final is not None:
            return self._final
        scores = self.check_scores()
        judgement: Judgement = decide(scores, self.policy)
        prompt = None
        if judgement.ask_challenge:
            prompt = self.challenge.begin()
            scores["challenge"] = self.challenge.score()
            judgement = decide(scores, self.policy)
            prompt = prompt if judgement.verdict is Verdict.UNDECIDED else None
        result = LivenessResult(judgement.verdict, flatten(scores), prompt=prompt, reason=judgement.reason)
        if judgement.verdict is not Verdict.UNDECIDED:
            self._final = result
            log.info("liveness %s after %s frames (refused by %s)", judgement.verdict, self.frames, judgement.refused_by)
        return result


def flatten(scores: dict[str, CheckScore | None]) -> dict[str, float]:
    """Every score and its numeric detail as ``name`` and ``name_detail``, rounded for storage."""
    out: dict[str, float] = {}
    for name, score in scores.items():
        if score is None:
            continue
        out[name] = round(float(score.score), 4)
        for key, value in score.detail.items():
            out[f"{name}_{key}"] = round(float(value), 4)
    return out


def build_engine(config: LivenessConfig, *, clock: Clock, rng: random.Random) -> Engine:
    """The engine for ``config``; never raises for a missing model (``ready`` says so instead)."""
    paths, problems = model_paths(config)
    texture = None
    if not problems:
        try:
            model = MiniFasNet(paths, threads=config.texture_threads, box_scale=config.texture_box_scale)
        except LivenessError as exc:
            problems.append(str(exc))
        else:
            texture = TextureCheck(model, TextureSettings.from_config(config))
    if problems:
        log.warning("liveness texture model unavailable: %s", "; ".join(problems))
    cues = CuesCheck(CueSettings.from_config(config)) if config.cues_enabled else None
    challenge = ChallengeCheck(ChallengeSettings.from_config(config), clock=clock, rng=rng)
    policy = Policy.from_config(config, texture_available=texture is not None)
    return Engine(texture=texture, cues=cues, challenge=challenge, policy=policy, problems=problems)
