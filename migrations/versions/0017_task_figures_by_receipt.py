"""the reports' task figures read by the case's receipt on the task, without joining the cases

Revision ID: 0017_figures
Revises: 0016_dash
Create Date: 2026-12-01 15:20:00

The timeliness of the verify, emergency and plan tasks joined every task of those kinds to the
cohort of cases received in the period, hashing the whole cohort: the costliest statement of a
province's annual report. Tasks carry their case's receipt and communes (0015), so the index now
leads with the receipt: the period's tasks are one range, their communes beside them (INCLUDE:
PostgreSQL only). It replaces the index led by kind and case, so a task write keeps the same
number of indexes to maintain.
"""
from alembic import op


revision = "0017_figures"
down_revision = "0016_dash"
branch_labels = None
depends_on = None

COLUMNS = ['case_received_at', 'kind', 'status', 'due_at', 'completed_at', 'created_at']


def upgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_figures')
        batch_op.create_index('ix_tasks_figures', COLUMNS, unique=False,
                              postgresql_include=['incident_commune_id', 'residence_commune_id'])


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_figures')
        batch_op.create_index('ix_tasks_figures',
                              ['kind', 'case_id', 'status', 'due_at', 'completed_at', 'created_at'],
                              unique=False)
