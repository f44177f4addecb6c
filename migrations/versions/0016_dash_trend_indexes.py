"""the dashboards' counts read from indexes: cases closed by month, tasks that went overdue by
month, the cases an agency reported

Revision ID: 0016_dash
Revises: 0015_overdue
Create Date: 2026-12-01 13:40:00

The supervisors' monthly trends counted a year of closed cases and of overdue tasks by reading
the tables (the tasks joined to every case); these partial indexes hold just the rows counted
(the closed cases with their two communes, INCLUDE: PostgreSQL only). An agency's reach, the
cases it works on or reported, looked for the reported ones by scanning the register.
"""
from alembic import op
import sqlalchemy as sa


revision = "0016_dash"
down_revision = "0015_overdue"
branch_labels = None
depends_on = None

COMMUNES = ['incident_commune_id', 'residence_commune_id']
WENT_OVERDUE = "status <> 'cancelled' AND (completed_at IS NULL OR completed_at > due_at)"


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_closed', ['closed_at'], unique=False,
                              postgresql_include=COMMUNES,
                              postgresql_where=sa.text('closed_at IS NOT NULL'),
                              sqlite_where=sa.text('closed_at IS NOT NULL'))
        batch_op.create_index('ix_cases_reported_by_agency', ['reported_by_agency_id'], unique=False,
                              postgresql_where=sa.text('reported_by_agency_id IS NOT NULL'),
                              sqlite_where=sa.text('reported_by_agency_id IS NOT NULL'))
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_went_overdue', ['due_at'], unique=False,
                              postgresql_where=sa.text(WENT_OVERDUE), sqlite_where=sa.text(WENT_OVERDUE))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_went_overdue')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_reported_by_agency')
        batch_op.drop_index('ix_cases_closed')
