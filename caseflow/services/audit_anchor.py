"""An outside anchor for the trail: the heads of every chain, signed with a key the database lacks.

The hash chain (services/audit_chain.py) shows an event changed or removed, but whoever can
write to the database can also rewrite a whole tail of a case consistently, recomputing each
hash. `flask caseflow audit-anchor` (and the worker's cron when CASEFLOW_ANCHOR_DIR is set)
appends to `audit-anchors.jsonl` in that folder one line with the head of every case's chain
(last event id, seq, hash) and of the administrators' chain, a digest over them all, and an
HMAC under the anchor key (CASEFLOW_ANCHOR_KEY, or the key file, default instance/anchor_key,
made on first use). `verify-audit --anchor FILE` then checks that every anchored head is still
in the trail as it was: a tail rewritten from before an anchor loses its anchored head, and
the first case that did is named. A head that moved on is fine; its chain is checked in full.

A line names only the heads that moved since the line before it (the file grows with the
work, not with the number of cases times the anchors), and its HMAC covers the previous
line's, so a line edited, removed or reordered inside the file is found. A tail cut off the
file is not: for that, keep the file where the database's writers cannot write (a separate
host, `chattr +a`), or keep the digests the command prints and the worker logs elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from caseflow.models import AdminEvent, Case, CaseEvent
from caseflow.models.types import utcnow
from caseflow.services.audit_chain import Break, canonical

FORMAT = 1
FILE_NAME = "audit-anchors.jsonl"
_BATCH = 500

Head = tuple[int, int, str]  # (event id, seq, hash)


class AnchorError(RuntimeError):
    """The anchor file cannot be used: unreadable, not signed with this key, or edited."""


# --- the key ------------------------------------------------------------------------------


def key_file(app: Flask) -> Path:
    return Path(app.config.get("CASEFLOW_ANCHOR_KEY_FILE") or Path(app.instance_path) / "anchor_key")


def anchor_key(app: Flask, create: bool = False) -> tuple[str, bytes]:
    """(key id, key). Only the anchoring side makes a key file: a verifier without the key must
    fail, not sign its own."""
    configured = app.config.get("CASEFLOW_ANCHOR_KEY")
    if configured:
        raw = str(configured).strip().encode()
    else:
        path = key_file(app)
        if create and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: of two processes starting at once, one writes the key
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(32) + "\n")
        if not path.is_file():
            raise AnchorError(f"no anchor key: set CASEFLOW_ANCHOR_KEY or CASEFLOW_ANCHOR_KEY_FILE ({path})")
        raw = path.read_text().strip().encode()
    if len(raw) < 16:
        raise AnchorError("the anchor key is too short (at least 16 characters)")
    return hashlib.sha256(b"caseflow anchor key id:" + raw).hexdigest()[:8], raw


def _mac(key: bytes, line: dict) -> str:
    body = {k: v for k, v in line.items() if k != "mac"}
    return hmac.new(key, canonical(body).encode("utf-8"), hashlib.sha256).hexdigest()


# --- the heads ----------------------------------------------------------------------------


def current_heads(session: Session) -> tuple[dict[int, Head], Head | None]:
    """The last event of every case's chain, and of the administrators' chain."""
    table = CaseEvent.__table__
    last = (
        select(table.c.case_id, func.max(table.c.seq).label("seq"))
        .where(table.c.seq.is_not(None))
        .group_by(table.c.case_id)
        .subquery()
    )
    rows = session.execute(
        select(table.c.case_id, table.c.id, table.c.seq, table.c.hash).join(
            last, (last.c.case_id == table.c.case_id) & (last.c.seq == table.c.seq)
        )
    )
    cases = {case_id: (event_id, seq, digest) for case_id, event_id, seq, digest in rows}
    admin = AdminEvent.__table__
    head = session.execute(
        select(admin.c.id, admin.c.seq, admin.c.hash)
        .where(admin.c.seq.is_not(None))
        .order_by(admin.c.seq.desc())
        .limit(1)
    ).first()
    return cases, (tuple(head) if head else None)


def heads_digest(cases: dict[int, Head], admin: Head | None) -> str:
    body = {"cases": {str(case_id): list(head) for case_id, head in sorted(cases.items())}, "admin": admin}
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


# --- the file -----------------------------------------------------------------------------


@dataclass
class Anchored:
    """What an anchor file says, folded: each case's last anchored head and when."""

    lines: int = 0
    cases: dict[int, tuple[Head, str]] = field(default_factory=dict)
    admin: tuple[Head, str] | None = None
    last_at: str | None = None
    last_digest: str | None = None
    last_mac: str | None = None


