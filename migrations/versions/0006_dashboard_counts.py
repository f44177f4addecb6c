"""open-case counters and the case's communes on tasks: the overdue dashboard without reading cases

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:55:00

On bench/bench_api.py (200,000 cases) a province supervisor's dashboard counted ~100,000 open
cases and joined 19,500 overdue tasks to a scan of every case (p95 ~750 ms). Tasks now carry
their case's incident and residence communes (one partial index answers the overdue counts)
and open cases are counted per (incident, residence) pair of communes as cases open, close
and move. Both are filled here from the cases; a case is open while closed_at is NULL (every
transition sets closed_at exactly when it enters a terminal state).
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('open_case_counts',
    sa.Column('incident_commune_id', sa.Integer(), nullable=False),
    sa.Column('residence_commune_id', sa.Integer(), nullable=False),
    sa.Column('open_cases', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['incident_commune_id'], ['org_units.id'], ),
    sa.ForeignKeyConstraint(['residence_commune_id'], ['org_units.id'], ),
    sa.PrimaryKeyConstraint('incident_commune_id', 'residence_commune_id')
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_commune_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('residence_commune_id', sa.Integer(), nullable=True))
    # Correlated subqueries: the same statement on SQLite and PostgreSQL.
    op.execute(
        "UPDATE tasks SET "
        "incident_commune_id = (SELECT c.incident_commune_id FROM cases c WHERE c.id = tasks.case_id), "
        "residence_commune_id = (SELECT c.residence_commune_id FROM cases c WHERE c.id = tasks.case_id)"
    )
    op.execute(
        "INSERT INTO open_case_counts (incident_commune_id, residence_commune_id, open_cases) "
        "SELECT incident_commune_id, residence_commune_id, count(*) FROM cases WHERE closed_at IS NULL "
        "GROUP BY incident_commune_id, residence_commune_id"
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_open_due_communes',
                              ['due_at', 'agency_id', 'residence_commune_id', 'incident_commune_id'],
                              unique=False, postgresql_where=sa.text("status = 'open'"),
                              sqlite_where=sa.text("status = 'open'"))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_open_due_communes')
        batch_op.drop_column('residence_commune_id')
        batch_op.drop_column('incident_commune_id')
    op.drop_table('open_case_counts')
