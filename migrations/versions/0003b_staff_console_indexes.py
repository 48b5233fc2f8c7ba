"""staff console indexes: the agency inbox in due order, duplicates merged into a ticket

``ix_tickets_agency_open_due`` (agency, due time, id) over open tickets only:
the inbox page is an index walk that stops after one page, however many open
tickets the agency has (measured with a million tickets: a page read every
open ticket of a busy agency before). ``ix_tickets_merged_into`` finds the
duplicates of a ticket for its page and its result message. On PostgreSQL both
are built CONCURRENTLY so a large ``tickets`` table keeps taking writes.

Revision ID: 0003b
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = '0003b'
down_revision = '0006'
branch_labels = None
depends_on = None

OPEN = "status IN ('assigned', 'in_progress', 'waiting_citizen', 'resolved', 'reopened')"
MERGED = "merged_into_id IS NOT NULL"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_agency_open_due '
                       f'ON tickets (agency_id, due_at, id) WHERE {OPEN}')
            op.execute('CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tickets_merged_into '
                       f'ON tickets (merged_into_id) WHERE {MERGED}')
        return
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_agency_open_due', ['agency_id', 'due_at', 'id'],
                              unique=False, sqlite_where=sa.text(OPEN))
        batch_op.create_index('ix_tickets_merged_into', ['merged_into_id'], unique=False,
                              sqlite_where=sa.text(MERGED))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_tickets_merged_into')
            op.execute('DROP INDEX CONCURRENTLY IF EXISTS ix_tickets_agency_open_due')
        return
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_merged_into')
        batch_op.drop_index('ix_tickets_agency_open_due')
