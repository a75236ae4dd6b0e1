"""The one rule that combines the liveness checks into a verdict.

:func:`decide` is pure: it sees each check's latest :class:`CheckScore` (or None) and the policy,
and says LIVE, SPOOF or UNDECIDED, and whether the challenge must be asked. In order:

1. **Any confident refusal wins.** The texture median below ``texture_threshold``, the cue score
   below ``cues_threshold``, or a challenge that was failed or timed out: SPOOF. No other check
   can outvote a confident sign of a print or screen.
2. **The challenge is needed** when the mode is ``always`` (the default): on every face punch,
   face-only (1:N: the face alone names the person) and card then face (1:1: the face confirms a
   card); in mode ``face_only`` for every face-only approach, while a face that only confirms a
   card follows ``auto``; when the texture model is missing and ``allow_challenge_only`` lets face
   punching go on without it (then even with mode ``never``); or, in mode ``auto``, when the
   passive checks have spoken and are *not confidently live* (texture under
   ``texture_confident``). ``always`` and ``face_only`` (1:N) ask at once, the others once the
   passive checks are confident. Why every face is challenged: on real recaptures (Replay-Attack
   devel) 13 of 60 printed photos and 7 of 58 tablet photos score >= 0.9 on texture, and with a
   card in hand the passive checks alone let 16.7 % of prints and 10 % of tablet photos through;
   no texture threshold separates them with a margin (docs/liveness.md).
3. **Needed challenge**: passed → LIVE; not yet → UNDECIDED with ``ask_challenge``.
4. **No challenge needed**: LIVE once every enabled passive check is confident and none refused
   (mode ``never`` accepts the zone between ``texture_threshold`` and ``texture_confident``);
   UNDECIDED while they are still gathering frames.

The texture model missing without ``allow_challenge_only`` is never decided here: the engine is
not ready and refuses to open a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from core.config import LivenessConfig
from kiosk.liveness.base import CheckScore, Verdict

#: What the screen says when a check refuses (Bahasa Indonesia first).
REASONS: dict[str, str] = {
    "texture": "Wajah tidak terdeteksi asli (foto atau layar?)",
    "cues": "Terdeteksi layar atau cetakan foto",
    "challenge": "Gerakan yang diminta tidak terdeteksi",
}


@dataclass(frozen=True)
class Policy:
    challenge: Literal["face_only", "auto", "always", "never"] = "always"
    texture_available: bool = True
    allow_challenge_only: bool = False
    cues_enabled: bool = True
    texture_threshold: float = 0.5
    texture_confident: float = 0.9
    cues_threshold: float = 0.5
    one_to_one: bool = False  # the face confirms a card (1:1), rather than naming the person (1:N)

    @classmethod
    def from_config(cls, config: LivenessConfig, *, texture_available: bool) -> Policy:
        return cls(
            challenge=config.challenge,
            texture_available=texture_available,
            allow_challenge_only=config.allow_challenge_only,
            cues_enabled=config.cues_enabled,
            texture_threshold=config.texture_threshold,
            texture_confident=max(config.texture_confident, config.texture_threshold),
            cues_threshold=config.cues_threshold,
        )


@dataclass(frozen=True)
class Judgement:
    """What the combining rule concludes from the checks so far: live, spoof or not yet, and
    whether to ask the challenge (the punch's own decision is :class:`kiosk.web.ports.Decision`)."""

    verdict: Verdict
    ask_challenge: bool = False
    reason: str = ""
    refused_by: str | None = None


def decide(scores: Mapping[str, CheckScore | None], policy: Policy) -> Judgement:
    """Combine the checks' scores (keys ``texture``, ``cues``, ``challenge``) under ``policy``."""
    texture = scores.get("texture") if policy.texture_available else None
    cues = scores.get("cues") if policy.cues_enabled else None
    challenge = scores.get("challenge")

    # 1. a confident refusal wins
    limits = {"texture": policy.texture_threshold, "cues": policy.cues_threshold, "challenge": 0.5}
    for name, score in (("texture", texture), ("cues", cues), ("challenge", challenge)):
        if score is not None and score.confident and score.score < limits[name]:
            return Judgement(Verdict.SPOOF, reason=REASONS[name], refused_by=name)

    texture_done = not policy.texture_available or (texture is not None and texture.confident)
    cues_done = not policy.cues_enabled or (cues is not None and cues.confident)
    passive_done = texture_done and cues_done

    # 2. is the challenge needed?
    if policy.challenge == "always" or not policy.texture_available:
        needed = True
    elif policy.challenge == "face_only" and not policy.one_to_one:
        needed = True  # asked at once: the passive checks run meanwhile and can still refuse
    elif policy.challenge == "never":
        needed = False
    else:
        needed = passive_done and texture is not None and texture.score < policy.texture_confident

    # 3. a needed challenge decides (the passive checks have not refused)
    if needed:
        if challenge is not None and challenge.confident and challenge.score >= 0.5:
            return Judgement(Verdict.LIVE) if passive_done else Judgement(Verdict.UNDECIDED)
        return Judgement(Verdict.UNDECIDED, ask_challenge=True)

    # 4. passive checks alone
    if passive_done:
        return Judgement(Verdict.LIVE)
    return Judgement(Verdict.UNDECIDED)
