"""the branches of Arts. 25-32 kept on the case: separation, criminal proceedings, a handover
awaiting the receiving commune, and links to the same child's earlier reports

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:00:00

`separation` and `proceedings` are JSON maps (the decision's data and its extensions; the
investigating body, the police case number and its decisions). `pending_handover_id` is a
column, not JSON: the receiving commune must find the case it is asked to accept, so the
jurisdiction query reads it. `related_case_ids` lists earlier cases of the same child found
by the duplicate check at intake and on reopening.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('separation', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('proceedings', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('pending_handover_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('related_case_ids', sa.JSON(), nullable=True))
        batch_op.create_foreign_key(
            'fk_cases_pending_handover', 'org_units', ['pending_handover_id'], ['id']
        )
        batch_op.create_index('ix_cases_pending_handover_id', ['pending_handover_id'])


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_pending_handover_id')
        batch_op.drop_constraint('fk_cases_pending_handover', type_='foreignkey')
        batch_op.drop_column('related_case_ids')
        batch_op.drop_column('pending_handover_id')
        batch_op.drop_column('proceedings')
        batch_op.drop_column('separation')
