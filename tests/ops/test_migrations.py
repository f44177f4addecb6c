"""Every migration, applied in order on a database that already holds data, gives the schema the
models describe: what an upgrade does to a register in use, not only to an empty one."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, MetaData, Numeric, String, Text, func, select

from caseflow import create_app
from caseflow.extensions import db
from tests.conftest import ROOT, TEST_CONFIG

FIRST = "0001"


def _value(column):  # noqa: ANN001, ANN202
    """A plausible value for a column, by type: ids 1 so every foreign key finds its row."""
    kind = column.type
    if column.foreign_keys:
        return None if column.nullable else 1
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer | Numeric):
        return 1
    if isinstance(kind, DateTime):
        return dt.datetime(2025, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    if isinstance(kind, Date):
        return dt.date(2025, 3, 4)
    if isinstance(kind, JSON):
        return {}
    if isinstance(kind, String | Text):
        length = getattr(kind, "length", None) or 20
        return "v"[:length]
    return None


@pytest.fixture
def old_register(empty_database_url, tmp_path):
    """A database at the first revision with a row in every table."""
    app = create_app({**TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"), revision=FIRST)
        old = MetaData()
        old.reflect(bind=db.engine)
        with db.engine.begin() as connection:
            for table in old.sorted_tables:
                if table.name == "alembic_version":
                    continue
                row = {c.name: _value(c) for c in table.columns}
                connection.execute(table.insert().values(row))
        counts = {t.name: 1 for t in old.sorted_tables if t.name != "alembic_version"}
        yield app, counts
        db.session.remove()
        db.engine.dispose()


def test_every_migration_on_a_populated_database_ends_at_the_models_schema(old_register):
    app, counts = old_register
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        with db.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
            kept = {
                name: connection.scalar(select(func.count()).select_from(db.metadata.tables[name]))
                for name in counts
            }
    assert differences == []
    assert kept == counts  # no migration lost the rows that were there
