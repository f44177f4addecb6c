"""indexes for case lists and the overdue dashboard on large registers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 11:35:00

Measured with bench/bench_api.py on 200,000 cases: the supervisor's dashboard and case
list read every case row without them.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_received', ['received_at', 'id'], unique=False)
        batch_op.create_index('ix_cases_id_communes', ['id', 'residence_commune_id', 'incident_commune_id'],
                              unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_open_due', ['due_at', 'case_id', 'agency_id'], unique=False,
                              postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_due')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_id_communes')
        batch_op.drop_index('ix_cases_received')
