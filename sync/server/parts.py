"""What the server's routes reach through a FastAPI dependency: its parts, built once by
:func:`sync.server.app.create_app` and set on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from core.clock import Clock
from sync.server.config import ServerConfig
from sync.server.corrections import CorrectionLedger
from sync.server.daybook import DayBook
from sync.server.ledger import Ledger
from sync.server.roster_versions import RosterAdmin
from sync.server.storage import Storage


@dataclass
class ServerParts:
    storage: Storage
    ledger: Ledger
    roster: RosterAdmin
    key: Ed25519PrivateKey
    days: DayBook
    config: ServerConfig
    clock: Clock
    templates: Jinja2Templates
    public_hex: str
    corrections: CorrectionLedger = field(init=False)

    def __post_init__(self) -> None:
        self.corrections = CorrectionLedger(self.ledger)


async def server_parts(request: Request) -> ServerParts:
    """The app's :class:`ServerParts` (a coroutine, so FastAPI resolves it without a thread)."""
    parts: ServerParts = request.app.state.parts
    return parts


#: A route parameter holding the server's parts.
Parts = Annotated[ServerParts, Depends(server_parts)]
