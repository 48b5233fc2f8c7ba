"""staff console: co-handling agencies, PBX call events, trigram search on tickets

``ticket_cohandlers`` lists the agencies that handle part of a ticket beside
the lead agency (phối hợp); ``call_events`` keeps the calls a PBX reported
ringing at an operator's extension for a couple of days. On PostgreSQL the
staff search (``LIKE '%…%'`` over the folded ``tickets.search_text``) gets a
pg_trgm GIN index, built CONCURRENTLY so a large ``tickets`` table keeps taking
writes meanwhile; SQLite has no pg_trgm and skips it.

Revision ID: 0003
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0005'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade():
    op.create_table(
        'ticket_cohandlers',
        sa.Column('id', BigId, nullable=False),
        sa.Column('ticket_id', BigId, nullable=False),
        sa.Column('agency_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('request_note', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                                name=op.f('fk_ticket_cohandlers_agency_id_agencies')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                                name=op.f('fk_ticket_cohandlers_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_cohandlers')),
        sa.UniqueConstraint('ticket_id', 'agency_id', name='uq_ticket_cohandlers_ticket_id'),
    )
    with op.batch_alter_table('ticket_cohandlers', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_cohandlers_agency', ['agency_id', 'status', 'ticket_id'],
                              unique=False)

    op.create_table(
        'call_events',
        sa.Column('id', BigId, nullable=False),
        sa.Column('extension', sa.String(length=16), nullable=False),
        sa.Column('caller_raw', sa.String(length=64), nullable=False),
        sa.Column('caller_phone', sa.String(length=20), nullable=True),
        sa.Column('call_id', sa.String(length=128), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_call_events')),
        sa.UniqueConstraint('call_id', name=op.f('uq_call_events_call_id')),
    )
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.create_index('ix_call_events_extension', ['extension', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_call_events_received_at'), ['received_at'],
                              unique=False)

    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        # CONCURRENTLY cannot run inside a transaction block.
        with op.get_context().autocommit_block():
            op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_search_trgm '
                       'ON tickets USING gin (search_text gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_tickets_search_trgm')
    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_call_events_received_at'))
        batch_op.drop_index('ix_call_events_extension')
    op.drop_table('call_events')
    with op.batch_alter_table('ticket_cohandlers', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_cohandlers_agency')
    op.drop_table('ticket_cohandlers')
