"""The punch store: one SQLite database shared by every process of the unit."""

from core.store.db import DB_FILENAME, open_database
from core.store.punches import Punch, PunchRequest, PunchStore

__all__ = ["DB_FILENAME", "Punch", "PunchRequest", "PunchStore", "open_database"]
