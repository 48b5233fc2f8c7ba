"""Audit log (append-only) and the personal-data retention ledger.

``audit_log`` records every administrative change and every export of
personal data; on PostgreSQL a trigger refuses UPDATE and DELETE on it, so not
even a bug in the application can rewrite history (only a superuser dropping
the trigger can). ``ticket_anonymisations`` marks tickets whose citizen data
was removed. ``ix_tickets_closed`` serves the retention scan; on PostgreSQL it
is built CONCURRENTLY so a large ``tickets`` table is not locked against
writes while it builds (see docs/operations.md, "Upgrading").

Revision ID: 0008
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

from hotline.models.audit import AUDIT_TRIGGER_SQL

revision = '0008'
down_revision = '0002'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'audit_log',
        sa.Column('id', BigId, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor_label', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=40), nullable=False),
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('entity_id', sa.String(length=64), nullable=True),
        sa.Column('before', sa.JSON(), nullable=True),
        sa.Column('after', sa.JSON(), nullable=True),
        sa.Column('ip', sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'],
                                name=op.f('fk_audit_log_actor_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log')),
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_actor', ['actor_id', 'at', 'id'], unique=False)
        batch_op.create_index('ix_audit_log_entity', ['entity', 'at', 'id'], unique=False)

    op.create_table(
        'ticket_anonymisations',
        sa.Column('ticket_id', BigId, nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_ticket_anonymisations_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_ticket_anonymisations')),
    )

    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.execute(AUDIT_TRIGGER_SQL)
        # CONCURRENTLY cannot run inside a transaction block.
        with op.get_context().autocommit_block():
            op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_closed '
                       'ON tickets (closed_at, id) WHERE closed_at IS NOT NULL')
    else:
        op.create_index('ix_tickets_closed', 'tickets', ['closed_at', 'id'], unique=False,
                        sqlite_where=sa.text('closed_at IS NOT NULL'))


def downgrade():
    bind = op.get_bind()
    op.drop_index('ix_tickets_closed', table_name='tickets')
    op.drop_table('ticket_anonymisations')
    if bind.dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log')
        op.execute('DROP FUNCTION IF EXISTS audit_log_append_only()')
    op.drop_table('audit_log')
