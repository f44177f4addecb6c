"""drop ix_cases_id_communes: commune counts scanned it whole instead of their own cases

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 12:25:00

PostgreSQL preferred a parallel index-only scan of all 200,000 entries, filtering on the
commune, over the two commune indexes for an officer's case count (100 ms instead of 30 on
bench/bench_api.py), while the supervisor's overdue join it served gained only ~10%.
"""
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_id_communes')


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_id_communes', ['id', 'residence_commune_id', 'incident_commune_id'],
                              unique=False)
