"""email action tokens and the overdue scan's indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 11:40:00

"""
from alembic import op
import sqlalchemy as sa

import caseflow.models.types


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('used_action_tokens',
    sa.Column('jti', sa.String(length=64), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('used_at', caseflow.models.types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], ),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('used_action_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_used_action_tokens_task_id'), ['task_id'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_escalation', ['escalation_level', 'due_at', 'id'], unique=False,
                              postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))
        batch_op.create_index('ix_tasks_warning', ['due_at', 'created_at', 'id'], unique=False,
                              postgresql_where=sa.text("status = 'open' AND escalation_level = 0 AND warned_at IS NULL"),
                              sqlite_where=sa.text("status = 'open' AND escalation_level = 0 AND warned_at IS NULL"))


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_warning')
        batch_op.drop_index('ix_tasks_escalation')
    with op.batch_alter_table('used_action_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_used_action_tokens_task_id'))
    op.drop_table('used_action_tokens')
