"""The unit that ``presensi bench memory`` measures: the demo's configuration (simulated devices,
the shared test photos as the camera's reel, the demo's people) with a gallery of synthesised
employees, each with face templates for both embedders, stored through the store's own functions
and sealed with the unit's key as enrolment seals them.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.clock import Clock
from core.config import KioskConfig
from core.config.toml_text import toml_text
from core.runtime import Runtime
from core.store import roster
from core.store.vault import unit_sealer
from core.templates.embedder_ids import embedder_id
from core.templates.face import seal
from kiosk.demo.people import add_staff, enrol_faces, register
from kiosk.demo.server import provision_and_sync, start_demo_server
from kiosk.demo.session import demo_config, demo_face, make_reel
from kiosk.demo.sources import DemoSources
from kiosk.face import devmodels
from kiosk.face.embedders import load_embedder

log = logging.getLogger(__name__)

#: Templates per synthesised employee (an enrolment keeps a few photos' samples).
TEMPLATES_PER_EMPLOYEE = 3


def synthesise_gallery(
    conn: sqlite3.Connection, count: int, embedders: list[tuple[str, int]], clock: Clock, rng: np.random.Generator
) -> int:
    """``count`` employees, each with TEMPLATES_PER_EMPLOYEE templates for every (embedder id,
    dimensions) given: random unit vectors, far from each other and from any real face. Returns
    the number of templates stored."""
    sealer = unit_sealer(conn, first_templates=True)
    now = clock.now()
    stored = 0
    for n in range(count):
        employee_id = f"1980{1 + n % 12:02d}{1 + n % 28:02d}2005{n:06d}"
        roster.upsert_employee(conn, employee_id, f"Pegawai Sintetis {n + 1}", now=now, unit_code="DEMO")
        for embedder, dimensions in embedders:
            for _ in range(TEMPLATES_PER_EMPLOYEE):
                vector = rng.normal(size=dimensions)
                blob, scheme = seal(vector / np.linalg.norm(vector), employee_id=employee_id, sealer=sealer)
                roster.add_face_template(conn, employee_id, blob, scheme, now=now, embedder=embedder)
                stored += 1
    return stored


def write_config(config: KioskConfig, data_dir: Path, path: Path) -> Path:
    """``config`` as a TOML file whose unit lives in ``data_dir`` (what the services read)."""
    data: dict[str, Any] = config.model_dump(mode="json", exclude={"source"})
    data["unit"]["data_dir"] = str(data_dir)
    path.write_text("# presensi bench memory: the demo's configuration\n" + toml_text(data), encoding="utf-8")
    return path


@dataclass
class BenchUnit:
    """A prepared unit: its data, one configuration file per kiosk embedder, its reference server."""

    data_dir: Path
    configs: dict[str, Path]
    employees: int
    templates: int
    server: Any

    def stop(self) -> None:
        self.server.stop()


def prepare_unit(root: Path, size: int, sources: DemoSources, clock: Clock, seed: int) -> BenchUnit:
    """The demo's unit in ``root`` with ``size`` synthesised employees; stop() stops its server."""
    assert sources.train is not None and sources.test is not None
    data_dir = root / "unit"
    data_dir.mkdir(parents=True)
    base = demo_config(KioskConfig(), sources, make_reel(sources.test, root / "reel"))
    minifasnet = devmodels.shared_models() / "minifasnet"
    if (minifasnet / "MiniFASNetV2.onnx").is_file():  # what the image installs on every unit
        base.liveness.minifasnet_v2 = minifasnet / "MiniFASNetV2.onnx"
        base.liveness.minifasnet_v1se = minifasnet / "MiniFASNetV1SE.onnx"
    faces = {"kiosk_dlib": demo_face(base.face, "dlib", "hog")}
    if devmodels.onnx_settings() and devmodels.yunet_settings():
        faces["kiosk_onnx"] = demo_face(base.face, "onnx", "yunet")
    server, token = start_demo_server(root / "server", unit_code="DEMO")
    try:
        runtime = Runtime(base, data_dir, clock)
        provision_and_sync(runtime, server, token)
        conn = runtime.store().conn
        people, _ = enrol_faces(conn, sources.train, base.face, clock)
        people += add_staff(conn, 3, clock)
        register(conn, people, clock)
        dims = [(embedder_id(face), load_embedder(face).info.dimensions) for face in faces.values()]
        stored = synthesise_gallery(conn, size, dims, clock, np.random.default_rng(seed))
        runtime.close()
    except BaseException:
        server.stop()
        raise
    log.info("gallery of %d synthesised employees: %d templates", size, stored)
    configs = {}
    for name, face in faces.items():
        config = base.model_copy(deep=True)
        config.face = face
        configs[name] = write_config(config, data_dir, root / f"{name}.toml")
    return BenchUnit(data_dir, configs, size + len(people), stored, server)