def _lines(text: str) -> Iterator[tuple[int, dict]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
        except ValueError as exc:
            raise AnchorError(f"line {number} is not an anchor (not JSON)") from exc
        if not isinstance(line, dict) or line.get("v") != FORMAT:
            raise AnchorError(f"line {number} is not an anchor of format {FORMAT}")
        yield number, line


def read_anchors(text: str, key_id: str, key: bytes) -> Anchored:
    """Check every line's signature and its link to the line before, and fold the heads."""
    folded = Anchored()
    for number, line in _lines(text):
        if line.get("key") != key_id:
            raise AnchorError(f"line {number} was signed with anchor key {line.get('key')}, not {key_id}")
        if not hmac.compare_digest(str(line.get("mac", "")), _mac(key, line)):
            raise AnchorError(f"line {number} was changed after it was signed")
        if line.get("n") != folded.lines + 1 or line.get("prev") != folded.last_mac:
            raise AnchorError(
                f"line {number} does not follow the line before it: a line was removed or moved"
            )
        try:
            for case_id, head in line["changed"].items():
                folded.cases[int(case_id)] = ((int(head[0]), int(head[1]), str(head[2])), line["at"])
            if line.get("admin"):
                event_id, seq, digest = line["admin"]
                folded.admin = ((int(event_id), int(seq), str(digest)), line["at"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AnchorError(f"line {number} is not an anchor (its heads do not read)") from exc
        folded.lines += 1
        folded.last_at, folded.last_digest, folded.last_mac = line["at"], line.get("digest"), line["mac"]
    if folded.lines:
        admin = folded.admin[0] if folded.admin else None
        if heads_digest({c: head for c, (head, _at) in folded.cases.items()}, admin) != folded.last_digest:
            raise AnchorError(f"line {folded.lines}: its digest is not that of the heads the file holds")
    return folded


def anchor_path(folder: str | Path | None = None) -> Path:
    folder = folder or current_app.config.get("CASEFLOW_ANCHOR_DIR")
    if not folder:
        raise AnchorError("no anchor folder: set CASEFLOW_ANCHOR_DIR or give --dir")
    return Path(folder) / FILE_NAME


@dataclass
class Written:
    path: Path
    number: int
    cases: int
    changed: int
    digest: str
    mac: str
    at: str


def write_anchor(session: Session, folder: str | Path | None = None) -> Written:
    """Append one anchor line: the heads that moved since the last line, the digest of all."""
    app = current_app._get_current_object()
    key_id, key = anchor_key(app, create=True)
    path = anchor_path(folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    cases, admin = current_heads(session)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "r+", encoding="utf-8") as fh:
        # One writer at a time: two anchors at once would both follow the same line.
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        before = read_anchors(fh.read(), key_id, key)
        changed = {
            str(case_id): list(head)
            for case_id, head in sorted(cases.items())
            if before.cases.get(case_id, (None,))[0] != head
        }
        line = {
            "v": FORMAT,
            "n": before.lines + 1,
            "at": utcnow().isoformat(timespec="seconds"),
            "key": key_id,
            "prev": before.last_mac,
            "cases": len(cases),
            "changed": changed,
            "admin": list(admin) if admin else None,
            "digest": heads_digest(cases, admin),
        }
        line["mac"] = _mac(key, line)
        fh.write(json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    return Written(path, line["n"], len(cases), len(changed), line["digest"], line["mac"], line["at"])


def check_anchor(session: Session, path: str | Path) -> tuple[Anchored, list[Break]]:
    """Every anchored head that is no longer in the trail as anchored, in case order.
    Raises AnchorError when the file itself cannot be trusted."""
    key_id, key = anchor_key(current_app._get_current_object())
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise AnchorError(f"cannot read the anchor file {path}: {exc.strerror}") from exc
    anchored = read_anchors(text, key_id, key)
    references = dict(session.execute(select(Case.id, Case.reference)).all())
    table = CaseEvent.__table__
    gone: list[Break] = []
    case_ids = sorted(anchored.cases)
    for start in range(0, len(case_ids), _BATCH):
        chunk = case_ids[start : start + _BATCH]
        wanted = {anchored.cases[c][0][0]: c for c in chunk}
        found = {
            row.id: (row.case_id, row.seq, row.hash)
            for row in session.execute(
                select(table.c.id, table.c.case_id, table.c.seq, table.c.hash).where(table.c.id.in_(wanted))
            )
        }
        for case_id in chunk:
            (event_id, seq, digest), at = anchored.cases[case_id]
            if found.get(event_id) != (case_id, seq, digest):
                why = (
                    f"was the head anchored at {at} and is gone: the trail was rewritten from there or before"
                )
                gone.append(Break(case_id, references.get(case_id), event_id, seq, why))
    if anchored.admin is not None:
        (event_id, seq, digest), at = anchored.admin
        admin = AdminEvent.__table__
        row = session.execute(select(admin.c.seq, admin.c.hash).where(admin.c.id == event_id)).first()
        if row is None or tuple(row) != (seq, digest):
            why = f"was the head anchored at {at} and is gone: the trail was rewritten from there or before"
            gone.append(Break(0, "administration", event_id, seq, why))
    return anchored, gone
