"""Sending outbox rows: claim atomically, render, send over SMTP (or to .eml files), record.

A row moves pending -> sending -> sent, or back to pending with a later next_attempt_at,
or to failed after the last attempt. The claim is one conditional UPDATE, so two jobs for
the same row (RQ delivers at least once; the sweep may enqueue a row twice) cannot both
send it. While 'sending', next_attempt_at is the lease expiry: a worker killed mid-send
leaves a row that the sweep can claim again once the lease has run out. The only window
for a duplicate is a worker dying after the SMTP server accepted the mail and before the
row is marked sent; the Message-ID is fixed per row so mail systems can drop that copy.
"""

from __future__ import annotations

import functools
import logging
import smtplib
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from caseflow.extensions import db
from caseflow.models import Notification, Task
from caseflow.models.types import utcnow
from caseflow.notifications.render import Rendered, build_message, render_digest, render_notification
from caseflow.services.outbox import DIGEST_KIND, dispatch, dispatch_digests, overdue

log = logging.getLogger("caseflow.notifications")

MAX_BACKOFF_SECONDS = 6 * 3600


@dataclass
class Outcome:
    status: str  # sent | retry | failed | skipped
    retry_in: float | None = None


def _session() -> Session:
    # Its own session: delivery runs after the caller's commit (even inside the after_commit
    # hook, where the caller's session may not emit SQL) and must not touch the caller's state.
    return Session(db.engine, expire_on_commit=False)


def claimable(now: datetime):  # noqa: ANN201 - a SQL expression
    """Rows a sender may take now: pending and never tried or due again, or 'sending' with an
    expired lease. A fresh row's next_attempt_at is only the moment the sweep gives up waiting
    for its first job (see `sweep_after`); its job may take it at once."""
    return or_(
        and_(
            Notification.status == "pending",
            or_(
                Notification.attempts == 0,
                Notification.next_attempt_at.is_(None),
                Notification.next_attempt_at <= now,
            ),
        ),
        and_(Notification.status == "sending", Notification.next_attempt_at <= now),
    )


