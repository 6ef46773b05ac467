"""What one running server holds: the log, the keys, the flusher and its counters."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path

from northstar.server.auth import KeyCache
from northstar.server.flusher import Flusher
from northstar.server.log import IngestLog
from northstar.store.keys import KeyGrant


@dataclass
class ServerState:
    workspace: Path
    timezone: str
    log: IngestLog
    keys: KeyCache
    flusher: Flusher
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    accepted: int = 0
    rejected: int = 0
    clamped: int = 0
    disconnected: int = 0  # clients gone before their body arrived

    async def recheck(self, token: str) -> KeyGrant | None:
        """A token not in the cache: if another process changed the store since the keys
        were loaded (perhaps ``northstar keys create``), reload them and look again."""
        if not self.flusher.store_changed():
            return None
        before = self.keys.loaded_at
        self.flusher.wake()
        for _ in range(60):
            await asyncio.sleep(0.05)
            if self.keys.loaded_at != before:
                break
        return self.keys.check(token)
