"""The worker's periodic tick publishes the audit chain head to the configured file."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from world import World

from shuttle.audit import log as audit
from shuttle.services import Services
from workers.handlers import publish_audit_head


def test_the_tick_appends_the_head_when_it_moved(sqlite_svc: Services, tmp_path: Path) -> None:
    svc = sqlite_svc
    assert publish_audit_head(svc) is False  # not configured: nothing written anywhere
    svc.settings = replace(svc.settings, audit_head_file=tmp_path / "heads.log")
    World(svc).case()  # audited actions
    assert publish_audit_head(svc) is True
    assert publish_audit_head(svc) is False  # unchanged head: no new line
    [published] = audit.read_heads(tmp_path / "heads.log")
    with svc.db.uow() as uow:
        assert published == audit.head(uow.session) and audit.verify(uow.session, against=[published]).ok
