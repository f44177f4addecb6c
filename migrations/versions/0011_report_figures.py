"""report figures: statistics columns on cases and children, reporting obligations, ad-hoc reports

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 09:10:00

The periodic reports (Circular 13/2021) count children by sex, age group, setting, ethnicity,
disability and special-circumstance group, and cases by closure outcome and services given:
plain columns the reports GROUP BY, with codes from the workflow file's choice lists. The age
is kept as whole years at receipt so that the date of birth can be encrypted. The (received_at,
id) index, partial on id > 0, lets a supervisor's newest-first case list read one page in index
order, while commune lists (which do not state id > 0) keep their own bitmap scans.
"""
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _age(born, on):
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('harm_setting', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('perpetrator_relation', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('special_group', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('closure_outcome', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('services', sa.JSON(), nullable=True))
        # Partial on id > 0, a condition only the supervisors' list states (services/cases.py).
        batch_op.create_index('ix_cases_received_id', ['received_at', 'id'], unique=False,
                              postgresql_where=sa.text('id > 0'), sqlite_where=sa.text('id > 0'))
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ethnicity', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('disability', sa.String(length=30), nullable=True))
        batch_op.add_column(sa.Column('age_at_receipt', sa.Integer(), nullable=True))
    op.create_table('report_obligations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('period_from', sa.Date(), nullable=False),
    sa.Column('period_to', sa.Date(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('figures', sa.JSON(), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('warned_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], ),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_unit_id', 'code', 'year', name='uq_report_obligations_unit_code_year')
    )
    op.create_index('ix_report_obligations_org_unit_id', 'report_obligations', ['org_unit_id'], unique=False)
    op.create_index('ix_report_obligations_due', 'report_obligations', ['submitted_at', 'due_at'], unique=False)
    op.create_table('adhoc_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('province_id', sa.Integer(), nullable=False),
    sa.Column('commune_id', sa.Integer(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('harm_types', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.ForeignKeyConstraint(['province_id'], ['org_units.id'], ),
    sa.ForeignKeyConstraint(['commune_id'], ['org_units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id')
    )
    op.create_index('ix_adhoc_reports_province_id', 'adhoc_reports', ['province_id'], unique=False)
    # Existing children: the age at receipt from the estimate, or from the date of birth.
    op.execute("UPDATE children SET age_at_receipt = estimated_age WHERE estimated_age IS NOT NULL")
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT ch.id, ch.date_of_birth, c.received_at FROM children ch JOIN cases c ON c.id = ch.case_id "
        "WHERE ch.age_at_receipt IS NULL AND ch.date_of_birth IS NOT NULL"
    )).all()
    from caseflow import crypto

    for child_id, born, received in rows:
        if crypto.is_encrypted(born):  # 0007 encrypted the birth date: read it with the data key
            born = crypto.keyring().decrypt(born, "children.date_of_birth")
        born = born if isinstance(born, date) else date.fromisoformat(str(born)[:10])
        received = received if isinstance(received, date) else date.fromisoformat(str(received)[:10])
        received = received.date() if hasattr(received, 'date') else received
        bind.execute(sa.text("UPDATE children SET age_at_receipt = :a WHERE id = :i"),
                     {"a": max(_age(born, received), 0), "i": child_id})


def downgrade():
    op.drop_index('ix_adhoc_reports_province_id', table_name='adhoc_reports')
    op.drop_table('adhoc_reports')
    op.drop_index('ix_report_obligations_due', table_name='report_obligations')
    op.drop_index('ix_report_obligations_org_unit_id', table_name='report_obligations')
    op.drop_table('report_obligations')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('age_at_receipt')
        batch_op.drop_column('disability')
        batch_op.drop_column('ethnicity')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_received_id')
        batch_op.drop_column('services')
        batch_op.drop_column('closure_outcome')
        batch_op.drop_column('special_group')
        batch_op.drop_column('perpetrator_relation')
        batch_op.drop_column('harm_setting')
