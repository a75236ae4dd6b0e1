"""Event packs and the roster pull on a unit: a sync in the middle of an apel never takes the unit
out of event mode, and a pack the server publishes with the roster can be run like one loaded
from a file."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import FakeClock
from core.identity import DeviceIdentity
from core.schedule.event_mode import EventBook
from core.schedule.events import sign_pack
from core.schedule.local_packs import sample_pack, sample_people
from core.store.punches import PunchStore
from sync.roster_pull import apply_roster


def roster_event(envelope: dict[str, Any]) -> dict[str, Any]:
    """An event as the reference server publishes it: the envelope with the lookup fields beside."""
    pack = envelope["pack"]
    return {
        **envelope,
        "id": pack["id"],
        "kind": pack["kind"],
        "title": pack["title"],
        "location": pack["location"],  # an object here: the unit takes its name
        "starts_at": pack["starts_at"],
        "ends_at": pack["ends_at"],
    }


def test_a_full_roster_keeps_the_running_event_and_brings_runnable_packs(store: PunchStore, clock: FakeClock) -> None:
    server = DeviceIdentity.generate()
    people = sample_people(40)
    running = sample_pack(people, start=clock.now() - timedelta(minutes=5), event_id="APEL-SENIN")
    book = EventBook(store.conn, clock)
    book.save(running, sign_pack(running, server, signer="server"), activate=True)  # loaded from a flash disk
    assert book.active() is not None

    upcoming = sample_pack(people[:10], start=clock.now() + timedelta(days=4), event_id="SENAM-JUMAT", kind="senam")
    doc = {"version": 7, "full": True, "employees": [], "events": [roster_event(sign_pack(upcoming, server, signer="server"))]}
    apply_roster(store.conn, doc, clock.now())

    active = book.active()
    assert active is not None and active.id == "APEL-SENIN"  # still in event mode after the sync
    held = store.conn.execute("SELECT count(*) FROM event_participants WHERE event_id = 'APEL-SENIN'").fetchone()[0]
    assert held == 40
    got = book.get("SENAM-JUMAT")  # the published pack runs as if loaded from a file
    assert got is not None and got[0].id == "SENAM-JUMAT" and len(got[0].participants) == 10
    row = store.conn.execute("SELECT location, active FROM events WHERE id = 'SENAM-JUMAT'").fetchone()
    assert row["location"] == upcoming.location.name and row["active"] == 0
    assert store.conn.execute("SELECT count(*) FROM event_participants WHERE event_id = 'SENAM-JUMAT'").fetchone()[0] == 10

    # the next full roster no longer lists the senam: it goes; the running apel still stays
    apply_roster(store.conn, {"version": 8, "full": True, "employees": [], "events": []}, clock.now())
    assert book.get("SENAM-JUMAT") is None
    assert (book.active() or running).id == "APEL-SENIN" and book.active() is not None
    # once it is no longer running, a full roster that does not list it removes it
    book.activate(None)
    apply_roster(store.conn, {"version": 9, "full": True, "employees": [], "events": []}, clock.now())
    assert book.get("APEL-SENIN") is None


def test_a_server_event_never_overwrites_a_pack_made_on_the_unit(store: PunchStore, clock: FakeClock) -> None:
    device = DeviceIdentity.generate()
    local = sample_pack(sample_people(8), start=clock.now() + timedelta(days=1), event_id="APEL-X")
    local = local.model_copy(update={"origin": "local"})
    book = EventBook(store.conn, clock)
    book.save(local, sign_pack(local, device, signer="device"))
    other = sample_pack(sample_people(3), start=clock.now() + timedelta(days=1), event_id="APEL-X", kind="senam")
    apply_roster(
        store.conn,
        {"version": 3, "employees": [], "events": [roster_event(sign_pack(other, device, signer="server"))]},
        clock.now(),
    )
    got = book.get("APEL-X")
    assert got is not None and got[0].origin == "local" and len(got[0].participants) == 8 and got[0].kind == "apel"
