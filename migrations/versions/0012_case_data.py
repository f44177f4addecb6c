"""cases.data: a JSON map for trigger fields the workflow file declares `store: data`

Revision ID: 0012
Revises: 0006
Create Date: 2026-12-01 09:00:00

A field added to a trigger in the workflow file is kept here under its name, so a
province's variant adds fields without a migration. NULL on existing cases means no such
field was ever given.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases') as batch:
        batch.add_column(sa.Column('data', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('cases') as batch:
        batch.drop_column('data')
