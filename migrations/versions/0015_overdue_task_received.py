"""tasks carry their case's received_at, indexed for open tasks in the case list's order

Revision ID: 0015_overdue
Revises: 0014_reports
Create Date: 2026-12-01 13:20:00

The overdue case list is sorted by the cases' receipt, newest first, and the newest cases are
rarely overdue: to find a page of them PostgreSQL walked tens of thousands of cases. With the
receipt copied onto each task (like its case's communes), the list walks the open tasks in that
order from ix_tasks_open_received, their deadline beside it, and joins the cases by id. A
case's receipt is set at intake and never changes, so the copy is written with the task only.
"""

from alembic import op
import sqlalchemy as sa

from caseflow.models.types import UTCDateTime


revision = "0015_overdue"
down_revision = "0014_reports"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_received_at", UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # One hash join over both tables, not a lookup of the case per task.
        op.execute(
            "UPDATE tasks SET case_received_at = cases.received_at FROM cases WHERE cases.id = tasks.case_id"
        )
    else:
        op.execute(
            "UPDATE tasks SET case_received_at = "
            "(SELECT cases.received_at FROM cases WHERE cases.id = tasks.case_id)"
        )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column("case_received_at", existing_type=UTCDateTime(), nullable=False)
        batch_op.create_index(
            "ix_tasks_open_received",
            ["case_received_at", "case_id", "due_at"],
            unique=False,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        )


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_open_received")
        batch_op.drop_column("case_received_at")
