"""Outside the store package (core/store) and the reference server's own storage (sync/server),
no module of the product runs SQL itself: every table's reads and writes are named functions in
the module that owns it (docs/architecture.md, "Who owns which table"; issue 24). Checked over
every top-level package of the product, so a new package cannot slip past."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"\.(execute|executemany|executescript)\(")
PACKAGES = ("core", "kiosk", "sync", "firmware_bridge")
#: Where SQL belongs: the unit's store, and the reference server's storage layer.
OWNERS = ("core/store/", "sync/server/")

#: Benchmarks whose raw SQL is what they measure, or is the reference server's own database (each
#: says why in a comment beside it), with how many calls each keeps.
ALLOWED = {
    "kiosk/bench/store.py": 6,  # bare durable commits on a plain table: SQLite's own cost
    "kiosk/bench/interop.py": 1,  # the baseline read the port-4370 server is compared with
    "kiosk/bench/recap.py": 4,  # bulk loads of the reference server's database (its Storage)
}


def product_packages() -> list[str]:
    """Top-level folders with Python in them, but tests and tooling."""
    skip = {"tests", "scripts", "docs", "examples", "image_build", "systemd", ".ci", ".venv"}
    return sorted(
        p.name
        for p in ROOT.iterdir()
        if p.is_dir() and p.name not in skip and not p.name.startswith(".") and (p / "__init__.py").exists()
    )


def test_every_product_package_is_checked() -> None:
    assert product_packages() == sorted(PACKAGES)


def test_only_the_store_runs_sql() -> None:
    found: dict[str, int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(OWNERS):
                continue
            calls = len(CALL.findall(path.read_text(encoding="utf-8")))
            if calls:
                found[rel] = calls
    assert found == ALLOWED
