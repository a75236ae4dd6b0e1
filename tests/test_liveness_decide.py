"""The combining rule (kiosk.liveness.decide): pure, so every branch is tested directly."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from core.config import LivenessConfig
from kiosk.liveness.base import CheckScore, Verdict
from kiosk.liveness.decide import Policy, decide


def s(name: str, score: float, confident: bool = True) -> CheckScore:
    return CheckScore(name, score, confident)


AUTO = Policy(challenge="auto")


def test_confidently_live_passive_checks_need_no_challenge() -> None:
    d = decide({"texture": s("texture", 0.97), "cues": s("cues", 0.9)}, AUTO)
    assert d.verdict is Verdict.LIVE and not d.ask_challenge


def test_low_texture_is_refused_without_asking() -> None:
    d = decide({"texture": s("texture", 0.2), "cues": s("cues", 0.9)}, AUTO)
    assert d.verdict is Verdict.SPOOF and d.refused_by == "texture" and not d.ask_challenge


def test_screen_cue_refuses_even_with_a_high_texture_score() -> None:
    d = decide({"texture": s("texture", 0.99), "cues": s("cues", 0.1)}, AUTO)
    assert d.verdict is Verdict.SPOOF and d.refused_by == "cues"


def test_unsure_texture_asks_the_challenge_in_auto_mode() -> None:
    scores = {"texture": s("texture", 0.7), "cues": s("cues", 0.9)}
    d = decide(scores, AUTO)
    assert d.verdict is Verdict.UNDECIDED and d.ask_challenge
    assert decide({**scores, "challenge": s("challenge", 0.3, confident=False)}, AUTO).ask_challenge
    assert decide({**scores, "challenge": s("challenge", 1.0)}, AUTO).verdict is Verdict.LIVE
    failed = decide({**scores, "challenge": s("challenge", 0.0)}, AUTO)
    assert failed.verdict is Verdict.SPOOF and failed.refused_by == "challenge"


def test_never_mode_accepts_the_unsure_zone_and_always_mode_asks_every_time() -> None:
    scores = {"texture": s("texture", 0.7), "cues": s("cues", 0.9)}
    assert decide(scores, Policy(challenge="never")).verdict is Verdict.LIVE
    confident = {"texture": s("texture", 0.99), "cues": s("cues", 0.9)}
    always = decide(confident, Policy(challenge="always"))
    assert always.verdict is Verdict.UNDECIDED and always.ask_challenge
    # 'always' asks at once, before the passive checks have finished
    assert decide({}, Policy(challenge="always")).ask_challenge


def test_waits_while_the_passive_checks_gather_frames() -> None:
    d = decide({"texture": s("texture", 0.99, confident=False), "cues": s("cues", 0.9)}, AUTO)
    assert d.verdict is Verdict.UNDECIDED and not d.ask_challenge
    # an unconfident low score does not refuse yet
    assert decide({"texture": s("texture", 0.1, confident=False)}, AUTO).verdict is Verdict.UNDECIDED


def test_missing_model_with_challenge_only_always_asks_even_in_never_mode() -> None:
    policy = Policy(challenge="never", texture_available=False, allow_challenge_only=True)
    d = decide({"cues": s("cues", 0.9)}, policy)
    assert d.ask_challenge and d.verdict is Verdict.UNDECIDED
    assert decide({"cues": s("cues", 0.9), "challenge": s("challenge", 1.0)}, policy).verdict is Verdict.LIVE


def test_cues_disabled_are_ignored() -> None:
    policy = Policy(challenge="auto", cues_enabled=False)
    assert decide({"texture": s("texture", 0.95), "cues": s("cues", 0.0)}, policy).verdict is Verdict.LIVE


def test_policy_from_config_keeps_confident_above_threshold() -> None:
    policy = Policy.from_config(LivenessConfig(texture_threshold=0.8, texture_confident=0.6), texture_available=True)
    assert policy.texture_confident == 0.8


score = st.floats(0, 1)


@given(
    texture=score,
    cues=score,
    challenge=st.none() | score,
    mode=st.sampled_from(["face_only", "auto", "always", "never"]),
    one_to_one=st.booleans(),
)
def test_a_confident_refusal_always_wins(
    texture: float, cues: float, challenge: float | None, mode: str, one_to_one: bool
) -> None:
    policy = Policy(challenge=mode, one_to_one=one_to_one)  # type: ignore[arg-type]
    scores = {"texture": s("texture", texture), "cues": s("cues", cues)}
    if challenge is not None:
        scores["challenge"] = s("challenge", challenge)
    d = decide(scores, policy)
    refused = texture < policy.texture_threshold or cues < policy.cues_threshold or (challenge is not None and challenge < 0.5)
    assert (d.verdict is Verdict.SPOOF) == refused
    if d.verdict is Verdict.LIVE:
        assert texture >= policy.texture_threshold and cues >= policy.cues_threshold
        follows_auto = mode == "auto" or (mode == "face_only" and one_to_one)
        if mode == "always" or (mode == "face_only" and not one_to_one) or (follows_auto and texture < policy.texture_confident):
            assert challenge is not None and challenge >= 0.5


def test_face_only_mode_asks_every_face_only_punch_and_lets_a_card_vouch() -> None:
    """Mode 'face_only' (the default before issue 18 was closed, now opt-in): a face naming the
    person (1:N) is always challenged, even with the passive checks confidently live (real prints
    reach texture 0.99); a face confirming a card (1:1) is judged like 'auto'."""
    confident = {"texture": s("texture", 0.99), "cues": s("cues", 0.9)}
    one_to_many = Policy(challenge="face_only")
    asked = decide(confident, one_to_many)
    assert asked.verdict is Verdict.UNDECIDED and asked.ask_challenge
    assert decide({}, one_to_many).ask_challenge  # asked at once, while the passive checks gather
    passed = {**confident, "challenge": s("challenge", 1.0)}
    assert decide(passed, one_to_many).verdict is Verdict.LIVE
    card = Policy(challenge="face_only", one_to_one=True)
    assert decide(confident, card).verdict is Verdict.LIVE
    unsure = {"texture": s("texture", 0.7), "cues": s("cues", 0.9)}
    assert decide(unsure, card).ask_challenge


def test_default_challenges_a_face_confirming_a_card_however_confident_the_texture() -> None:
    """The default ('always'): a card does not vouch for the face in front of the camera. Real
    prints held with a card reach texture 0.99 (Replay-Attack devel), so a confident passive
    score is no acceptance on its own on either path (issue 18)."""
    assert Policy().challenge == LivenessConfig().challenge == "always"
    confident = {"texture": s("texture", 0.999), "cues": s("cues", 0.95)}
    for one_to_one in (True, False):
        policy = replace(Policy.from_config(LivenessConfig(), texture_available=True), one_to_one=one_to_one)
        asked = decide(confident, policy)
        assert asked.verdict is Verdict.UNDECIDED and asked.ask_challenge
        assert decide({}, policy).ask_challenge  # asked at once, while the passive checks gather
        assert decide({**confident, "challenge": s("challenge", 1.0)}, policy).verdict is Verdict.LIVE
        failed = decide({**confident, "challenge": s("challenge", 0.0)}, policy)
        assert failed.verdict is Verdict.SPOOF and failed.refused_by == "challenge"
