"""The audit anchor's outside witness: each anchor's digest mailed to the province's supervisors.

An anchor file on the host can lose its last lines to whoever controls the host
(services/audit_anchor.py); a digest already in someone's mailbox cannot be taken back. The
mail carries only what the anchor line says of the whole installation (the digest, when, how
many trails), never a case, so the workflow file's `notifications:` entry of ANCHOR names its
recipients like any other, and render.py words it from the catalogs.
"""

from __future__ import annotations

import logging

from flask import current_app

from caseflow.extensions import db
from caseflow.services import outbox
from caseflow.services.audit_anchor import Written
from caseflow.services.recipients import installation_recipients
from caseflow.workflow import current_engine

ANCHOR = "audit_anchor"
_ON = {"1", "true", "yes", "on"}

log = logging.getLogger("caseflow.notifications.anchor")


def mail_wanted() -> bool:
    """CASEFLOW_ANCHOR_MAIL, or unset: on whenever anchors are kept (CASEFLOW_ANCHOR_DIR)."""
    value = current_app.config.get("CASEFLOW_ANCHOR_MAIL")
    if value is None:
        return bool(current_app.config.get("CASEFLOW_ANCHOR_DIR"))
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _ON


def witness(written: Written) -> int:
    """Queue the anchor's digest to its recipients through the outbox and commit; returns how
    many mails were queued (0 when turned off or the workflow file declares no recipients)."""
    if not mail_wanted():
        return 0
    notification = current_engine().definition.notifications.get(ANCHOR)
    if notification is None:
        log.warning("anchor %s not mailed: the workflow file has no %r notification", written.number, ANCHOR)
        return 0
    context = {"anchor": {"digest": written.digest, "at": written.at, "cases": written.cases}}
    queued = 0
    for recipient in installation_recipients(notification):
        # Once per anchor line and recipient: its MAC is unique to the line.
        key = outbox.dedupe_key(ANCHOR, None, None, 0, recipient.email, f"anchor-{written.mac[:16]}")
        if outbox.queue(ANCHOR, recipient.email, locale=recipient.locale, dedupe=key, context=context):
            queued += 1
    db.session.commit()
    return queued
