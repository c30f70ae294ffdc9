"""payment failure codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00.000000

A failed payment attempt keeps the gateway's failure code, so that replaying its idempotency key
answers the same `PaymentResult.failureCode`; the sandbox's ledger keeps it for `find_charge`.
Earlier failures get the code their stored reason stands for.
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The reasons stored before codes were, and their codes; any other failure was a decline.
REASONS = {
    "Your card has insufficient funds.": "INSUFFICIENT_FUNDS",
    "The payment did not complete; nothing was charged.": "PROCESSING_ERROR",
}


def _code_of(reason: sa.ColumnClause) -> sa.Case:
    return sa.case(*((reason == text, code) for text, code in REASONS.items()), else_="CARD_DECLINED")


def upgrade() -> None:
    for table in ("payment_attempts", "sandbox_charges"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('failure_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))

    attempts = sa.table("payment_attempts", sa.column("status", sa.String), sa.column("failure_reason", sa.String),
                        sa.column("failure_code", sa.String))
    op.execute(attempts.update().where(attempts.c.status == "FAILED")
               .values(failure_code=_code_of(attempts.c.failure_reason)))
    charges = sa.table("sandbox_charges", sa.column("succeeded", sa.Boolean), sa.column("failure_reason", sa.String),
                       sa.column("failure_code", sa.String))
    op.execute(charges.update().where(charges.c.succeeded == sa.false())
               .values(failure_code=_code_of(charges.c.failure_reason)))


def downgrade() -> None:
    for table in ("sandbox_charges", "payment_attempts"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('failure_code')
