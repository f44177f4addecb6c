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
    # Plain ALTER TABLE ADD COLUMN. pending_handover_id carries no foreign key (like the tasks'
    # copies of their communes): on SQLite adding one rebuilds `cases`, which the rows of other
    # tables refer to; the transition that sets it takes the unit from the org-unit table.
    op.add_column('cases', sa.Column('separation', sa.JSON(), nullable=True))
    op.add_column('cases', sa.Column('proceedings', sa.JSON(), nullable=True))
    op.add_column('cases', sa.Column('pending_handover_id', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('related_case_ids', sa.JSON(), nullable=True))
    op.create_index('ix_cases_pending_handover_id', 'cases', ['pending_handover_id'])


def downgrade():
    op.drop_index('ix_cases_pending_handover_id', table_name='cases')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('related_case_ids')
        batch_op.drop_column('pending_handover_id')
        batch_op.drop_column('proceedings')
        batch_op.drop_column('separation')
