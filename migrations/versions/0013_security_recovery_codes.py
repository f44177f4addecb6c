"""recovery codes for the second factor

Revision ID: 0013_security
Revises: 0011
Create Date: 2026-12-01 12:00:00

A user with an authenticator app gets one-time recovery codes for the day the phone is lost;
only their hashes are kept (services/two_factor.py), as one text column on the user.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_security"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_recovery", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("totp_recovery")
