"""The one settings object, read once from the environment by the composition root."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _checkins(env: Mapping[str, str]) -> str:
    raw = env.get("SHUTTLE_AFTERCARE_CHECKINS", "3d,14d")
    if not all(p.strip()[:-1].isascii() and p.strip()[:-1].isdigit() and p.strip().endswith("d") and len(p.strip()) <= 4
               for p in raw.split(",") if p.strip()):
        raise ConfigError(f"SHUTTLE_AFTERCARE_CHECKINS is days after the exchange ends, like 3d,14d; got {raw!r}")
    return raw


_DAYS_PER_UNIT = {"d": 1, "w": 7, "y": 365}


def _period_days(env: Mapping[str, str], name: str, default: str) -> int:
    """A retention period like "7y", "90d" or "12w" (years of 365 days), as days; at least one day."""
    raw = (env.get(name) or default).strip().lower()
    number, unit = raw[:-1], raw[-1:]
    if not (number.isascii() and number.isdigit() and unit in _DAYS_PER_UNIT and 0 < int(number) <= 100_000):
        raise ConfigError(f"{name} is a period like 7y, 90d or 12w (years, days or weeks), got {raw!r}")
    return int(number) * _DAYS_PER_UNIT[unit]


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise ConfigError(f"{name} must not be negative, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _secret_key(env: Mapping[str, str], data_dir: Path) -> str:
    """SHUTTLE_SECRET_KEY, or (embedded default) a key kept in the data folder, mode 0600."""
    explicit = env.get("SHUTTLE_SECRET_KEY")
    if explicit:
        if len(explicit) < 32:
            raise ConfigError("SHUTTLE_SECRET_KEY must be at least 32 characters")
        return explicit
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def _check_login_limits(limits: Limits) -> None:
    """One person reaches their own account's limit long before their address's: refuse the reverse."""
    per_account, per_address = limits.login_attempts, limits.login_attempts_per_address
    if per_account and per_address and per_address <= per_account:
        raise ConfigError(
            f"SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS ({per_address}) must be more than SHUTTLE_LOGIN_ATTEMPTS "
            f"({per_account}), or one person's mistakes would lock out everyone at their address"
        )


def _digest_at(env: Mapping[str, str]) -> str:
    """SHUTTLE_DIGEST_AT as HH:MM (UTC); a relay (SHUTTLE_SMTP_HOST) needs SHUTTLE_MAIL_FROM."""
    if env.get("SHUTTLE_SMTP_HOST", "").strip() and not env.get("SHUTTLE_MAIL_FROM", "").strip():
        raise ConfigError("SHUTTLE_MAIL_FROM is required when SHUTTLE_SMTP_HOST is set")
    digest_at = (env.get("SHUTTLE_DIGEST_AT") or "18:00").strip()
    hour, _, minute = digest_at.partition(":")
    if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60 and len(minute) == 2):
        raise ConfigError(f"SHUTTLE_DIGEST_AT must be a time of day as HH:MM (UTC), got {digest_at!r}")
    return f"{int(hour):02d}:{minute}"


@dataclass(frozen=True)
class Limits:
    max_letter_bytes: int = 64 * 1024
    max_request_bytes: int = 256 * 1024
    max_upload_bytes: int = 1024 * 1024 * 1024
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 3600
    login_attempts: int = 5  # failures per account (username) in the window; 0: no per-account limit
    # Failures from one address in the window, for all accounts together; 0: no per-address limit.
    # Far above the per-account limit, so one person's mistakes never lock out the others at a
    # shared address (an office, a hostel, a prison computer room).
    login_attempts_per_address: int = 50
    login_window_seconds: int = 15 * 60
    invitation_days: int = 14
    referrals_per_address: int = 10  # referrals sent from one address in the window; 0: no limit
    referral_window_seconds: int = 3600


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    blob_backend: str
    blob_dir: Path
    keyring_path: Path
    secret_key: str = field(repr=False)
    public_base_url: str
    in_process_worker: bool
    limits: Limits = Limits()
    #: SQLite: writers of several processes take turns through a lock file (db.WriterGate)
    sqlite_shared_writers: bool = False
    s3_bucket: str = ""
    s3_endpoint_url: str = ""
    s3_region: str = ""
    keyring_kind: str = "local"
    kms_key_id: str = ""
    kms_endpoint_url: str = ""
    quick_exit_url: str = "https://www.bbc.co.uk/weather"
    ffmpeg: str = ""
    ffprobe: str = ""
    scratch_dir: Path | None = None
    audit_head_file: Path | None = None  # where the periodic tick appends the audit chain head
    metrics_token: str = ""  # bearer token for /metrics; empty: /metrics answers 404
    log_format: str = "text"  # "json": one JSON object per line
    job_lease_seconds: int = 60
    job_max_attempts: int = 5
    job_outage_budget_seconds: int = 900
    review_sla_working_days: int = 2  # 0: no review deadline, nothing escalates
    first_contact_working_hours: int = 48  # Mon-Fri hours (shuttle.referrals.clock); 0: no clock
    hold_during_proceedings: bool = True  # court proceedings ongoing hold the exchange until lifted
    assessment_review_days: int = 180  # default review-by date of an assessment recorded without one
    #: Aftercare check-ins, in days after the exchange ends (the case closes): "3d,14d"; "" for none.
    aftercare_checkins: str = "3d,14d"
    #: Retention (shuttle/retention.py), in days: a closed case's content is crypto-shredded this long
    #: after it closed (unless on legal hold); unsent drafts this long after their last change; the
    #: original of an upload the worker refused this long after it was sent.
    retention_closed_case_days: int = 7 * 365
    retention_unsent_draft_days: int = 90
    retention_refused_upload_days: int = 30
    # Digest e-mails (shuttle.notifications): an SMTP relay; nothing is sent while smtp_host is empty.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = True
    mail_from: str = ""
    digest_at: str = "18:00"  # HH:MM, UTC: the one time of day digests go out

    @property
    def mail_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def cookie_secure(self) -> bool:
        return self.public_base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("SHUTTLE_DATA_DIR") or "shuttle-data").resolve()
        database_url = env.get("SHUTTLE_DATABASE_URL") or f"sqlite:///{data_dir / 'shuttle.db'}"
        backend = env.get("SHUTTLE_BLOB_BACKEND") or "local"
        if backend not in {"local", "s3"}:
            raise ConfigError(f"SHUTTLE_BLOB_BACKEND must be 'local' or 's3', got {backend!r}")
        if backend == "s3" and not env.get("SHUTTLE_S3_BUCKET"):
            raise ConfigError("SHUTTLE_S3_BUCKET is required when SHUTTLE_BLOB_BACKEND=s3")
        keyring_kind = env.get("SHUTTLE_KEYRING_KIND") or "local"
        if keyring_kind not in {"local", "kms"}:
            raise ConfigError(f"SHUTTLE_KEYRING_KIND must be 'local' or 'kms', got {keyring_kind!r}")
        limits = Limits(
            max_letter_bytes=_int(env, "SHUTTLE_MAX_LETTER_BYTES", Limits.max_letter_bytes),
            max_upload_bytes=_int(env, "SHUTTLE_MAX_UPLOAD_BYTES", Limits.max_upload_bytes),
            session_idle_seconds=_int(env, "SHUTTLE_SESSION_IDLE_SECONDS", Limits.session_idle_seconds),
            login_attempts=_int(env, "SHUTTLE_LOGIN_ATTEMPTS", Limits.login_attempts),
            login_attempts_per_address=_int(env, "SHUTTLE_LOGIN_ATTEMPTS_PER_ADDRESS",
                                            Limits.login_attempts_per_address),
            referrals_per_address=_int(env, "SHUTTLE_REFERRALS_PER_ADDRESS", Limits.referrals_per_address),
        )
        _check_login_limits(limits)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            blob_backend=backend,
            blob_dir=Path(env.get("SHUTTLE_BLOB_DIR") or data_dir / "blobs").resolve(),
            keyring_path=Path(env.get("SHUTTLE_KEYRING") or data_dir / "keyring.json").resolve(),
            secret_key=_secret_key(env, data_dir),
            public_base_url=(env.get("SHUTTLE_PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/"),
            in_process_worker=_bool(env, "SHUTTLE_IN_PROCESS_WORKER", database_url.startswith("sqlite")),
            limits=limits,
            sqlite_shared_writers=_bool(env, "SHUTTLE_SQLITE_SHARED_WRITERS", False),
            s3_bucket=env.get("SHUTTLE_S3_BUCKET", ""),
            s3_endpoint_url=env.get("SHUTTLE_S3_ENDPOINT_URL", ""),
            s3_region=env.get("SHUTTLE_S3_REGION", ""),
            keyring_kind=keyring_kind,
            kms_key_id=env.get("SHUTTLE_KMS_KEY_ID", ""),
            kms_endpoint_url=env.get("SHUTTLE_KMS_ENDPOINT_URL", ""),
            quick_exit_url=env.get("SHUTTLE_QUICK_EXIT_URL") or cls.quick_exit_url,
            ffmpeg=env.get("SHUTTLE_FFMPEG", ""),
            ffprobe=env.get("SHUTTLE_FFPROBE", ""),
            scratch_dir=Path(env["SHUTTLE_SCRATCH_DIR"]) if env.get("SHUTTLE_SCRATCH_DIR") else None,
            audit_head_file=Path(env["SHUTTLE_AUDIT_HEAD_FILE"]) if env.get("SHUTTLE_AUDIT_HEAD_FILE") else None,
            metrics_token=env.get("SHUTTLE_METRICS_TOKEN", ""),
            log_format=env.get("SHUTTLE_LOG_FORMAT", "text").strip().lower() or "text",
            job_lease_seconds=_int(env, "SHUTTLE_JOB_LEASE_SECONDS", 60),
            job_max_attempts=_int(env, "SHUTTLE_JOB_MAX_ATTEMPTS", 5),
            job_outage_budget_seconds=_int(env, "SHUTTLE_JOB_OUTAGE_BUDGET_SECONDS", 900),
            review_sla_working_days=_int(env, "SHUTTLE_REVIEW_SLA_WORKING_DAYS", 2),
            first_contact_working_hours=_int(env, "SHUTTLE_FIRST_CONTACT_WORKING_HOURS", 48),
            hold_during_proceedings=_bool(env, "SHUTTLE_HOLD_DURING_PROCEEDINGS", True),
            assessment_review_days=_int(env, "SHUTTLE_ASSESSMENT_REVIEW_DAYS", 180),
            aftercare_checkins=_checkins(env),
            retention_closed_case_days=_period_days(env, "SHUTTLE_RETENTION_CLOSED_CASES", "7y"),
            retention_unsent_draft_days=_period_days(env, "SHUTTLE_RETENTION_UNSENT_DRAFTS", "90d"),
            retention_refused_upload_days=_period_days(env, "SHUTTLE_RETENTION_REFUSED_UPLOADS", "30d"),
            smtp_host=env.get("SHUTTLE_SMTP_HOST", "").strip(),
            smtp_port=_int(env, "SHUTTLE_SMTP_PORT", 587),
            smtp_username=env.get("SHUTTLE_SMTP_USERNAME", ""),
            smtp_password=env.get("SHUTTLE_SMTP_PASSWORD", ""),
            smtp_starttls=_bool(env, "SHUTTLE_SMTP_STARTTLS", True),
            mail_from=env.get("SHUTTLE_MAIL_FROM", "").strip(),
            digest_at=_digest_at(env),
        )

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]
