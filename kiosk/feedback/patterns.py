"""Feedback patterns as data: which output goes on or off when, for accepted, rejected and attention.

The GPIO driver plays them on LEDs, the buzzer and the relay; the kiosk screen can play the
buzzer steps as tones (:func:`as_json`) so a unit without a buzzer still sounds the same.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any


class Output(enum.StrEnum):
    GREEN = "green"
    RED = "red"
    BUZZER = "buzzer"
    RELAY = "relay"


class PatternName(enum.StrEnum):
    ACCEPTED = "accepted"  # punch recorded: green light, one short beep, relay pulse
    REJECTED = "rejected"  # refused: red light, three short beeps
    ATTENTION = "attention"  # the kiosk needs something (look at the camera): green blinks, two quick beeps


@dataclass(frozen=True)
class Step:
    at_ms: int
    output: Output
    on: bool


def _beeps(count: int, on_ms: int, off_ms: int) -> list[Step]:
    steps = []
    for i in range(count):
        start = i * (on_ms + off_ms)
        steps += [Step(start, Output.BUZZER, True), Step(start + on_ms, Output.BUZZER, False)]
    return steps


def _blink(output: Output, count: int, on_ms: int, off_ms: int) -> list[Step]:
    steps = []
    for i in range(count):
        start = i * (on_ms + off_ms)
        steps += [Step(start, output, True), Step(start + on_ms, output, False)]
    return steps


ACCEPTED_LIGHT_MS = 1500
REJECTED_LIGHT_MS = 2000

#: Tone the screen plays for the buzzer steps of each pattern.
TONE_HZ = {PatternName.ACCEPTED: 1200, PatternName.REJECTED: 400, PatternName.ATTENTION: 900}


def steps(name: PatternName | str, *, relay_pulse_ms: int = 500) -> list[Step]:
    """The steps of a pattern, in time order (ties keep the order written here)."""
    name = PatternName(name)
    if name is PatternName.ACCEPTED:
        out = [Step(0, Output.GREEN, True), Step(ACCEPTED_LIGHT_MS, Output.GREEN, False), *_beeps(1, 150, 0)]
        out += [Step(0, Output.RELAY, True), Step(relay_pulse_ms, Output.RELAY, False)]
    elif name is PatternName.REJECTED:
        out = [Step(0, Output.RED, True), Step(REJECTED_LIGHT_MS, Output.RED, False), *_beeps(3, 100, 100)]
    else:
        out = [*_blink(Output.GREEN, 2, 200, 200), *_beeps(2, 60, 60)]
    return sorted(out, key=lambda s: s.at_ms)


def as_json(relay_pulse_ms: int = 500) -> dict[str, Any]:
    """Every pattern's buzzer steps and tone, for the kiosk screen's audible feedback."""
    return {
        name.value: {
            "tone_hz": TONE_HZ[name],
            "beeps": [
                {"at_ms": s.at_ms, "on": s.on} for s in steps(name, relay_pulse_ms=relay_pulse_ms) if s.output is Output.BUZZER
            ],
        }
        for name in PatternName
    }
