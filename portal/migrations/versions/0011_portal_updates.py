"""portal updates

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 03:40:00.000000

What changed in a customer's portal (models/customer_updates.py), numbered per organization from a
new UPDATE counter row, which every existing organization gets here.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

import portal.models.columns

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customer_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('occurred_at', portal.models.columns.UTCDateTime(timezone=True), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('organization_id', 'sequence')
    )
    with op.batch_alter_table('customer_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_updates_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_updates_organization_id'), ['organization_id'], unique=False)
    op.execute("INSERT INTO number_sequences (organization_id, name, last_value) "
               "SELECT id, 'UPDATE', 0 FROM organizations")


def downgrade() -> None:
    op.execute("DELETE FROM number_sequences WHERE name = 'UPDATE'")
    with op.batch_alter_table('customer_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_updates_organization_id'))
        batch_op.drop_index(batch_op.f('ix_customer_updates_customer_id'))
    op.drop_table('customer_updates')
