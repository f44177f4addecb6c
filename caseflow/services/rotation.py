"""Key rotation: a new current data key, then every protected value re-encrypted under it."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import JSON, ColumnElement, Text, select, type_coerce

from caseflow import crypto
from caseflow.extensions import db
from caseflow.models.types import EncryptedJSON, EncryptedText
from caseflow.services import audit_chain

BATCH = 500


def add_key_to_file(app: Flask) -> str:
    """Put a new key first in the key file (the old ones stay, to read what is not re-encrypted
    yet) and make it current in this process."""
    path = crypto.key_file(app)
    line = crypto.new_key_line()
    old = path.read_text() if path.exists() else ""
    tmp = path.with_suffix(".new")
    tmp.write_text(line + "\n" + old)
    tmp.chmod(0o600)
    tmp.replace(path)
    crypto.init_app(app)
    return line.split()[0]


def _encrypted_columns() -> list[tuple]:
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, EncryptedText)]
        if columns:
            found.append((table, columns))
    return found


def reencrypt_all() -> dict[str, int]:
    """Rewrite every value not under the current key (or still plain), and the blind indexes.

    Reading through the column types decrypts with whichever key made a value; writing
    encrypts with the current one. The trail's hashes cover plaintext: they still hold.
    """
    ring = crypto.keyring()
    counts: dict[str, int] = {}
    for table, columns in _encrypted_columns():
        last_id, changed = 0, 0
        while True:
            # The stored text, to tell which rows need it, then the decrypted values to write back.
            stored = db.session.execute(
                select(table.c.id, *(_as_text(table.c[c.name]) for c in columns))
                .where(table.c.id > last_id)
                .order_by(table.c.id)
                .limit(BATCH)
            ).all()
            if not stored:
                break
            last_id = stored[-1][0]
            stale = [
                row[0]
                for row in stored
                if any(v is not None and ring.key_id_of(v) != ring.current for v in row[1:])
            ]
            if not stale:
                continue
            if table.name in ("case_events", "admin_events"):
                audit_chain.allow_rewrite(db.session)
            for row in db.session.execute(select(table.c.id, *columns).where(table.c.id.in_(stale))).all():
                db.session.execute(
                    table.update()
                    .where(table.c.id == row[0])
                    .values({c.name: v for c, v in zip(columns, row[1:], strict=True)})
                )
                changed += 1
            db.session.commit()
        counts[table.name] = changed
    counts["children.name_index"] = _reindex_children()
    return counts


def _as_text(column: ColumnElement) -> ColumnElement:
    """The stored ciphertext itself (a JSON column holds it as a JSON string)."""
    return type_coerce(column, JSON() if isinstance(column.type, EncryptedJSON) else Text()).label(
        column.name
    )


def _reindex_children() -> int:
    from caseflow.models import Child

    n = 0
    for child in db.session.scalars(select(Child)):
        index = crypto.child_name_index(child.full_name, child.date_of_birth)
        if child.name_index != index:
            child.name_index = index
            n += 1
    db.session.commit()
    return n
