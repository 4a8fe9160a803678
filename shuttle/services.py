"""What every use case needs, built once by the composition root (`shuttle.bootstrap`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from shuttle.accounts.passwords import PasswordPolicy
from shuttle.config import Settings
from shuttle.db import Database, utcnow
from storage.store import BlobStore


@dataclass(frozen=True)
class Actor:
    """Who did something, for permission checks' results and the audit log."""

    account_id: str | None
    role: str  # coordinator | facilitator | participant | system

    @classmethod
    def system(cls) -> Actor:
        return cls(None, "system")


@dataclass
class Services:
    settings: Settings
    db: Database
    store: BlobStore
    clock: Callable[[], datetime] = field(default=utcnow)
    passwords: PasswordPolicy = field(default_factory=PasswordPolicy)

    def now(self) -> datetime:
        return self.clock()
