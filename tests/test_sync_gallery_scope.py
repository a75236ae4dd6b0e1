"""A unit holds only its own people, with the templates of its own embedder: admin commands → the
reference server over TLS → two units provisioned for two offices (one on dlib, one on the shared
MobileFaceNet), identified with ``presensi identify``'s own code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.sync_support import unit_runtime

from core.config import FaceConfig
from core.runtime import Runtime
from core.templates.embedder_ids import embedder_id
from kiosk.commands.identify_cmd import identify_photo
from kiosk.demo.server import ServerProcess
from kiosk.face import devmodels
from kiosk.face.embedders import DLIB_ID
from sync.provision import provision
from sync.service import run_once

PEOPLE = {
    "OBAMA": ("obama", "DISKOMINFO"),
    "BIDEN": ("biden", "DISKOMINFO"),
    "KIT": ("kit_harington", "BAPPEDA"),
    "ROSE": ("rose_leslie", "BAPPEDA"),
}


@pytest.fixture
def onnx_face(models_dir: Path) -> FaceConfig:
    settings = devmodels.onnx_settings(models_dir)
    assert settings is not None, "the shared MobileFaceNet is missing from ../shared/models"
    return FaceConfig(**settings)


@pytest.fixture
def server(tmp_path: Path, onnx_face: FaceConfig) -> Iterator[ServerProcess]:
    model = (
        "[[face_models]]\n"
        f'path = "{onnx_face.onnx_model}"\n'
        f'input_name = "{onnx_face.onnx_input_name}"\noutput_name = "{onnx_face.onnx_output_name}"\n'
        f"mean = {list(onnx_face.onnx_mean or ())}\nstd = {list(onnx_face.onnx_std or ())}\n"
    )
    with ServerProcess(tmp_path / "server", extra_config=model) as running:
        yield running


def admin_cmd(server: ServerProcess, *args: str) -> str:
    cmd = [sys.executable, "-m", "kiosk.cli", "server", *args, "--server-config", str(server.config_path)]
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def held(runtime: Runtime) -> dict[str, set[str]]:
    """Active employee id → the embedders of the face templates the unit holds for them (an erased
    employee keeps an inactive row with no templates or cards, for the names of past punches)."""
    conn = runtime.connect()
    try:
        rows = conn.execute(
            "SELECT e.id, t.embedder FROM employees e LEFT JOIN face_templates t ON t.employee_id = e.id WHERE e.active = 1"
        )
        out: dict[str, set[str]] = {}
        for employee, embedder in rows:
            out.setdefault(employee, set()).update({embedder} if embedder else set())
        return out
    finally:
        conn.close()


def who(runtime: Runtime, photo: Path) -> str | None:
    result = identify_photo(runtime, photo)
    return result["employee_id"] if result["result"] == "match" else None


def test_each_unit_receives_and_identifies_only_its_office(
    server: ServerProcess, tmp_path: Path, faces_dir: Path, onnx_face: FaceConfig
) -> None:
    admin_cmd(server, "add-unit", "DISKOMINFO", "Dinas Komunikasi dan Informatika")
    admin_cmd(server, "add-unit", "BAPPEDA", "Badan Perencanaan Pembangunan Daerah")
    for employee, (folder, office) in PEOPLE.items():
        admin_cmd(server, "add-employee", employee, employee.title(), "--unit", office)
        photos = sorted(str(p) for p in (faces_dir / "train" / folder).iterdir())
        admin_cmd(server, "enrol-face", employee, *photos)
    faces = json.loads(admin_cmd(server, "faces", "--json"))
    assert faces["active_employees"] == 4
    assert {e["embedder"]: e["with_template"] for e in faces["embedders"]} == {DLIB_ID: 4, embedder_id(onnx_face): 4}
    assert all(not e["lookalikes"] for e in faces["embedders"])
    admin_cmd(server, "publish")

    kominfo = unit_runtime(tmp_path / "kominfo")
    kominfo.config.face = onnx_face
    provision(kominfo, server.url, admin_cmd(server, "issue-token", "--unit", "DISKOMINFO").strip(), server.ca_file)
    bappeda = unit_runtime(tmp_path / "bappeda")
    provision(bappeda, server.url, admin_cmd(server, "issue-token", "--unit", "BAPPEDA").strip(), server.ca_file)
    assert run_once(kominfo)["ok"] and run_once(bappeda)["ok"]
    onnx_id = embedder_id(onnx_face)
    assert held(kominfo) == {"OBAMA": {onnx_id}, "BIDEN": {onnx_id}}
    assert held(bappeda) == {"KIT": {DLIB_ID}, "ROSE": {DLIB_ID}}
    assert who(kominfo, faces_dir / "test" / "obama1.jpg") == "OBAMA"
    assert who(kominfo, faces_dir / "test" / "johnsnow_test1.jpg") is None  # KIT works at BAPPEDA
    assert who(bappeda, faces_dir / "test" / "johnsnow_test1.jpg") == "KIT"
    assert who(bappeda, faces_dir / "test" / "obama1.jpg") is None

    # an explicit addition (a named list): KIT may punch at DISKOMINFO too, then no longer
    device = kominfo.store().identity.device_id
    admin_cmd(server, "scope", device, "--add", "KIT")
    admin_cmd(server, "publish")
    run_once(kominfo)
    assert set(held(kominfo)) == {"OBAMA", "BIDEN", "KIT"}
    assert who(kominfo, faces_dir / "test" / "johnsnow_test1.jpg") == "KIT"
    admin_cmd(server, "scope", device, "--remove", "KIT")
    admin_cmd(server, "publish")
    run_once(kominfo)
    assert set(held(kominfo)) == {"OBAMA", "BIDEN"}
    conn = kominfo.connect()
    assert conn.execute("SELECT count(*) FROM face_templates WHERE employee_id = 'KIT'").fetchone()[0] == 0  # erased
    conn.close()

    # ROSE moves to DISKOMINFO: the one unit receives her, the other erases her
    admin_cmd(server, "add-employee", "ROSE", "Rose", "--unit", "DISKOMINFO")
    admin_cmd(server, "publish")
    run_once(kominfo), run_once(bappeda)
    assert set(held(kominfo)) == {"OBAMA", "BIDEN", "ROSE"}
    assert held(bappeda) == {"KIT": {DLIB_ID}}

    # the unit changes its model: the whole roster again, with the new embedder's templates only
    kominfo.config.face = FaceConfig()
    run_once(kominfo)
    assert held(kominfo) == {"OBAMA": {DLIB_ID}, "BIDEN": {DLIB_ID}, "ROSE": {DLIB_ID}}
    assert who(kominfo, faces_dir / "test" / "obama1.jpg") == "OBAMA"


def test_a_roster_request_with_a_bad_embedder_is_refused(server: ServerProcess, tmp_path: Path) -> None:
    from core.wire import SyncRejected, SyncUnavailable
    from sync.provision import build_client

    runtime = unit_runtime(tmp_path / "unit")
    provision(runtime, server.url, admin_cmd(server, "issue-token").strip(), server.ca_file)
    client = build_client(runtime)
    try:
        with pytest.raises((SyncRejected, SyncUnavailable), match="embedder"):
            client.target.roster(0, "not-a-sha256")
    finally:
        client.target.close()
