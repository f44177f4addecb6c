"""report figures read from indexes: the cohort's columns beside (received_at, id), the child's
and the tasks' statistics beside their case

Revision ID: 0014_reports
Revises: 0013_security
Create Date: 2026-12-01 12:40:00

A province's annual report groups most of the register: read from the tables, each of its
grouped scans went through every case's encrypted text (the heap is eight times the columns
counted) and every task. These indexes hold just what the figures read, so PostgreSQL answers
them with index-only scans. ix_cases_received_id keeps its key and its id > 0 condition (the
supervisors' list, services/cases.py) and carries the statistics columns (INCLUDE: PostgreSQL
only, JSON has no btree order; SQLite keeps the two-column index).
"""
from alembic import op
import sqlalchemy as sa


revision = "0014_reports"
down_revision = "0013_security"
branch_labels = None
depends_on = None

CASE_FIGURES = ['incident_commune_id', 'residence_commune_id', 'closed_at', 'closure_outcome', 'channel',
                'harm_setting', 'perpetrator_relation', 'special_group', 'harm_types', 'services']


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_received_id')
        batch_op.create_index('ix_cases_received_id', ['received_at', 'id'], unique=False,
                              postgresql_include=CASE_FIGURES,
                              postgresql_where=sa.text('id > 0'), sqlite_where=sa.text('id > 0'))
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index('ix_children_figures',
                              ['case_id', 'sex', 'age_at_receipt', 'ethnicity', 'disability'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_figures',
                              ['kind', 'case_id', 'status', 'due_at', 'completed_at', 'created_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_figures')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_figures')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_received_id')
        batch_op.create_index('ix_cases_received_id', ['received_at', 'id'], unique=False,
                              postgresql_where=sa.text('id > 0'), sqlite_where=sa.text('id > 0'))
