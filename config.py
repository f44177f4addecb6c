"""Settings read from the environment, names as in the API contract."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    """Defaults suit the embedded demo: SQLite in instance/, jobs in-process, mail to files."""

    # Unset: a random key kept in instance/secret_key (sessions and emailed links survive restarts).
    SECRET_KEY = os.environ.get("SECRET_KEY") or None
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")  # None: SQLite in instance/
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    REDIS_URL = os.environ.get("REDIS_URL") or None  # unset: jobs run in-process (the embedded default)
    MAIL_SERVER = (
        os.environ.get("MAIL_SERVER") or None
    )  # unset: mail written as .eml files under instance/mail/
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))  # the SMTP server's port
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")  # STARTTLS to the SMTP server
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None  # SMTP login
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None  # SMTP password
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "caseflow@localhost")  # From: of every mail
    CASEFLOW_BASE_URL = os.environ.get(
        "CASEFLOW_BASE_URL", "http://127.0.0.1:5000"
    )  # the address in mailed links
    # Which procedure the engine enforces; a province variant is another file.
    CASEFLOW_WORKFLOW = os.environ.get("CASEFLOW_WORKFLOW", str(BASE_DIR / "workflows" / "decree56.yaml"))
    CASEFLOW_TIMEZONE = "Asia/Ho_Chi_Minh"
    API_TOKEN_HOURS = int(os.environ.get("CASEFLOW_API_TOKEN_HOURS", "12"))  # lifetime of an API token
    MAX_SUMMARY_CHARS = 10_000
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024
    # Where attachments (evidence, signed scans) are kept, outside the web root (unset:
    # instance/attachments); `caseflow backup` copies it with the database.
    CASEFLOW_ATTACHMENTS_DIR = os.environ.get("CASEFLOW_ATTACHMENTS_DIR") or None
    # The largest attachment accepted, in bytes (default 20 MB); a larger one is refused (413).
    ATTACHMENT_MAX_BYTES = int(os.environ.get("CASEFLOW_ATTACHMENT_MAX_BYTES", "20971520"))
    # Where printed documents (PDF, DOCX) are kept once rendered, encrypted, outside the web root
    # (unset: instance/document_cache); not backed up: any file is rendered again when missing.
    CASEFLOW_DOCUMENT_CACHE_DIR = os.environ.get("CASEFLOW_DOCUMENT_CACHE_DIR") or None
    # The overdue ladder's numbers; unset keeps the workflow file's (`escalation:`).
    # Hours clock: how often a breached emergency task is reminded again (file: 4).
    ESCALATION_REPEAT_HOURS = os.environ.get("CASEFLOW_ESCALATION_REPEAT_HOURS")
    # Hours clock: how long before the deadline the agency and the chair are warned (file: 3).
    ESCALATION_WARN_BEFORE_HOURS = os.environ.get("CASEFLOW_ESCALATION_WARN_BEFORE_HOURS")
    # Working days: each level's working days after the deadline, comma-separated (file: "0,1,3").
    ESCALATION_LEVEL_DAYS = os.environ.get("CASEFLOW_ESCALATION_LEVEL_DAYS")
    # Working days: when levels and warnings are sent, Vietnam time (file: "07:00-17:00").
    OFFICE_HOURS = os.environ.get("CASEFLOW_OFFICE_HOURS")
    WARNING_FRACTION = os.environ.get("CASEFLOW_WARNING_FRACTION")  # warn when this share of the time is left
    # How often the overdue scan runs.
    SCAN_INTERVAL_SECONDS = int(os.environ.get("CASEFLOW_SCAN_INTERVAL_SECONDS", "300"))
    # How long a web or worker process reuses the holiday calendar it read (0: read it for every
    # deadline). An edit shows at once in the process that made it, in the others within this.
    CALENDAR_CACHE_SECONDS = float(os.environ.get("CASEFLOW_CALENDAR_CACHE_SECONDS", "60"))
    # National holidays are seeded from the `holidays` package up to this many years ahead.
    CALENDAR_YEARS_AHEAD = int(os.environ.get("CASEFLOW_CALENDAR_YEARS_AHEAD", "2"))
    # Notifications (caseflow.notifications): retries, the 'sending' lease and queue names.
    # The lease must outlive MAIL_TIMEOUT, or a slow send could be claimed again and sent twice.
    MAIL_TIMEOUT = int(os.environ.get("CASEFLOW_MAIL_TIMEOUT", "60"))
    # Sends before a mail is marked failed.
    NOTIFICATION_MAX_ATTEMPTS = int(os.environ.get("CASEFLOW_NOTIFICATION_MAX_ATTEMPTS", "6"))
    # First retry delay, doubled each time.
    NOTIFICATION_BACKOFF_SECONDS = float(os.environ.get("CASEFLOW_NOTIFICATION_BACKOFF_SECONDS", "60"))
    # How long a sender holds a mail.
    NOTIFICATION_LEASE_SECONDS = int(os.environ.get("CASEFLOW_NOTIFICATION_LEASE_SECONDS", "600"))
    CASEFLOW_QUEUE_PREFIX = os.environ.get(
        "CASEFLOW_QUEUE_PREFIX", "caseflow"
    )  # RQ queue names: installations sharing a Redis
    # Warnings look this far ahead.
    WARNING_HORIZON_HOURS = float(os.environ.get("CASEFLOW_WARNING_HORIZON_HOURS", "72"))
    DIGEST_HOUR = int(os.environ.get("CASEFLOW_DIGEST_HOUR", "7"))  # local time, Asia/Ho_Chi_Minh
    # Lifetime of an emailed action link.
    EMAIL_ACTION_HOURS = int(os.environ.get("CASEFLOW_EMAIL_ACTION_HOURS", "168"))
    # Pending rows older than this with no sender are handed over again by the scan's sweep.
    SWEEP_GRACE_SECONDS = int(os.environ.get("CASEFLOW_SWEEP_GRACE_SECONDS", "120"))
    # Reports leaving the commune show counts below this as "<N" (services/reports.py).
    REPORT_MIN_COUNT = int(os.environ.get("CASEFLOW_REPORT_MIN_COUNT", "5"))
    # The overdue scan also warns and escalates the reports communes owe (notifications/obligations.py).
    REPORT_OBLIGATIONS_SCAN = _bool("CASEFLOW_REPORT_OBLIGATIONS_SCAN", True)
    # Backups (`flask caseflow backup PATH`; the worker's cron when CASEFLOW_BACKUP_DIR is set).
    CASEFLOW_BACKUP_DIR = os.environ.get("CASEFLOW_BACKUP_DIR") or None
    CASEFLOW_BACKUP_KEEP = int(os.environ.get("CASEFLOW_BACKUP_KEEP", "7"))  # scheduled backups kept
    CASEFLOW_PG_BIN = os.environ.get("CASEFLOW_PG_BIN") or None  # folder of pg_dump/pg_restore
    # Between scheduled backups.
    BACKUP_INTERVAL_SECONDS = int(os.environ.get("CASEFLOW_BACKUP_INTERVAL_SECONDS", "86400"))
    # Observability: JSON log lines (with request, user and job ids), one line per request,
    # and the token Prometheus sends to /metrics (unset: /metrics answers loopback only).
    CASEFLOW_LOG_JSON = _bool("CASEFLOW_LOG_JSON")
    CASEFLOW_LOG_LEVEL = os.environ.get("CASEFLOW_LOG_LEVEL", "INFO")  # root log level
    CASEFLOW_LOG_REQUESTS = _bool("CASEFLOW_LOG_REQUESTS", CASEFLOW_LOG_JSON)  # one log line per request
    CASEFLOW_METRICS_TOKEN = os.environ.get("CASEFLOW_METRICS_TOKEN") or None  # bearer token for /metrics
    # /healthz warns below this much free disk where the database file and attachments live.
    CASEFLOW_MIN_FREE_DISK_MB = int(os.environ.get("CASEFLOW_MIN_FREE_DISK_MB", "500"))
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # The cookie is sent again only when the session changes (a page request notes the time for
    # the idle sign-out, so the expiry still moves): a static file or an error page answered at
    # the same moment as a sign-in must not send back the session it came with over the new one.
    SESSION_REFRESH_EACH_REQUEST = False
    # The session cookie travels only over HTTPS once the site is served over HTTPS.
    SESSION_COOKIE_SECURE = _bool("CASEFLOW_SECURE_COOKIES", CASEFLOW_BASE_URL.startswith("https://"))
    REMEMBER_COOKIE_DURATION = 0
    # The data key(s) that encrypt the identity at rest (caseflow/crypto.py): `id:base64key`
    # entries, the current first. Unset: the key file (default instance/data_key, generated).
    CASEFLOW_DATA_KEY = os.environ.get("CASEFLOW_DATA_KEY") or None
    CASEFLOW_DATA_KEY_FILE = os.environ.get("CASEFLOW_DATA_KEY_FILE") or None
    # The outside anchor of the trail (services/audit_anchor.py): the folder of the append-only
    # anchor file; when set, the worker's cron appends to it every CASEFLOW_ANCHOR_INTERVAL_SECONDS.
    CASEFLOW_ANCHOR_DIR = os.environ.get("CASEFLOW_ANCHOR_DIR") or None
    # The key that signs the anchors, kept out of the database (any string of 16+ characters).
    # Unset: the key file (default instance/anchor_key, made by the first anchor).
    CASEFLOW_ANCHOR_KEY = os.environ.get("CASEFLOW_ANCHOR_KEY") or None
    CASEFLOW_ANCHOR_KEY_FILE = os.environ.get("CASEFLOW_ANCHOR_KEY_FILE") or None  # where the key file is
    # Between anchors: a tail rewritten since the last anchor is not found by it.
    ANCHOR_INTERVAL_SECONDS = int(os.environ.get("CASEFLOW_ANCHOR_INTERVAL_SECONDS", "3600"))
    # Roles (of chair, supervisor, admin) that must sign in with an authenticator app as well.
    CASEFLOW_TOTP_REQUIRED_ROLES = os.environ.get("CASEFLOW_TOTP_REQUIRED_ROLES", "")
    # Closed cases are anonymised this many years after closing (`flask caseflow retention`).
    CASEFLOW_RETENTION_YEARS = float(os.environ.get("CASEFLOW_RETENTION_YEARS", "10"))
    # No report is received before Decree 56 came into force (a local date): earlier is a typo.
    CASEFLOW_EARLIEST_RECEIVED_AT = os.environ.get("CASEFLOW_EARLIEST_RECEIVED_AT", "2017-07-01")
    # Rate limits (caseflow/security.py), in the `limits` notation; storage: Redis when REDIS_URL
    # is set, memory otherwise. The per-account limit counts failures and spares addresses the
    # account signed in from lately.
    RATELIMIT_ENABLED = _bool("CASEFLOW_RATELIMIT_ENABLED", True)
    # Sign-in page and API token, per client address.
    CASEFLOW_SIGNIN_LIMIT = os.environ.get("CASEFLOW_SIGNIN_LIMIT", "30 per minute;300 per hour")
    # Failed sign-ins per account.
    CASEFLOW_SIGNIN_ACCOUNT_LIMIT = os.environ.get("CASEFLOW_SIGNIN_ACCOUNT_LIMIT", "30 per hour")
    # Emailed action links, per client address.
    CASEFLOW_LINK_LIMIT = os.environ.get("CASEFLOW_LINK_LIMIT", "30 per minute;300 per hour")
    # Password changes, per client address.
    CASEFLOW_PASSWORD_LIMIT = os.environ.get("CASEFLOW_PASSWORD_LIMIT", "10 per minute;50 per hour")
    # Behind a reverse proxy (werkzeug's ProxyFix): how many proxies to trust for each
    # X-Forwarded-* header; 0 trusts none, since a client could write them itself. One nginx in
    # front: X_FOR=1 and X_PROTO=1 (deploy/caseflow.env.example).
    # The client's address (rate limits, sign-in delays, logs) from X-Forwarded-For.
    CASEFLOW_PROXY_FIX_X_FOR = int(os.environ.get("CASEFLOW_PROXY_FIX_X_FOR", "0"))
    # HTTPS seen from X-Forwarded-Proto (HSTS is sent only over HTTPS).
    CASEFLOW_PROXY_FIX_X_PROTO = int(os.environ.get("CASEFLOW_PROXY_FIX_X_PROTO", "0"))
    # The host name from X-Forwarded-Host.
    CASEFLOW_PROXY_FIX_X_HOST = int(os.environ.get("CASEFLOW_PROXY_FIX_X_HOST", "0"))
    # The port from X-Forwarded-Port.
    CASEFLOW_PROXY_FIX_X_PORT = int(os.environ.get("CASEFLOW_PROXY_FIX_X_PORT", "0"))
    # A path prefix CaseFlow is served under, from X-Forwarded-Prefix.
    CASEFLOW_PROXY_FIX_X_PREFIX = int(os.environ.get("CASEFLOW_PROXY_FIX_X_PREFIX", "0"))
    PERMANENT_SESSION_LIFETIME = int(os.environ.get("CASEFLOW_SESSION_IDLE_SECONDS", "1800"))  # idle sign-out
