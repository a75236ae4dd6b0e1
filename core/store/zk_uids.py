"""The 16-bit user ids port-4370 clients know the unit's employees by (``zk_uids``): assigned on
first sight and never reused, so a connector application's records keep pointing at the same
person."""

from __future__ import annotations

import sqlite3

from core.store.tx import write_transaction


def assign_zk_uids(conn: sqlite3.Connection) -> dict[str, int]:
    """Employee id → ZK uid for every employee ever seen, giving the next free uids to those
    in ``employees`` without one (in one transaction, ``zk_uids``)."""
    with write_transaction(conn, "assigning ZK user ids"):
        missing = conn.execute(
            "SELECT id FROM employees WHERE id NOT IN (SELECT employee_id FROM zk_uids) ORDER BY id"
        ).fetchall()
        if missing:
            top = conn.execute("SELECT COALESCE(MAX(uid), 0) FROM zk_uids").fetchone()[0]
            conn.executemany(
                "INSERT INTO zk_uids (employee_id, uid) VALUES (?, ?)", [(row[0], top + i + 1) for i, row in enumerate(missing)]
            )
        return {str(row[0]): int(row[1]) for row in conn.execute("SELECT employee_id, uid FROM zk_uids")}
