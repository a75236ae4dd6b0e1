"""Configuration: every problem on one line naming the key, exit 2; examples load."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from core.config import KioskConfig, load_config, parse_config, redacted
from core.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((REPO / "examples").glob("*.toml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[unit\nname='x'", "(file): not valid TOML"),
        ("[unit]\ncolour = 'red'\n", "unit.colour: unknown key (expected remove it, or check its spelling)"),
        ("[face]\nthreshold = 3.0\n", "face.threshold: Input should be less than 1 (expected a value < 1.0)"),
        ("[face]\nupsample = 'two'\n", "face.upsample: Input should be a valid integer"),
        ("[unit]\nzone = 'Asia/Tokyo'\n", "unit.zone: unknown zone 'Asia/Tokyo'"),
        ("[camera]\nsource = 'usb'\n", "camera.source: Input should be"),
        ("unit = 5\n", "unit: Input should be a valid dictionary or instance of UnitConfig"),
    ],
)
def test_each_problem_names_its_key(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert any(line.startswith(expected) for line in caught.value.problems), caught.value.problems


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[unit]\nfoo = 1\n[face]\nthreshold = 9\n[sync]\nbatch_size = 0\n")
    keys = sorted(p.split(":")[0] for p in caught.value.problems)
    assert keys == ["face.threshold", "sync.batch_size", "unit.foo"]


def test_defaults_need_no_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRESENSI_CONFIG", raising=False)
    config = load_config(None) if not Path("/etc/presensi/kiosk.toml").exists() else KioskConfig()
    assert config.unit.zone == "Asia/Jakarta"
    assert config.data_dir(Path("/tmp/x")) == Path("/tmp/x")


def test_every_field_has_a_description() -> None:
    from core.config import describe

    missing = [key for key, _default, text in describe() if not text]
    assert missing == []


def test_secrets_are_redacted(tmp_path: Path) -> None:
    config = parse_config(f"[sync]\nclient_key_file = '{tmp_path / 'k.pem'}'\n")
    assert redacted(config)["sync"]["client_key_file"] == "***"


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_configs_load(path: Path) -> None:
    config = load_config(path)
    assert config.source == path


def test_examples_exist() -> None:
    names = {p.name for p in EXAMPLES}
    assert {"office.toml", "event.toml", "demo.toml"} <= names


@pytest.mark.parametrize(
    "text",
    ["[unit\n", "[unit]\nnope = 1\n", "[face]\nthreshold = 7\n", "[face]\nagree_frames = 'x'\n"],
    ids=["malformed", "unknown-key", "out-of-range", "wrong-type"],
)
def test_config_check_exits_2_with_one_line_per_problem(tmp_path: Path, presensi_cmd: list[str], text: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    result = subprocess.run([*presensi_cmd, "config", "check", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines and all(": " in line and "(expected" in line for line in lines), result.stderr


@pytest.mark.parametrize("command", [["doctor"], ["verify"], ["demo", "--once"]])
def test_a_service_refuses_to_start_on_a_bad_config(tmp_path: Path, presensi_cmd: list[str], command: list[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[store]\nbusy_timeout_ms = -1\n")
    result = subprocess.run(
        [*presensi_cmd, "--config", str(bad), *command, "--data-dir", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert "store.busy_timeout_ms" in result.stderr


def test_config_show_redacts_and_runs_without_a_file(tmp_path: Path, presensi_cmd: list[str]) -> None:
    result = subprocess.run(
        [*presensi_cmd, "config", "show", "--json", "--data-dir", str(tmp_path)], capture_output=True, text=True, check=True
    )
    assert '"zone": "Asia/Jakarta"' in result.stdout


def test_configuration_reference_is_current() -> None:
    """docs/configuration.md is the models' own reference; regenerate it when a field changes."""
    from core.config.doc import reference_markdown

    doc = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
    assert doc.read_text(encoding="utf-8") == reference_markdown(), (
        "docs/configuration.md is stale: run presensi config show --markdown > docs/configuration.md"
    )
    for key in ("`[privacy]`", "`key_provider`", "`screen_frame_ancestors`", '`type = "adms"`'):
        assert key in doc.read_text(encoding="utf-8")


def test_the_template_key_file_default_follows_the_machine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed unit (or root) keeps it in /etc/presensi; a developer's run with no
    configuration keeps it in their own config folder, so `presensi enroll` works unprivileged."""
    from core.config import default_key_file

    monkeypatch.delenv("PRESENSI_TEMPLATE_KEY_FILE", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    monkeypatch.setattr("core.config.Path.is_dir", lambda self: False)
    assert default_key_file() == tmp_path / "xdg" / "presensi" / "template.key"
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert default_key_file() == Path("/etc/presensi/template.key")
    monkeypatch.setenv("PRESENSI_TEMPLATE_KEY_FILE", str(tmp_path / "k"))
    assert default_key_file() == tmp_path / "k"
