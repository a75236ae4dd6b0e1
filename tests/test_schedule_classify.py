"""The classifier's rules on custom work codes: night shifts, zones, holidays, the roster's work
codes in the database, and properties over any instant."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.admission import refusal
from core.clock import FakeClock
from core.errors import ConfigError
from core.schedule.classify import EarlierPunch, Schedule, classify, duration_text
from core.schedule.holidays import Holiday, HolidayCalendar, store_holidays
from core.schedule.workcodes import WorkCodeBook, hhmm, parse_hhmm, parse_work_code, presets
from core.store.punches import KINDS, PunchRequest, PunchStore

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"

NIGHT = {
    "code": "RSUD-MALAM",
    "name": "RSUD – shift malam",
    "observes_holidays": False,
    "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat", "sabtu", "minggu"], "hours": ["19:00", "07:00"]}],
}
OFFICE = {  # no zone of its own: the unit's zone applies
    "code": "KANTOR",
    "name": "Kantor 07:00–15:30",
    "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:00", "15:30"], "breaks": [["12:00", "13:00"]]}],
}


#: The general rule with a latest pulang and two punches a day (as Purbalingga's Pasal 7).
TWO_PUNCHES = {
    "code": "DUA-KALI",
    "name": "Dua kali sehari",
    "rule": {"before_start_min": 60, "after_end_min": 180, "max_after_end_min": 180, "punches_per_day": 2},
    "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:00", "15:00"]}],
}


def at(local: str, zone: str) -> datetime:
    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def punches(*times: tuple[str, str]) -> list[EarlierPunch]:
    return [EarlierPunch(at(local, WIB), kind) for local, kind in times]


@pytest.mark.parametrize(
    ("local", "earlier", "expected", "service"),
    [
        ("2026-11-23 18:00:00", None, ("masuk", "tepat_waktu", 0), "2026-11-23"),
        ("2026-11-23 19:00:59", None, ("masuk", "tepat_waktu", 0), "2026-11-23"),
        ("2026-11-23 19:05:00", None, ("masuk", "terlambat", 5), "2026-11-23"),
        ("2026-11-23 23:59:30", "2026-11-23 18:55:00", ("pulang", "pulang_cepat", 421), "2026-11-23"),
        ("2026-11-24 00:00:30", "2026-11-23 18:55:00", ("pulang", "pulang_cepat", 420), "2026-11-23"),
        ("2026-11-24 06:50:00", "2026-11-23 18:55:00", ("pulang", "pulang_cepat", 10), "2026-11-23"),
        ("2026-11-24 07:00:00", "2026-11-23 18:55:00", ("pulang", "tepat_waktu", 0), "2026-11-23"),
        ("2026-11-24 10:00:59", "2026-11-23 18:55:00", ("pulang", "tepat_waktu", 0), "2026-11-23"),
        ("2026-11-24 10:01:00", "2026-11-23 18:55:00", ("pulang", "lembur", 181), "2026-11-23"),
        ("2026-11-24 18:00:00", "2026-11-23 18:55:00", ("masuk", "tepat_waktu", 0), "2026-11-24"),
    ],
)
def test_night_shift_across_midnight(local: str, earlier: str | None, expected: tuple[str, str, int], service: str) -> None:
    wc = parse_work_code(NIGHT)
    assert wc.days[0].crosses_midnight
    prior = [EarlierPunch(at(earlier, WIB), "masuk")] if earlier else []
    result = classify(at(local, WIB), WIB, wc, prior)
    assert (result.kind, result.status, result.minutes) == expected
    assert result.service_date == date.fromisoformat(service)


def test_night_shift_works_on_holidays_when_it_does_not_observe_them() -> None:
    wc = parse_work_code(NIGHT)
    result = classify(at("2026-08-17 19:00:00", WIB), WIB, wc, [], HolidayCalendar())
    assert (result.kind, result.status) == ("masuk", "tepat_waktu")
    office = parse_work_code(OFFICE)
    assert classify(at("2026-08-17 07:00:00", WIB), WIB, office, [], HolidayCalendar()).reason == "hari_libur"
    assert classify(at("2026-08-17 07:00:00", WIB), WIB, office, [], None).status == "tepat_waktu"


def test_zone_change_between_wib_and_wita() -> None:
    office = parse_work_code(OFFICE)
    instant = datetime(2026, 11, 24, 0, 0, 30, tzinfo=UTC)  # 07:00:30 WIB = 08:00:30 WITA = 09:00:30 WIT
    wib = classify(instant, WIB, office)
    wita = classify(instant, WITA, office)
    wit = classify(instant, WIT, office)
    assert (wib.kind, wib.status, wib.minutes) == ("masuk", "tepat_waktu", 0)
    assert (wita.kind, wita.status, wita.minutes) == ("masuk", "terlambat", 60)
    assert (wit.kind, wit.status, wit.minutes) == ("masuk", "terlambat", 120)
    assert (wib.zone_label, wita.zone_label, wit.zone_label) == ("WIB", "WITA", "WIT")
    assert wita.text() == "Terlambat 1 jam"


def test_a_work_code_that_pins_its_zone_ignores_the_units_zone() -> None:
    balangan = presets()["BALANGAN-5H"]
    instant = at("2026-11-24 08:05:00", WITA)
    for unit_zone in (WIB, WITA, WIT):
        result = classify(instant, unit_zone, balangan)
        assert (result.kind, result.status) == ("masuk", "tepat_waktu")
        assert result.zone_label == "WITA"


def test_breaks_reduce_working_minutes_only() -> None:
    office = parse_work_code(OFFICE)
    assert office.days[0].work_minutes() == 7 * 60 + 30
    result = classify(at("2026-11-24 12:30:00", WIB), WIB, office, [EarlierPunch(at("2026-11-24 06:50:00", WIB), "masuk")])
    assert (result.kind, result.status, result.minutes) == ("pulang", "pulang_cepat", 180)


def test_an_earlier_masuk_from_another_day_does_not_count() -> None:
    office = parse_work_code(OFFICE)
    yesterday = [EarlierPunch(at("2026-11-23 06:50:00", WIB), "masuk")]
    result = classify(at("2026-11-24 09:00:00", WIB), WIB, office, yesterday)
    assert (result.kind, result.status, result.minutes) == ("masuk", "terlambat", 120)


@pytest.mark.parametrize(
    ("local", "earlier", "expected"),
    [
        # the latest pulang: three hours after jam pulang (15:00 + 180 min = 18:00)
        ("2026-11-24 18:00:59", [("2026-11-24 06:30:00", "masuk")], ("pulang", "tepat_waktu", "", "")),
        (
            "2026-11-24 18:01:00",
            [("2026-11-24 06:30:00", "masuk")],
            ("lainnya", "di_luar_jadwal", "lewat_batas_pulang", "18:00 WIB"),
        ),
        (
            "2026-11-24 22:00:00",
            [("2026-11-24 06:30:00", "masuk")],
            ("lainnya", "di_luar_jadwal", "lewat_batas_pulang", "18:00 WIB"),
        ),
        # two punches: a second masuk is extra, and so is anything after the day's pulang
        ("2026-11-24 06:30:00", [("2026-11-24 06:00:00", "masuk")], ("lainnya", "tambahan", "sudah_masuk", "06:00 WIB")),
        ("2026-11-24 07:05:00", [("2026-11-24 06:00:00", "masuk")], ("lainnya", "tambahan", "sudah_masuk", "06:00 WIB")),
        ("2026-11-24 11:00:00", [("2026-11-24 06:00:00", "masuk")], ("lainnya", "tambahan", "sudah_masuk", "06:00 WIB")),
        ("2026-11-24 11:01:00", [("2026-11-24 06:00:00", "masuk")], ("pulang", "pulang_cepat", "", "")),
        ("2026-11-24 15:00:00", [("2026-11-24 06:00:00", "masuk")], ("pulang", "tepat_waktu", "", "")),
        (
            "2026-11-24 15:10:00",
            [("2026-11-24 06:00:00", "masuk"), ("2026-11-24 15:00:00", "pulang")],
            ("lainnya", "tambahan", "sudah_pulang", "15:00 WIB"),
        ),
        # a first punch after late_until is the day's pulang; nothing else comes after it
        ("2026-11-24 15:00:00", [], ("pulang", "tepat_waktu", "", "")),
        ("2026-11-24 16:00:00", [("2026-11-24 15:00:00", "pulang")], ("lainnya", "tambahan", "sudah_pulang", "15:00 WIB")),
        # extra punches (kind lainnya) and yesterday's punches hold no slot
        (
            "2026-11-24 06:45:00",
            [("2026-11-23 06:00:00", "masuk"), ("2026-11-24 06:10:00", "lainnya")],
            ("masuk", "tepat_waktu", "", ""),
        ),
    ],
)
def test_latest_pulang_and_two_punches_a_day(
    local: str, earlier: list[tuple[str, str]], expected: tuple[str, str, str, str]
) -> None:
    wc = parse_work_code(TWO_PUNCHES)
    assert wc.punches_per_day == 2 and wc.days[1].pulang_limit == 18 * 60
    result = classify(at(local, WIB), WIB, wc, punches(*earlier))
    assert (result.kind, result.status, result.reason, result.at) == expected
    assert result.accepted
    assert refusal(result) is None
    assert result.text() and result.text("en")


def test_screen_lines_of_extra_punches_and_the_latest_pulang() -> None:
    wc = parse_work_code(TWO_PUNCHES)
    second = classify(at("2026-11-24 06:30:00", WIB), WIB, wc, punches(("2026-11-24 06:00:00", "masuk")))
    assert second.text() == "Presensi tambahan – masuk sudah tercatat pukul 06:00 WIB"
    assert second.text("en") == "Extra punch – clock-in already recorded at 06:00 WIB"
    late = classify(at("2026-11-24 22:00:00", WIB), WIB, wc, [])
    assert late.text() == "Di luar jadwal – lewat batas presensi pulang 18:00 WIB"
    assert late.text("en") == "Outside schedule – past the latest clock-out 18:00 WIB"


def test_a_work_code_may_refuse_extra_punches_through_the_admission_path() -> None:
    refusing = parse_work_code({**TWO_PUNCHES, "rule": {**TWO_PUNCHES["rule"], "extra_punch": "tolak"}})  # type: ignore[dict-item]
    result = classify(at("2026-11-24 06:30:00", WIB), WIB, refusing, punches(("2026-11-24 06:00:00", "masuk")))
    assert (result.kind, result.status, result.accepted) == ("lainnya", "ditolak", False)
    assert refusal(result) == ("sudah_masuk", "Tidak dicatat – masuk sudah tercatat pukul 06:00 WIB")
    # the first punch of the day is never refused
    assert refusal(classify(at("2026-11-24 06:00:00", WIB), WIB, refusing, [])) is None


def test_one_punch_a_day() -> None:
    once = parse_work_code({**TWO_PUNCHES, "rule": {"punches_per_day": 1}})
    result = classify(at("2026-11-24 15:00:00", WIB), WIB, once, punches(("2026-11-24 06:50:00", "masuk")))
    assert (result.status, result.reason) == ("tambahan", "sudah_masuk")


def test_without_a_limit_every_punch_counts_as_before() -> None:
    office = parse_work_code(OFFICE)
    assert office.punches_per_day is None and office.days[0].pulang_limit is None
    earlier = punches(("2026-11-24 06:00:00", "masuk"))
    assert classify(at("2026-11-24 06:30:00", WIB), WIB, office, earlier).status == "tepat_waktu"
    assert classify(at("2026-11-24 22:00:00", WIB), WIB, office, earlier).status == "lembur"


def test_extra_punches_recorded_in_the_store_do_not_change_the_day(store: PunchStore, clock: FakeClock) -> None:
    conn = store.conn
    WorkCodeBook(conn).put(TWO_PUNCHES)
    conn.execute("INSERT INTO employees (id, name, work_code, updated_at) VALUES ('E1', 'Siti', 'DUA-KALI', 'x')")
    schedule = Schedule(conn, WIB)
    statuses = []
    for local in ("2026-11-24 06:00:00", "2026-11-24 06:30:00", "2026-11-24 15:05:00", "2026-11-24 15:30:00"):
        clock.set_wall(at(local, WIB))
        c = schedule.classify("E1", clock.now())
        store.record(PunchRequest("E1", "card", **c.request_fields()))
        statuses.append((c.kind, c.status))
    assert statuses == [("masuk", "tepat_waktu"), ("lainnya", "tambahan"), ("pulang", "tepat_waktu"), ("lainnya", "tambahan")]


def test_breaks_of_a_set_length_and_the_weekly_minimum() -> None:
    school = parse_work_code(
        {
            "code": "SEKOLAH",
            "name": "Sekolah",
            "min_weekly_hours": 37.5,
            "min_weekly_hours_source": "contoh, angka 6 huruf b",
            "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:00", "15:00"], "break_minutes": 30}],
        }
    )
    assert school.days[0].work_minutes() == 450
    assert school.weekly_hours() == 37.5 and school.meets_minimum() is True
    assert school.weekly_summary() == "37.5 hours a week; minimum 37.5 (contoh, angka 6 huruf b): met"
    short = parse_work_code({**OFFICE, "min_weekly_hours": 40})
    assert short.meets_minimum() is False and "NOT MET" in short.weekly_summary()
    assert parse_work_code(OFFICE).meets_minimum() is None


def test_a_placeholder_override_covers_no_day_until_filled_in() -> None:
    placeholder = {"name": "Ramadan", "source": "contoh: Surat Edaran Bupati"}
    wc = parse_work_code({**OFFICE, "override": [placeholder]})
    assert wc.overrides[0].placeholder and not wc.overrides[0].covers(date(2026, 3, 2))
    assert wc.pending and "Ramadan" in wc.pending[0] and "Surat Edaran Bupati" in wc.pending[0]
    assert classify(at("2026-03-02 07:00:00", WIB), WIB, wc).status == "tepat_waktu"
    filled = {
        **placeholder,
        "from": "2026-02-19",
        "until": "2026-03-19",
        "day": [{"days": ["senin"], "hours": ["08:00", "15:00"]}],
    }
    assert not parse_work_code({**OFFICE, "override": [filled]}).pending


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"code": "X", "name": "X", "day": [{"days": ["senen"], "hours": ["07:00", "15:00"]}]}, "unknown weekday"),
        ({"code": "X", "name": "X", "day": [{"days": ["senin"], "hours": ["25:00", "15:00"]}]}, "not a time"),
        ({"code": "X", "name": "X", "day": [{"days": ["senin"], "masuk": ["06:00", "07:00"]}]}, "give hours"),
        (
            {"code": "X", "name": "X", "zone": "Asia/Tokyo", "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}]},
            "unknown zone",
        ),
        ({"code": "X", "name": "X", "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}], "extra": 1}, "Extra inputs"),
        (
            {
                "code": "X",
                "name": "X",
                "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}, {"days": ["senin"], "hours": ["08:00", "16:00"]}],
            },
            "given twice",
        ),
        (
            {
                "code": "X",
                "name": "X",
                "rule": {"max_after_end_min": 60},
                "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}],
            },
            "latest pulang 16:00 comes before the pulang window closes",
        ),
        (
            {"code": "X", "name": "X", "rule": {"punches_per_day": 3}, "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}]},
            "less than or equal to 2",
        ),
        (
            {
                "code": "X",
                "name": "X",
                "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}],
                "override": [{"name": "R", "from": "2026-02-19"}],
            },
            "give both from and until",
        ),
        (
            {
                "code": "X",
                "name": "X",
                "day": [{"days": ["senin"], "hours": ["07:00", "15:00"]}],
                "override": [{"name": "R", "from": "2026-02-19", "until": "2026-03-19"}],
            },
            "needs its days' hours",
        ),
    ],
)
def test_bad_work_codes_are_refused_with_the_reason(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_work_code(spec)
    assert message in str(caught.value) + " ".join(caught.value.problems)


def test_roster_work_codes_and_holidays_in_the_database(store: PunchStore, clock: FakeClock) -> None:
    conn = store.conn
    book = WorkCodeBook(conn)
    book.put(OFFICE, version=3)
    now = "2026-11-23T00:00:00Z"
    conn.execute("INSERT INTO employees (id, name, work_code, updated_at) VALUES ('E1', 'Siti', 'KANTOR', ?)", (now,))
    conn.execute("INSERT INTO employees (id, name, work_code, updated_at) VALUES ('E2', 'Budi', '', ?)", (now,))
    store_holidays(conn, [Holiday(date(2026, 11, 25), "Hari Guru (libur daerah, contoh)", "daerah")])
    schedule = Schedule(conn, WIB, default_work_code="JEMBER-5H")
    assert "KANTOR" in book.codes() and "JEMBER-5H" in book.codes()
    # the first punch of the day is a late masuk; the next one, read from the store, a pulang
    clock.set_wall(at("2026-11-24 07:10:00", WIB))
    first = schedule.classify("E1", clock.now())
    assert (first.kind, first.status, first.minutes) == ("masuk", "terlambat", 10)
    store.record(PunchRequest("E1", "card", **first.request_fields()))
    clock.set_wall(at("2026-11-24 09:00:00", WIB))
    second = schedule.classify("E1", clock.now())
    assert (second.kind, second.status, second.minutes) == ("pulang", "pulang_cepat", 390)
    # E2 has no work code of their own: the unit's default applies
    assert schedule.classify("E2", at("2026-11-24 07:00:59", WIB)).status == "tepat_waktu"
    # the holiday from the roster
    assert schedule.classify("E1", at("2026-11-25 07:00:00", WIB)).reason == "hari_libur"
    assert schedule.describe_day("E1", date(2026, 11, 25)).startswith("libur: Hari Guru")
    assert schedule.describe_day("E1", date(2026, 11, 24)) == "masuk 06:00–07:00, pulang 15:30–18:30"
    # no work code and no default: tanpa jadwal
    bare = Schedule(conn, WIB)
    assert bare.classify("E2", clock.now()).text() == "Tanpa jadwal"


def test_roster_updates_replace_a_work_code(store: PunchStore) -> None:
    book = WorkCodeBook(store.conn)
    book.put(OFFICE)
    changed = dict(OFFICE, day=[{"days": ["senin"], "hours": ["08:00", "16:00"]}])
    book.put(changed)
    assert WorkCodeBook(store.conn).get("KANTOR").days[0].start == 8 * 60  # type: ignore[union-attr]


@given(st.integers(min_value=0, max_value=23), st.integers(min_value=0, max_value=59))
def test_hhmm_round_trips(hours: int, minutes: int) -> None:
    text = f"{hours:02d}:{minutes:02d}"
    assert hhmm(parse_hhmm(text)) == text


@given(st.text(max_size=8))
def test_parse_hhmm_refuses_or_returns_a_minute_of_the_day(text: str) -> None:
    try:
        value = parse_hhmm(text)
    except ValueError:
        return
    assert 0 <= value <= 1440


ALL = [*presets().values(), parse_work_code(NIGHT), parse_work_code(OFFICE)]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(ALL),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from([WIB, WITA, WIT]),
    st.booleans(),
)
def test_any_instant_gets_a_valid_classification(wc, naive: datetime, zone: str, masuk_before: bool) -> None:  # type: ignore[no-untyped-def]
    instant = naive.replace(tzinfo=UTC)
    earlier = [EarlierPunch(instant - timedelta(hours=3), "masuk")] if masuk_before else []
    result = classify(instant, zone, wc, earlier, HolidayCalendar())
    assert result.kind in KINDS
    assert result.minutes >= 0
    assert result.text()
    assert result.text("en")
    if result.status in ("tepat_waktu", "di_luar_jadwal"):
        assert result.minutes == 0
    if result.status == "terlambat":
        assert result.kind == "masuk" and result.minutes >= 1


def test_duration_text() -> None:
    assert duration_text(0) == "0 menit"
    assert duration_text(60) == "1 jam"
    assert duration_text(61, "en") == "1 h 1 min"
