"""Imports every feature's tables so Base.metadata is complete (migrations, tests)."""

from __future__ import annotations

import importlib

FEATURE_MODELS = (
    "shuttle.accounts.models",
    "shuttle.cases.models",
    "shuttle.blobs",
    "shuttle.messages.models",
    "shuttle.messages.request_models",
    "shuttle.messages.supported_models",
    "shuttle.uploads.models",
    "shuttle.jobs.models",
    "shuttle.audit.models",
    "shuttle.organisations.models",
    "shuttle.referrals.models",
    "shuttle.accounts.enrolment_models",
    "shuttle.cases.conflict_models",
    "shuttle.cases.preparation",
    "shuttle.cases.notes",
    "shuttle.messages.sharing",
    "shuttle.notifications.models",
    "shuttle.agreements.models",
)

for _module in FEATURE_MODELS:
    importlib.import_module(_module)
