"""identity and free text encrypted at rest, the trail hash-chained and append-only, admin trail

Revision ID: 0007
Revises: 0012
Create Date: 2026-12-01 09:00:00

The child's identity, the informant's and the free text that names people (summary,
findings, closure reason, plan, tasks' text, the trail's data) are encrypted with the
installation's data key (caseflow/crypto.py); the child gets a blind index of the normalized
name and birth date for the duplicate check. Every existing event is chained (seq,
prev_hash, hash) in id order. Text holding a lone UTF-16 surrogate or bytes that are not
UTF-8 (SQLite let them in; the case page then failed on them for good) is repaired with
U+FFFD on the way. On PostgreSQL a trigger then refuses UPDATE and DELETE of the trails
unless a transaction of CaseFlow's own retention or key rotation allows it.

Downgrade drops the chain and the admin trail but does not decrypt: keep a backup.
"""

import json
import re

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0012"
branch_labels = None
depends_on = None

TEXT_COLUMNS = {
    "children": ("full_name", "date_of_birth", "address", "school", "family"),
    "informants": ("name", "phone", "relation"),
    "cases": ("summary", "findings", "closure_reason", "plan", "data"),
    "tasks": ("description", "outcome", "note"),
    "case_events": ("data",),
}
JSON_COLUMNS = {"cases": ("plan", "data"), "case_events": ("data",)}
# Columns whose type cannot hold a ciphertext become TEXT. JSON columns stay JSON: they hold
# the ciphertext as a JSON string (caseflow.models.types.EncryptedJSON).
WIDEN = {
    "children": ("full_name", "date_of_birth", "school"),
    "informants": ("name", "phone", "relation"),
}
BATCH = 500
_SURROGATE = re.compile("[\ud800-\udfff]")

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION caseflow_refuse_audit_rewrite() RETURNS trigger AS $$
BEGIN
    IF current_setting('caseflow.audit_rewrite', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % of % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def _clean(value):
    """Text as it can be stored and shown: lone surrogates and undecodable bytes become U+FFFD."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    return value


def _clean_json(value):
    """A JSON value's strings repaired: json.dumps had stored a lone surrogate as an escape."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list):
        return [_clean_json(item) for item in value]
    if isinstance(value, dict):
        return {_clean(key): _clean_json(item) for key, item in value.items()}
    return value


def upgrade():
    from caseflow import crypto
    from caseflow.services.audit_chain import event_hash

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"

    with op.batch_alter_table("children") as batch:
        batch.add_column(sa.Column("name_index", sa.String(64), nullable=True))
        batch.create_index("ix_children_name_index", ["name_index"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("anonymised_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.Text(), nullable=True))
    with op.batch_alter_table("case_events") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(64), nullable=True))
    op.create_table(
        "admin_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(200), nullable=True),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=True),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    if postgres:
        for table, columns in WIDEN.items():
            for column in columns:
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT USING {column}::text")
    else:
        for table, columns in WIDEN.items():  # neither table is referenced: a plain batch copy
            with op.batch_alter_table(table) as batch:
                for column in columns:
                    batch.alter_column(column, type_=sa.Text())
        # Rows that hold bytes that are not UTF-8 must be read to be repaired.
        bind.connection.driver_connection.text_factory = lambda raw: raw.decode("utf-8", "replace")

    ring = crypto.keyring()
    for table, columns in TEXT_COLUMNS.items():
        _encrypt_table(bind, ring, table, columns)

    # The chain over the events as they stand, in the order they were written.
    from caseflow.models.types import UTCDateTime

    events = sa.table(
        "case_events",
        sa.column("id", sa.Integer),
        sa.column("case_id", sa.Integer),
        sa.column("at", UTCDateTime()),
        sa.column("actor_id", sa.Integer),
        sa.column("actor_label", sa.String),
        sa.column("kind", sa.String),
        sa.column("from_state", sa.String),
        sa.column("to_state", sa.String),
        sa.column("data", sa.JSON),
        sa.column("seq", sa.Integer),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    heads: dict[int, tuple[int, str | None]] = {}
    last_id = 0
    while True:
        rows = (
            bind.execute(
                sa.select(
                    events.c.id,
                    events.c.case_id,
                    events.c.at,
                    events.c.actor_id,
                    events.c.actor_label,
                    events.c.kind,
                    events.c.from_state,
                    events.c.to_state,
                    events.c.data,
                )
                .where(events.c.id > last_id)
                .order_by(events.c.id)
                .limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            break
        updates = []
        for row in rows:
            row = dict(row)
            row["data"] = json.loads(ring.decrypt(row["data"], "case_events.data")) if row["data"] else {}
            seq, prev = heads.get(row["case_id"], (0, None))
            row["seq"] = seq + 1
            digest = event_hash(row, prev)
            heads[row["case_id"]] = (row["seq"], digest)
            updates.append({"_id": row["id"], "seq": row["seq"], "prev_hash": prev, "hash": digest})
            last_id = row["id"]
        bind.execute(
            events.update()
            .where(events.c.id == sa.bindparam("_id"))
            .values(seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev_hash"), hash=sa.bindparam("hash")),
            updates,
        )

    _index_children(bind, ring)
    op.create_index("uq_case_events_case_seq", "case_events", ["case_id", "seq"], unique=True)

    if postgres:
        op.execute(REFUSE_FUNCTION)
        for table in ("case_events", "admin_events"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION caseflow_refuse_audit_rewrite()"
            )
    else:
        bind.connection.driver_connection.text_factory = str


def _encrypt_table(bind, ring, table, columns):
    json_columns = JSON_COLUMNS.get(table, ())
    t = sa.table(
        table,
        sa.column("id", sa.Integer),
        *(sa.column(c, sa.JSON if c in json_columns else sa.Text) for c in columns),
    )
    last_id = 0
    while True:
        rows = (
            bind.execute(sa.select(t).where(t.c.id > last_id).order_by(t.c.id).limit(BATCH)).mappings().all()
        )
        if not rows:
            return
        updates = []
        for row in rows:
            last_id = row["id"]
            values = {}
            for column in columns:
                value = row[column]
                if value is None or crypto_is_encrypted(value):
                    continue
                if column in json_columns:
                    clean = json.dumps(_clean_json(value), ensure_ascii=False)
                else:
                    clean = _clean(value if isinstance(value, str) else str(value))
                values[column] = ring.encrypt(clean, f"{table}.{column}")
            if values:
                bind.execute(t.update().where(t.c.id == row["id"]).values(**values))


def crypto_is_encrypted(value):
    from caseflow.crypto import is_encrypted

    return is_encrypted(value)


def _index_children(bind, ring):
    from datetime import date

    from caseflow.crypto import normalize_name

    t = sa.table(
        "children",
        sa.column("id", sa.Integer),
        sa.column("full_name", sa.Text),
        sa.column("date_of_birth", sa.Text),
        sa.column("name_index", sa.String),
    )
    for row in bind.execute(sa.select(t.c.id, t.c.full_name, t.c.date_of_birth)).mappings().all():
        if not row["full_name"]:
            continue
        name = ring.decrypt(row["full_name"], "children.full_name")
        born = ring.decrypt(row["date_of_birth"], "children.date_of_birth") if row["date_of_birth"] else None
        born_iso = date.fromisoformat(born).isoformat() if born else ""
        index = ring.blind_index(f"{normalize_name(name)}|{born_iso}")
        bind.execute(t.update().where(t.c.id == row["id"]).values(name_index=index))


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in ("case_events", "admin_events"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS caseflow_refuse_audit_rewrite()")
    op.drop_index("uq_case_events_case_seq", "case_events")
    with op.batch_alter_table("case_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
    op.drop_table("admin_events")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("anonymised_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_secret")
    with op.batch_alter_table("children") as batch:
        batch.drop_index("ix_children_name_index")
        batch.drop_column("name_index")
