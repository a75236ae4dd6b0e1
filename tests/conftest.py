"""Fixtures shared by every test file."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.clock import FakeClock, FixedClockState
from core.identity import DeviceIdentity
from core.store.db import open_database
from core.store.punches import PunchStore

REPO = Path(__file__).resolve().parent.parent
#: The shared test data and models beside the repository (CI always has it).
SHARED = Path(os.environ.get("PRESENSI_SHARED", REPO.parent / "shared"))
ARTIFACTS = REPO / "artifacts"


def pytest_configure(config: pytest.Config) -> None:
    """The template key file of every unit a test makes without naming one (key_provider
    'keyfile' on built-in defaults) lives in a temporary folder, never in /etc/presensi or the
    home directory; subprocesses inherit it."""
    if "PRESENSI_TEMPLATE_KEY_FILE" not in os.environ:
        import tempfile

        os.environ["PRESENSI_TEMPLATE_KEY_FILE"] = str(Path(tempfile.mkdtemp(prefix="presensi-test-keys-")) / "template.key")
        # made as the boot service makes it on a unit: every process of a test unit (the test's
        # own and the commands it starts) reads the same key, and seals the device key with it
        from core.privacy.keys import KeyFileProvider

        KeyFileProvider(Path(os.environ["PRESENSI_TEMPLATE_KEY_FILE"])).ensure()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--soak", action="store_true", default=False, help="also run the long soak/fault-injection tests")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--soak"):
        return
    skip = pytest.mark.skip(reason="soak test: run with ./dev test --soak")
    for item in items:
        if "soak" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (faces, models); skips, saying why, only where it is absent (a user's clone)."""
    if not (SHARED / "testdata").is_dir():
        pytest.skip(f"needs the shared test data at {SHARED} (absent in a plain clone; CI has it)")
    return SHARED


@pytest.fixture(scope="session")
def faces_dir(shared_dir: Path) -> Path:
    return shared_dir / "testdata" / "faces"


@pytest.fixture(scope="session")
def models_dir(shared_dir: Path) -> Path:
    return shared_dir / "models"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where tests leave screenshots and reports for people to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def identity() -> DeviceIdentity:
    return DeviceIdentity.generate()


@pytest.fixture
def store(tmp_path: Path, identity: DeviceIdentity, clock: FakeClock) -> Iterator[PunchStore]:
    """A punch store on a real SQLite file in a temporary directory."""
    conn = open_database(tmp_path / "presensi.db")
    yield PunchStore(conn, identity, clock, FixedClockState())
    conn.close()


@pytest.fixture(scope="session")
def presensi_cmd() -> list[str]:
    """How to run the ``presensi`` command in a subprocess."""
    return [sys.executable, "-m", "kiosk.cli"]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for the module's server tests (skips when PostgreSQL is absent)."""
    from helpers.sync_support import PG_BIN, postgres_cluster

    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL 15 binaries missing in {PG_BIN} (apt-get install postgresql)")
    with postgres_cluster() as url:
        yield url
