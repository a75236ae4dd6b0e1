"""One text for a status: the kiosk screen's headline is the schedule's own line
(core.schedule.classify.screen_text), which the services' feedback and the reports use too."""

from __future__ import annotations

import pytest

from core.schedule.classify import screen_text
from kiosk.web.ports import Decision
from kiosk.web.screen.texts import headline


@pytest.mark.parametrize(
    ("kind", "status", "minutes", "indonesian", "english"),
    [
        ("masuk", "terlambat", 75, "Terlambat 1 jam 15 menit", "Late 1 h 15 min"),  # not "75 menit"
        ("pulang", "lembur", 90, "Pulang – lembur 1 jam 30 menit", "Clock-out – overtime 1 h 30 min"),
        ("pulang", "pulang_cepat", 240, "Pulang cepat 4 jam", "Left early 4 h"),
        ("masuk", "tepat_waktu", 0, "Masuk – tepat waktu", "Clock-in – on time"),
        ("lainnya", "tanpa_jadwal", 0, "Tanpa jadwal", "No schedule"),  # not a plain "Hadir"
        ("lainnya", "di_luar_jadwal", 0, "Di luar jadwal", "Outside schedule"),
        ("apel", "hadir", 0, "Hadir – Apel", "Present – Flag ceremony"),
        ("apel", "terlambat", 12, "Terlambat 12 menit – Apel", "Late 12 min – Flag ceremony"),
    ],
)
def test_the_screen_says_what_the_schedule_says(kind: str, status: str, minutes: int, indonesian: str, english: str) -> None:
    shown = headline(Decision(True, "1985", "Budi", "card", kind, status, minutes))
    assert shown == {"id": indonesian, "en": english}
    if kind not in ("apel", "senam", "tausiyah"):
        assert shown["id"] == screen_text(kind, status, minutes)  # the same source as the bridge's and the CSV's line


def test_a_repeat_reads_the_same_for_every_method_in_the_neutral_colour() -> None:
    """Issue 23, item 10: by card it read "Siti Rahmawati: sudah tercatat …" (the name twice on
    the screen) and by finger "… sudah presensi …", both red like an error."""
    from datetime import datetime

    from core.admission import already_punched_text
    from kiosk.web.screen.texts import tone

    text = already_punched_text(datetime(2026, 12, 3, 7, 42), "WIB")
    assert text == "Sudah presensi pukul 07:42 WIB"
    for method in ("face", "card", "finger"):
        repeat = Decision(False, "1985", "Siti Rahmawati", method, reason="duplicate", reason_text=text)
        assert tone(repeat) == "info" and headline(repeat) == {"id": text, "en": "Already recorded"}
    assert tone(Decision(False, reason="unknown_card")) == "bad"


def test_a_punch_on_a_holiday_says_which_holiday() -> None:
    """Issue 19: the screen said "Hadir – di luar jadwal" on a holiday; the schedule's own line
    names it, and the screen shows that line."""
    from kiosk.unit import _accepted
    from kiosk.web.screen.texts import headline as shown

    line = "Di luar jadwal – hari libur: Hari Raya Natal"
    punch = type(
        "P",
        (),
        {
            "employee_id": "1985",
            "method": "card",
            "kind": "lainnya",
            "status": "di_luar_jadwal",
            "minutes": 0,
            "instant": "2026-12-25T01:00:00Z",
            "id": "x",
        },
    )()
    decision = _accepted(punch, "Budi", line)  # type: ignore[arg-type]
    assert shown(decision) == {"id": line, "en": "Outside schedule"}
