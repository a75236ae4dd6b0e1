"""Outside the store package (core/store), no module of core/ or kiosk/ runs SQL itself: every
table's reads and writes are named functions in the module that owns it (docs/architecture.md,
"Who owns which table"; issue 24). sync/ and firmware_bridge/ join this check when their SQL
has moved too."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"\.(execute|executemany|executescript)\(")

#: Benchmarks whose raw SQL is what they measure, or is the reference server's own database (each
#: says why in a comment beside it), with how many calls each keeps.
ALLOWED = {
    "kiosk/bench/store.py": 6,  # bare durable commits on a plain table: SQLite's own cost
    "kiosk/bench/interop.py": 1,  # the baseline read the port-4370 server is compared with
    "kiosk/bench/recap.py": 4,  # bulk loads of the reference server's database (its Storage)
}


def test_only_the_store_runs_sql() -> None:
    found: dict[str, int] = {}
    for package in ("core", "kiosk"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("core/store/"):
                continue
            calls = len(CALL.findall(path.read_text(encoding="utf-8")))
            if calls:
                found[rel] = calls
    assert found == ALLOWED
