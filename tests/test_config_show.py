"""``presensi config show`` prints TOML that reads back as the same configuration (issue 23.4: it
crashed at ``[targets]``, an array of tables)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from core.config import load_config

WITH_TARGETS = """
[unit]
name = "Kiosk Presensi — Dinas Kominfo"
zone = "Asia/Makassar"

[[targets]]
type = "frappe"
name = "hr"
url = "https://hr.example-kabupaten.go.id"
api_key_file = "/etc/presensi/frappe-key"
api_secret_file = "/etc/presensi/frappe-secret"

[[targets]]
type = "adms"
name = "server-lama"
url = "http://10.10.1.5:8081"
allow_plain_http = true
"""


def test_config_show_prints_toml_that_loads_back(tmp_path: Path, presensi_cmd: list[str]) -> None:
    source = tmp_path / "presensi.toml"
    source.write_text(WITH_TARGETS)
    for extra in ([], ["--config", str(source)]):
        shown = subprocess.run(
            [*presensi_cmd, "config", "show", "--data-dir", str(tmp_path), *extra], capture_output=True, text=True
        )
        assert shown.returncode == 0, shown.stderr
        tomllib.loads(shown.stdout)  # valid TOML
    echoed = tmp_path / "shown.toml"
    echoed.write_text(shown.stdout)
    again = load_config(echoed)
    original = load_config(source)
    assert [(t.type, t.name) for t in again.targets] == [("frappe", "hr"), ("adms", "server-lama")]
    assert again.unit.zone == "Asia/Makassar" and again.unit.name == original.unit.name
    dumped, expected = again.model_dump(), original.model_dump()
    for d in (dumped, expected):
        d.pop("source", None)
        d["unit"].pop("data_dir", None)
    assert dumped == expected
