"""report indexes measured at a million tickets: covering indexes for index-only scans

``ix_tickets_report_due`` (due time, id) over every ticket whose clock runs or is
paused, carrying what the overdue report groups by (state, agency, area, pause): the
report becomes an index-only scan. ``ix_tickets_resolved`` carries received time,
agency and merge mark, so the ranking's percentiles read no table pages.
``ix_tickets_agency_sla`` drops ``sla_state`` from its key: one agency's overdue list
is then an ordered walk by due time that stops after a page. PostgreSQL only gets the
INCLUDE columns; everything is built CONCURRENTLY there.

``ticket_daily_stats.operator_id`` (who logged the ticket) lets the operators'
direct-answer table read the aggregate. The aggregate is derived data: it is emptied
here, reports count live until ``flask refresh-stats --days 0`` rebuilds it.

Revision ID: 0006b
Revises: 0003b
"""
from alembic import op
import sqlalchemy as sa

revision = '0006b'
down_revision = '0003b'
branch_labels = None
depends_on = None

RUNNING = 'sla_state IS NOT NULL'
RESOLVED = 'resolved_at IS NOT NULL'
# name, columns, INCLUDE (PostgreSQL), predicate
NEW = [
    ('ix_tickets_resolved', ['resolved_at'], ['received_at', 'agency_id', 'merged_into_id'],
     RESOLVED),
    ('ix_tickets_agency_sla', ['agency_id', 'due_at', 'id'], [], RUNNING),
    ('ix_tickets_report_due', ['due_at', 'id'],
     ['sla_state', 'agency_id', 'area_id', 'sla_paused_at', 'due_soon_at'], RUNNING),
]
OLD = [
    ('ix_tickets_resolved', ['resolved_at'], [], RESOLVED),
    ('ix_tickets_agency_sla', ['agency_id', 'sla_state', 'due_at', 'id'], [], RUNNING),
]


def _create(name, columns, include, where):
    if op.get_bind().dialect.name == 'postgresql':
        extra = f' INCLUDE ({", ".join(include)})' if include else ''
        op.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON tickets '
                   f'({", ".join(columns)}){extra} WHERE {where}')
    else:
        with op.batch_alter_table('tickets', schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(where))


def _drop(name):
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
    else:
        with op.batch_alter_table('tickets', schema=None) as batch_op:
            batch_op.drop_index(name)


def _swap(drop, create):
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, *_rest in drop:
                _drop(name)
            for spec in create:
                _create(*spec)
    else:
        for name, *_rest in drop:
            _drop(name)
        for spec in create:
            _create(*spec)


def upgrade():
    op.execute('DELETE FROM ticket_daily_stats')
    op.execute('DELETE FROM stats_refreshes')
    with op.batch_alter_table('ticket_daily_stats', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator_id', sa.Integer(), nullable=True))
    _swap(OLD, NEW)


def downgrade():
    _swap(NEW, OLD)
    op.execute('DELETE FROM ticket_daily_stats')
    op.execute('DELETE FROM stats_refreshes')
    with op.batch_alter_table('ticket_daily_stats', schema=None) as batch_op:
        batch_op.drop_column('operator_id')
