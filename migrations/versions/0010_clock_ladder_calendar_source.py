"""the ladder follows the clock, and the calendar knows where each day came from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 09:00:00

Tasks get `next_escalation_at`, the moment their next rung is due: the hours ladder repeats
without end and the working-day ladder counts in working days and office hours, so the next
moment is no longer a fixed offset from the deadline. The scan reads one range of a partial
index on it. Open tasks start at their deadline (the scan recomputes from there).

Agencies get `moved_from_id`: a merger moves a unit's agencies to its successor, and routing
prefers the successor's own agencies of a kind over the ones that came with the merger.

Calendar rows get `source`: `library` rows come from the `holidays` package and are replaced
on each refresh; `admin` rows are administrators' edits and are never overwritten. Rows that
exist before this revision are kept as `admin`, so no edit made before the upgrade is lost.
"""

from alembic import op
import sqlalchemy as sa

import caseflow.models.types


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

OPEN_SCHEDULED = "status = 'open' AND next_escalation_at IS NOT NULL"


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_escalation_at", caseflow.models.types.UTCDateTime(), nullable=True)
        )
    op.execute("UPDATE tasks SET next_escalation_at = due_at WHERE status = 'open'")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_escalation")
        batch_op.create_index(
            "ix_tasks_next_escalation",
            ["next_escalation_at", "id"],
            unique=False,
            postgresql_where=sa.text(OPEN_SCHEDULED),
            sqlite_where=sa.text(OPEN_SCHEDULED),
        )
    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source", sa.String(length=10), nullable=False, server_default="admin"))
    # Mergers move a unit's agencies to its successor; routing prefers the successor's own.
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("moved_from_id", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("agencies", schema=None) as batch_op:
        batch_op.drop_column("moved_from_id")
    with op.batch_alter_table("calendar_days", schema=None) as batch_op:
        batch_op.drop_column("source")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_next_escalation")
        batch_op.create_index(
            "ix_tasks_escalation",
            ["escalation_level", "due_at", "id"],
            unique=False,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )
        batch_op.drop_column("next_escalation_at")
