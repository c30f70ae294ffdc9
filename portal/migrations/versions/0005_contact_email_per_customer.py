"""contact email unique per customer

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:45:00.000000

A contact person's email is unique within their customer instead of within the organization: the same
person may be a contact of several customers of one business, each with their own access, password,
sessions and payment methods. Existing rows already satisfy the stricter old rule (unique per
organization), so every row is kept as it is. Sign-in still finds contacts by (organization, email),
which the new index serves now that the old unique constraint no longer does.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# 0001 left the constraint unnamed: PostgreSQL named it after its columns, SQLite keeps no name at all,
# so batch mode reflects it under this convention to be able to drop it.
NAMING = {"uq": "%(table_name)s_%(column_0_name)s_%(column_1_name)s_key"}
OLD_UNIQUE = "contact_persons_organization_id_email_key"
NEW_UNIQUE = "uq_contact_persons_customer_id_email"
LOOKUP_INDEX = "ix_contact_persons_organization_id_email"


def upgrade() -> None:
    with op.batch_alter_table("contact_persons", schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_constraint(OLD_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(NEW_UNIQUE, ["customer_id", "email"])
        batch_op.create_index(LOOKUP_INDEX, ["organization_id", "email"], unique=False)


def downgrade() -> None:
    # Fails, as it should, once one email is a contact of two customers of one organization.
    with op.batch_alter_table("contact_persons", schema=None, naming_convention=NAMING) as batch_op:
        batch_op.drop_index(LOOKUP_INDEX)
        batch_op.drop_constraint(NEW_UNIQUE, type_="unique")
        batch_op.create_unique_constraint(OLD_UNIQUE, ["organization_id", "email"])
