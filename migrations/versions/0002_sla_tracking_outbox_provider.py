"""SLA tracking columns on tickets, provider message id on the outbox.

Tickets remember where their clock started and how much working time they spent
paused (so ``sla-recompute`` can rebuild deadlines after a policy or calendar
change), and when the scan escalated them or saw their first-response deadline
pass (so each crossing notifies once). Two partial indexes keep those scans
proportional to the tickets that cross, not to all open tickets.

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

FIRST_RESPONSE_PENDING = ("sla_state IN ('on_track', 'due_soon', 'overdue') "
                          "AND accepted_at IS NULL AND first_response_breached_at IS NULL")
ESCALATION_PENDING = "sla_state = 'overdue' AND escalated_at IS NULL"


def upgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sla_started_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sla_paused_seconds', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('first_response_breached_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_index('ix_tickets_sla_escalate', ['due_at'], unique=False,
                              postgresql_where=sa.text(ESCALATION_PENDING),
                              sqlite_where=sa.text(ESCALATION_PENDING))
        batch_op.create_index('ix_tickets_first_response', ['first_response_due'], unique=False,
                              postgresql_where=sa.text(FIRST_RESPONSE_PENDING),
                              sqlite_where=sa.text(FIRST_RESPONSE_PENDING))
    # Existing tickets: their clock started when they were received.
    op.execute("UPDATE tickets SET sla_started_at = received_at WHERE sla_state IS NOT NULL")

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('provider_id', sa.String(length=200), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('provider_id')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_first_response')
        batch_op.drop_index('ix_tickets_sla_escalate')
        batch_op.drop_column('first_response_breached_at')
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('sla_paused_seconds')
        batch_op.drop_column('sla_started_at')