def _claim(session: Session, ids: list[int], now: datetime, digest: bool = False) -> list[Notification]:
    lease = now + timedelta(seconds=current_app.config["NOTIFICATION_LEASE_SECONDS"])
    claimed = []
    for nid in ids:
        result = session.execute(
            update(Notification)
            .where(
                Notification.id == nid,
                and_(Notification.kind == DIGEST_KIND, overdue(now))
                if digest
                else and_(Notification.kind != DIGEST_KIND, claimable(now)),
            )
            .values(status="sending", attempts=Notification.attempts + 1, next_attempt_at=lease)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            claimed.append(nid)
    session.commit()
    if not claimed:
        return []
    return list(
        session.scalars(select(Notification).where(Notification.id.in_(claimed)).order_by(Notification.id))
    )


def backoff_seconds(attempts: int) -> float:
    base = current_app.config["NOTIFICATION_BACKOFF_SECONDS"]
    return min(base * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def _is_permanent(exc: Exception) -> bool:
    """5xx answers will not change on retry (unknown mailbox, message refused)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def _finish(session: Session, rows: list[Notification], error: Exception | None) -> Outcome:
    """Record the result, fenced on the attempt we claimed so a late worker cannot overwrite."""
    now = utcnow()
    outcome = Outcome("sent")
    for row in rows:
        fence = (
            Notification.id == row.id,
            Notification.status == "sending",
            Notification.attempts == row.attempts,
        )
        if error is None:
            values = {"status": "sent", "sent_at": now, "next_attempt_at": None, "last_error": None}
        elif _is_permanent(error) or row.attempts >= current_app.config["NOTIFICATION_MAX_ATTEMPTS"]:
            values = {"status": "failed", "next_attempt_at": None, "last_error": _describe(error)}
            outcome = Outcome("failed")
        else:
            delay = backoff_seconds(row.attempts)
            values = {
                "status": "pending",
                "next_attempt_at": now + timedelta(seconds=delay),
                "last_error": _describe(error),
            }
            outcome = Outcome("retry", delay)
        session.execute(
            update(Notification).where(*fence).values(**values).execution_options(synchronize_session=False)
        )
    session.commit()
    return outcome


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def send_mail(rendered: Rendered, recipient: str, message_id: str, name: str) -> None:
    """SMTP when MAIL_SERVER is set, else a .eml file under instance/mail/ (the embedded default)."""
    config = current_app.config
    domain = config["MAIL_DEFAULT_SENDER"].rpartition("@")[2] or "caseflow"
    sender = config["MAIL_DEFAULT_SENDER"]
    message = build_message(rendered, sender, recipient, f"<{message_id}@{domain}>")
    if not config.get("MAIL_SERVER"):
        folder = Path(current_app.instance_path) / "mail"
        folder.mkdir(parents=True, exist_ok=True)
        # Named by row: a repeated delivery overwrites the file instead of adding a copy.
        target = folder / f"{name}.eml"
        temporary = target.with_suffix(".tmp")
        temporary.write_bytes(message.as_bytes())
        temporary.replace(target)
        return
    host = _connect(config)
    try:
        host.sendmail(sender, [recipient], message.as_bytes())
    finally:
        try:
            host.quit()
        except (smtplib.SMTPException, OSError):  # the mail is sent or not already; just let go
            host.close()


@functools.cache
def local_hostname() -> str:
    """Looked up once per process: smtplib would resolve it for every connection (tens of ms)."""
    return socket.getfqdn()


def _connect(config: dict) -> smtplib.SMTP:
    """The message is `render.build_message`'s; the connection is ours because Flask-Mail 0.10 sets no
    timeout (a stalled server would hold a worker, and the row's lease, for ever)."""
    cls = smtplib.SMTP_SSL if config.get("MAIL_USE_SSL") else smtplib.SMTP
    host = cls(
        config["MAIL_SERVER"],
        config["MAIL_PORT"],
        local_hostname=local_hostname(),
        timeout=config["MAIL_TIMEOUT"],
    )
    if config.get("MAIL_USE_TLS"):
        host.starttls()
    if config.get("MAIL_USERNAME") and config.get("MAIL_PASSWORD"):
        host.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
    return host


def deliver(notification_id: int) -> Outcome:
    """Send one outbox row if nobody else has it; never raises for a mail failure."""
    with _session() as session:
        now = utcnow()
        rows = _claim(session, [notification_id], now)
        if not rows:
            return _not_claimed(session, notification_id, now)
        row = rows[0]
        if _reminder_no_longer_needed(session, row):
            return _finish_cancelled(session, row)
        try:
            rendered = render_notification(session, row)
            send_mail(rendered, row.recipient, f"caseflow-{row.id}", f"{row.id:08d}-{row.kind}")
        except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row and retried
            log.warning("notification %s to %s failed: %s", row.id, row.recipient, exc)
            session.rollback()
            return _finish(session, rows, exc)
        return _finish(session, rows, None)


REMINDER_KINDS = ("warning", "overdue", "escalation", "still_overdue")


def _reminder_no_longer_needed(session: Session, row: Notification) -> bool:
    """A reminder about a task done since it was queued would send people chasing finished work."""
    if row.kind not in REMINDER_KINDS or row.task_id is None:
        return False
    status = session.scalar(select(Task.status).where(Task.id == row.task_id))
    return status is not None and status != "open"


def _finish_cancelled(session: Session, row: Notification) -> Outcome:
    session.execute(
        update(Notification)
        .where(
            Notification.id == row.id, Notification.status == "sending", Notification.attempts == row.attempts
        )
        .values(
            status="cancelled", next_attempt_at=None, last_error="task no longer open when the mail was due"
        )
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return Outcome("skipped")


def _not_claimed(session: Session, notification_id: int, now: datetime) -> Outcome:
    """RQ's scheduler works in whole seconds and may start a backed-off job a little early:
    a row still waiting for its time is put off again rather than left to the sweep."""
    row = session.get(Notification, notification_id)
    if row is not None and row.status == "pending" and row.next_attempt_at and row.next_attempt_at > now:
        return Outcome("retry", (row.next_attempt_at - now).total_seconds())
    return Outcome("skipped")


def due_digest_ids(session: Session, recipient: str, now: datetime) -> list[int]:
    return list(
        session.scalars(
            select(Notification.id)
            .where(Notification.kind == DIGEST_KIND, Notification.recipient == recipient, overdue(now))
            .order_by(Notification.id)
        )
    )


def deliver_digest(recipient: str) -> Outcome:
    """One mail listing every due digest item of a recipient, then all of them marked at once."""
    with _session() as session:
        now = utcnow()
        rows = _claim(session, due_digest_ids(session, recipient, now), now, digest=True)
        if not rows:
            return Outcome("skipped")
        try:
            rendered = render_digest(session, rows, rows[0].locale)
            send_mail(rendered, recipient, f"caseflow-digest-{rows[0].id}", f"{rows[0].id:08d}-digest")
        except Exception as exc:  # noqa: BLE001 - recorded on the rows and retried
            log.warning("digest to %s failed: %s", recipient, exc)
            session.rollback()
            return _finish(session, rows, exc)
        return _finish(session, rows, None)


def deliver_and_reschedule(notification_id: int) -> str:
    """The mail job's body: deliver, and with Redis put the retry on the queue after the backoff."""
    outcome = deliver(notification_id)
    if outcome.status == "retry" and current_app.config.get("REDIS_URL"):
        dispatch([notification_id], delay_seconds=outcome.retry_in)
    return outcome.status


def deliver_digest_and_reschedule(recipient: str) -> str:
    outcome = deliver_digest(recipient)
    if outcome.status == "retry" and current_app.config.get("REDIS_URL"):
        dispatch_digests([recipient], delay_seconds=outcome.retry_in)
    return outcome.status
