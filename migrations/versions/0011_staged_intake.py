"""Staged intake: the inbound ledger holds messages stored before the 2xx and processed by a job.

Revision ID: 0011
Revises: 0010
"""
from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

WAITING = sa.text("state <> 'done'")


def upgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.alter_column("ticket_id", existing_type=sa.BigInteger(), nullable=True)
        batch_op.add_column(sa.Column("state", sa.String(length=10), server_default="done",
                                      nullable=False))
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ticket_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("status_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.SmallInteger(), server_default="0",
                                      nullable=False))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch_op.create_index("uq_inbound_messages_ticket_code", ["ticket_code"], unique=True)
        batch_op.create_index("ix_inbound_messages_waiting", ["state", "id"], unique=False,
                              postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_messages_waiting")
        batch_op.drop_index("uq_inbound_messages_ticket_code")
        for name in ("error", "next_attempt_at", "attempts", "status_token", "ticket_code",
                     "payload", "state"):
            batch_op.drop_column(name)
        batch_op.alter_column("ticket_id", existing_type=sa.BigInteger(), nullable=False)
