"""``presensi bench recap`` at a small scale: the figures it prints and the recap's coverage."""

from __future__ import annotations

import json

from kiosk.cli import main


def test_bench_recap_small(capsys) -> None:
    assert main(["bench", "recap", "--json", "--employees", "60", "--units", "3"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bench"] == "recap" and result["server_database"] == "sqlite"
    assert result["employees"] == 60 and result["punches"] > 60 * 21  # two a day, a few absent
    assert result["days_written"] >= 60 * 21 and result["tk_days"] > 0
    assert result["recap_all_offices_s"] < result["target_recap_s"]
    assert result["live_units"] == 3 and result["live_punches"] == 60  # every punched day said hadir at the end
    assert result["live_uploads"] == 3 * 18
