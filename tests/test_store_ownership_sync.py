"""Outside the store package (core/store), no module of the sync client, its targets, port 4370
or the fingerprint bridge runs SQL itself: every table's reads and writes are named functions in
the store module that owns it (docs/architecture.md, "Who owns which table"; issue 24). The
reference server (sync/server) keeps its own storage layer and is not checked here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CALL = re.compile(r"\.(execute|executemany|executescript)\(")

#: Modules allowed a call, with how many and why. None today.
ALLOWED: dict[str, int] = {}


def test_sync_and_bridge_run_no_sql() -> None:
    found: dict[str, int] = {}
    for package in ("sync", "firmware_bridge"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("sync/server/"):
                continue
            calls = len(CALL.findall(path.read_text(encoding="utf-8")))
            if calls:
                found[rel] = calls
    assert found == ALLOWED
