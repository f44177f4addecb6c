"""drop ix_cases_received: commune lists walked it instead of their own few cases

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:15:00

With (received_at, id) indexed, PostgreSQL served an officer's newest-first page by walking
the whole register backwards, filtering on the commune: on 200,000 cases the overdue list of
one commune took 3 times longer. A supervisor's first page sorts instead (bench/bench_api.py).
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_received')


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_received', ['received_at', 'id'], unique=False)
