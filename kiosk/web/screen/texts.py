"""What the kiosk screen says, Bahasa Indonesia first, English second, from :mod:`core.i18n`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.clock import local_time, zone_abbreviation
from core.i18n import MESSAGES, detail_text
from core.schedule.classify import screen_text
from core.store.punches import parse_instant
from kiosk.web.ports import Decision, Prompt

Text = dict[str, str]
EVENT_KINDS = ("apel", "senam", "tausiyah")


def _section(prefix: str) -> dict[str, tuple[str, str]]:
    return {key.removeprefix(prefix): pair for key, pair in MESSAGES.items() if key.startswith(prefix)}


#: The screen's words, from the one catalogue (core.i18n): what a punch was, why one was
#: refused, what the person should do.
KINDS = _section("screen.kind.")
REASONS = _section("screen.reason.")
PROMPTS = _section("screen.prompt.")


def _pair(pair: tuple[str, str], **fmt: Any) -> Text:
    return {"id": pair[0].format(**fmt), "en": pair[1].format(**fmt)}


def headline(decision: Decision) -> Text:
    """'Masuk – tepat waktu', 'Terlambat 1 jam 15 menit', 'Hadir – Apel', or why not. The status
    line is :func:`core.schedule.classify.screen_text`'s, the one text source the services'
    own feedback, the CSV and the reports use too."""
    if not decision.accepted:
        if decision.reason_text:
            base = _pair(REASONS.get(decision.reason or "", REASONS["error"]))
            return {"id": decision.reason_text, "en": base["en"]}
        return _pair(REASONS.get(decision.reason or "error", REASONS["error"]))
    kind = decision.kind or "lainnya"
    if not decision.status:
        return _pair(KINDS.get(kind, KINDS["lainnya"]))
    if decision.reason_text and kind not in EVENT_KINDS:
        # the schedule's own line, with what only it knows: "Di luar jadwal – hari libur: Natal"
        return {"id": decision.reason_text, "en": screen_text(kind, decision.status, decision.minutes, lang="en")}
    event = KINDS[kind][0] if kind in EVENT_KINDS else ""
    return {
        lang: screen_text(
            kind, decision.status, decision.minutes, lang=lang, event=event if lang == "id" else KINDS[kind][1] if event else ""
        )
        for lang in ("id", "en")
    }


def tone(decision: Decision) -> str:
    """ok (green), warn (amber: late, early, outside the schedule), bad (red: refused), or info
    (neutral: a repeat, already recorded — nothing is wrong)."""
    if decision.reason == "duplicate":
        return "info"
    if not decision.accepted:
        return "bad"
    return "warn" if decision.status in ("terlambat", "pulang_cepat", "di_luar_jadwal", "tambahan") else "ok"


def decision_message(decision: Decision, zone: str, now: datetime) -> dict[str, Any]:
    """The JSON the screen's live channel sends for a decision."""
    instant = parse_instant(decision.instant) if decision.instant else now
    local = local_time(instant, zone)
    return {
        "type": "decision",
        "accepted": decision.accepted,
        "name": decision.name or (decision.employee_id if decision.accepted else None),
        "employee_id": decision.employee_id,
        "method": decision.method,
        "time": local.strftime("%H:%M:%S"),
        "zone": zone_abbreviation(zone),
        "headline": headline(decision),
        "tone": tone(decision),
    }


#: The liveness challenge's own words (kiosk.liveness.challenge.PROMPT_TEXT) → the screen's code,
#: so the prompt is shown in the chosen language and animated (an arrow to the side asked).
CHALLENGE_CODES: dict[str, str] = {"Toleh ke kiri": "turn_left", "Toleh ke kanan": "turn_right", "Kedipkan mata": "blink"}


def prompt_message(prompt: Prompt) -> dict[str, Any]:
    code = CHALLENGE_CODES.get(prompt.text or "")
    if code is not None:
        return {"type": "prompt", "code": code, "text": _pair(PROMPTS[code]), "challenge": True}
    pair = PROMPTS.get(prompt.code)
    said = prompt.text or prompt.code
    text = _pair(pair) if pair else {"id": detail_text(said, "id"), "en": detail_text(said, "en")}
    if prompt.text:
        text["id"] = prompt.text
    return {"type": "prompt", "code": prompt.code, "text": text}
