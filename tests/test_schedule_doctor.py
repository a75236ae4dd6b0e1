"""What the operator is told about work codes: ``presensi config check`` prints the default work
code's weekly hours against the regulation's minimum, and ``presensi doctor`` names the
assumptions in force for the default work code and the roster's codes in use (issue 19)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from core.config import parse_config
from core.runtime import Runtime
from core.schedule.workcodes import WorkCodeBook
from kiosk.checks.findings import Status
from kiosk.checks.schedule import work_codes
from kiosk.commands.config_cmd import default_work_code_line

CITED: dict[str, Any] = {  # a roster work code with nothing assumed
    "code": "KANTOR-DINAS",
    "name": "Kantor dinas",
    "region": "Kabupaten Contoh",
    "source": "contoh, Pasal 1",
    "min_weekly_hours": 37.5,
    "min_weekly_hours_source": "contoh, Pasal 2",
    "day": [{"days": ["senin", "selasa", "rabu", "kamis", "jumat"], "hours": ["07:00", "15:00"], "break_minutes": 30}],
}


def runtime(tmp_path: Path, default: str = "") -> Runtime:
    toml = f'[schedule]\ndefault_work_code = "{default}"\n' if default else ""
    return Runtime(config=parse_config(toml), data_dir=tmp_path)


def add_employee(rt: Runtime, employee_id: str, work_code: str = "", active: int = 1) -> None:
    conn = rt.connect()
    conn.execute(
        "INSERT INTO employees (id, name, work_code, active, updated_at) VALUES (?, ?, ?, ?, 'x')",
        (employee_id, employee_id, work_code, active),
    )
    conn.close()


def test_config_check_prints_the_default_work_codes_weekly_hours(tmp_path: Path, presensi_cmd: list[str]) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('[schedule]\ndefault_work_code = "(GLOBAL) 5 HARI (NON SEKOLAH)"\n')
    result = subprocess.run([*presensi_cmd, "config", "check", str(config)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "37.5 hours a week; minimum 37.5 (madiun-se-863-3422-2022.txt, angka 6 huruf b" in result.stdout
    assert ": met" in result.stdout and "assumption(s) in force (presensi doctor lists them)" in result.stdout


def test_config_check_lines_for_other_default_work_codes() -> None:
    assert "not set" in default_work_code_line("")
    assert "not a shipped preset" in default_work_code_line("SHIFT-RSUD")
    assert "no weekly minimum given" in default_work_code_line("BALANGAN-5H")
    assert "30 hours a week" in default_work_code_line("MALANG-WFO")


def test_doctor_names_the_assumptions_of_the_default_and_of_the_codes_in_use(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "JEMBER-5H")
    add_employee(rt, "A")  # no code of their own: the default
    add_employee(rt, "B", "PURBALINGGA-5H")
    add_employee(rt, "C", "MALANG-WFO", active=0)  # not active: not in use
    findings = {f.part: f for f in work_codes(rt)}
    assert set(findings) == {"work code JEMBER-5H", "work code PURBALINGGA-5H"}
    jember = findings["work code JEMBER-5H"]
    assert jember.status is Status.WARN
    assert "used by the default work code and 1 active employee (Kabupaten Jember)" in jember.detail
    assert "37.5 hours a week; minimum 37.5" in jember.detail and ": met" in jember.detail
    assert "Ramadan" in jember.detail and "Pasal 9 ayat (6)" in jember.detail  # the placeholder not filled in
    assert "late_until" in jember.detail and "roster" in jember.todo
    purbalingga = findings["work code PURBALINGGA-5H"]
    assert purbalingga.status is Status.WARN and "jam kerja" in purbalingga.detail and "extra_punch" in purbalingga.detail


def test_doctor_is_quiet_about_a_fully_cited_work_code(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "KANTOR-DINAS")
    conn = rt.connect()
    WorkCodeBook(conn).put(CITED)
    conn.close()
    [finding] = work_codes(rt)
    assert finding.status is Status.OK and "every value cited, none assumed" in finding.detail


def test_doctor_warns_of_a_week_short_of_the_minimum(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "KANTOR-DINAS")
    conn = rt.connect()
    WorkCodeBook(conn).put({**CITED, "min_weekly_hours": 40})
    conn.close()
    [finding] = work_codes(rt)
    assert finding.status is Status.WARN and "NOT MET" in finding.detail and "weekly minimum" in finding.todo


def test_doctor_fails_on_a_work_code_the_unit_does_not_know(tmp_path: Path) -> None:
    rt = runtime(tmp_path, "TIDAK-ADA")
    add_employee(rt, "A")
    [finding] = work_codes(rt)
    assert finding.status is Status.FAIL and "Tanpa jadwal" in finding.detail
    assert "used by the default work code and 1 active employee" in finding.detail


def test_doctor_warns_when_employees_have_no_work_code_and_there_is_no_default(tmp_path: Path) -> None:
    rt = runtime(tmp_path)
    add_employee(rt, "A")
    [finding] = work_codes(rt)
    assert finding.status is Status.WARN and "default_work_code" in finding.todo
    (tmp_path / "empty").mkdir()
    assert work_codes(runtime(tmp_path / "empty"))[0].status is Status.OK
