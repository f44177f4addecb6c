"""What a production start must have: refused settings are named, so a demo default never serves children's data.

The embedded defaults (SQLite, mail written to files, a key generated into instance/) make the demo
work with no set-up; in production each is a way to lose data or mail without anyone noticing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    setting: str
    problem: str
    fatal: bool = True


def check_production(config: Mapping, environ: Mapping[str, str] = os.environ) -> list[Finding]:
    """Findings for a production start; fatal ones must be fixed, the rest are advice."""
    found = []
    if not environ.get("SECRET_KEY"):
        found.append(
            Finding(
                "SECRET_KEY",
                "unset: a key generated into instance/ differs between servers and is lost with it",
            )
        )
    uri = str(config.get("SQLALCHEMY_DATABASE_URI") or "")
    if not uri or uri.startswith("sqlite"):
        found.append(
            Finding("DATABASE_URL", "SQLite is the demo database: use PostgreSQL (postgresql://...)")
        )
    if not config.get("MAIL_SERVER"):
        found.append(
            Finding("MAIL_SERVER", "unset: mail is written to files under instance/mail/ and never sent")
        )
    if not config.get("REDIS_URL"):
        found.append(
            Finding(
                "REDIS_URL",
                "unset: mail and the overdue scan run inside the web process, with no retry worker",
            )
        )
    base = str(config.get("CASEFLOW_BASE_URL") or "")
    if not base.startswith("https://"):
        found.append(
            Finding(
                "CASEFLOW_BASE_URL", "not https: links in mail and session cookies travel in clear", False
            )
        )
    if str(config.get("MAIL_DEFAULT_SENDER", "")).endswith("@localhost"):
        found.append(
            Finding("MAIL_DEFAULT_SENDER", "still @localhost: receiving servers will reject or bin it", False)
        )
    return found
