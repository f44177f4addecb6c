"""Printed documents kept once rendered, so a dossier downloaded again is not laid out again.

A file is found by a hash of everything that decides what it prints: the latest revision of
each form in it (a new revision is a new key, so the old file is never served again), the
document's "template version" (the print template and stylesheet, the form declarations, the
Vietnamese catalog and the layout code), the locale, whether the reader sees identity, and the
case's reference and communes. Files live outside the web root (CASEFLOW_DOCUMENT_CACHE_DIR),
encrypted like the identity they may hold; the backup leaves them out, since a missing or
unreadable file is simply rendered again. One file is kept per case, document and identity
view: storing a newer one removes the ones it replaces.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from caseflow.crypto import DecryptionError, is_encrypted, keyring
from caseflow.extensions import db
from caseflow.models import Case, FormRecord
from caseflow.workflow import current_forms

KEY_FORMAT = 1  # bumped when the key's ingredients change
logger = logging.getLogger(__name__)

_versions: dict[tuple, str] = {}


def folder() -> Path:
    """CASEFLOW_DOCUMENT_CACHE_DIR, default instance/document_cache."""
    configured = current_app.config.get("CASEFLOW_DOCUMENT_CACHE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "document_cache"


def template_version(sources: Iterable[Path]) -> str:
    """A hash of what turns a form's values into a page (`sources`: the files that do, from the
    caller) and of the workflow's form declarations; computed once per process and again when
    one of those files changes or the forms are reloaded."""
    paths = list(sources)
    forms = current_forms()
    stamp = (id(forms), *((str(p), p.stat().st_mtime_ns if p.exists() else 0) for p in paths))
    version = _versions.get(stamp)
    if version is None:
        digest = hashlib.sha256(json.dumps(forms.to_json(), sort_keys=True, default=str).encode())
        for path in paths:
            digest.update(path.name.encode())
            digest.update(path.read_bytes() if path.exists() else b"")
        version = digest.hexdigest()
        _versions.clear()
        _versions[stamp] = version
    return version


def latest_revisions(case: Case, codes: Iterable[str]) -> dict[str, list]:
    """Each form's latest revision as its id and the moment it was recorded, without reading (or
    decrypting) its values. The moment keeps a key unique when ids are handed out again, as
    after a database is restored from a backup older than the cached file."""
    table = FormRecord.__table__
    latest = (
        select(func.max(table.c.id))
        .where(table.c.case_id == case.id, table.c.code.in_(list(codes)))
        .group_by(table.c.code)
    )
    rows = db.session.execute(
        select(table.c.code, table.c.id, table.c.recorded_at).where(table.c.id.in_(latest))
    )
    return {code: [record_id, str(recorded_at)] for code, record_id, recorded_at in rows}


def key(
    case: Case, codes: tuple[str, ...], extension: str, version: str, locale: str, show_identity: bool
) -> str:
    revisions = latest_revisions(case, codes)
    communes = [(u.id, u.name) if u else None for u in (case.incident_commune, case.residence_commune)]
    ingredients = {
        "format": KEY_FORMAT,
        "template": version,
        "locale": locale,
        "identity": show_identity,
        "extension": extension,
        "case": [case.id, case.reference, communes],
        "revisions": [[code, revisions.get(code)] for code in codes],
    }
    return hashlib.sha256(json.dumps(ingredients, sort_keys=True).encode()).hexdigest()


def _slot(stem: str, extension: str, show_identity: bool) -> str:
    # Form codes and "dossier" only: nothing of the child in a file name.
    return f"{stem}.{extension}.{'identity' if show_identity else 'plain'}"


def _purpose(case: Case, digest: str) -> str:
    # Bound to the case and the key: a file copied under another name or case does not decrypt.
    return f"document_cache.{case.id}.{digest}"


def cached(
    case: Case,
    stem: str,
    extension: str,
    codes: tuple[str, ...],
    sources: Iterable[Path],
    locale: str,
    show_identity: bool,
    render: Callable[[], bytes],
) -> tuple[bytes, bool]:
    """The document's bytes, from the cache when its key is there, else `render()`ed and kept;
    and whether it came from the cache. `sources`: the files the rendering reads."""
    digest = key(case, codes, extension, template_version(sources), locale, show_identity)
    base = folder() / str(case.id)
    slot = _slot(stem, extension, show_identity)
    path = base / f"{slot}.{digest}"
    ring = keyring()
    try:
        sealed = path.read_text(encoding="ascii")
        if is_encrypted(sealed):  # only what this module wrote: decrypt() passes plain text through
            return base64.b64decode(ring.decrypt(sealed, _purpose(case, digest)), validate=True), True
    except (OSError, UnicodeDecodeError, ValueError, binascii.Error, DecryptionError):
        pass  # not there, or unreadable (a retired key, an altered file): render it again
    content = render()
    sealed = ring.encrypt(base64.b64encode(content).decode("ascii"), _purpose(case, digest))
    part = base / f".{uuid.uuid4().hex}.part"
    try:
        base.mkdir(parents=True, exist_ok=True)
        part.write_text(sealed, encoding="ascii")
        os.replace(part, path)  # readers see the whole file or none
        for older in base.glob(f"{slot}.*"):
            if older != path:
                older.unlink(missing_ok=True)
    except OSError:
        # A full or read-only disk costs the next reader a rendering, not this one the document.
        logger.warning(
            "document cache: could not keep a rendered document of case %s", case.id, exc_info=True
        )
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
    return content, False
