"""reports: daily aggregate, its refresh log, working-day table, targets, quality reviews,
export log, and the indexes the reports read tickets and events through

Revision ID: 0006
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0009'
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
EXTENSION_EVENTS = ("type IN ('extension_requested', 'extension_approved', "
                    "'extension_rejected', 'extension_decided')")
# (name, table, columns, partial-index predicate) on the big tables.
BIG_INDEXES = [
    ('ix_tickets_resolved', 'tickets', ['resolved_at'], 'resolved_at IS NOT NULL'),
    ('ix_tickets_agency_sla', 'tickets', ['agency_id', 'sla_state', 'due_at', 'id'],
     'sla_state IS NOT NULL'),
    ('ix_ticket_events_report', 'ticket_events', ['to_status', 'at'],
     "to_status IN ('reopened', 'returned')"),
    ('ix_ticket_events_extension', 'ticket_events', ['type', 'ticket_id', 'id'], EXTENSION_EVENTS),
]


def upgrade():
    op.create_table('report_meta',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_report_meta'))
    )
    op.create_table('report_work_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('working', sa.Boolean(), nullable=False),
    sa.Column('cum_seconds', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_report_work_days'))
    )
    op.create_table('stats_refreshes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day_from', sa.Date(), nullable=False),
    sa.Column('day_to', sa.Date(), nullable=False),
    sa.Column('covered_from', sa.Date(), nullable=False),
    sa.Column('covered_to', sa.Date(), nullable=False),
    sa.Column('rows_written', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_refreshes'))
    )
    op.create_table('ticket_daily_stats',
    sa.Column('id', BigId, nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('field_id', sa.Integer(), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('answered_directly', sa.Integer(), nullable=False),
    sa.Column('forwarded', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('resolved_on_time', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    sa.Column('returned', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_daily_stats'))
    )
    with op.batch_alter_table('ticket_daily_stats', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_daily_stats_day_agency', ['day', 'agency_id'], unique=False)

    op.create_table('export_log',
    sa.Column('id', BigId, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('report', sa.String(length=32), nullable=False),
    sa.Column('format', sa.String(length=8), nullable=False),
    sa.Column('params', sa.JSON(), nullable=True),
    sa.Column('row_count', sa.Integer(), nullable=True),
    sa.Column('personal_data', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_log_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log'))
    )
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.create_index('ix_export_log_at', ['at'], unique=False)

    op.create_table('report_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('indicator', sa.String(length=32), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'],
                            name=op.f('fk_report_targets_agency_id_agencies')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'],
                            name=op.f('fk_report_targets_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_targets'))
    )
    with op.batch_alter_table('report_targets', schema=None) as batch_op:
        batch_op.create_index('uq_report_targets_agency', ['indicator', 'agency_id'], unique=True,
                              postgresql_where=sa.text('agency_id IS NOT NULL'),
                              sqlite_where=sa.text('agency_id IS NOT NULL'))
        batch_op.create_index('uq_report_targets_global', ['indicator'], unique=True,
                              postgresql_where=sa.text('agency_id IS NULL'),
                              sqlite_where=sa.text('agency_id IS NULL'))

    op.create_table('quality_reviews',
    sa.Column('id', BigId, nullable=False),
    sa.Column('ticket_id', BigId, nullable=False),
    sa.Column('operator_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=False),
    sa.Column('verdict', sa.String(length=20), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['operator_id'], ['users.id'],
                            name=op.f('fk_quality_reviews_operator_id_users')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'],
                            name=op.f('fk_quality_reviews_reviewer_id_users')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'],
                            name=op.f('fk_quality_reviews_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_reviews')),
    sa.UniqueConstraint('ticket_id', name=op.f('uq_quality_reviews_ticket_id'))
    )
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.create_index('ix_quality_reviews_operator', ['operator_id', 'created_at', 'id'],
                              unique=False)

    # The big tables: on PostgreSQL built CONCURRENTLY, so a production upgrade does not
    # block intake while millions of rows are indexed.
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, table, columns, where in BIG_INDEXES:
                op.execute(f'CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {table} '
                           f'({", ".join(columns)}) WHERE {where}')
    else:
        for name, table, columns, where in BIG_INDEXES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.create_index(name, columns, unique=False, sqlite_where=sa.text(where))


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            for name, _table, _columns, _where in BIG_INDEXES:
                op.execute(f'DROP INDEX CONCURRENTLY IF EXISTS {name}')
    else:
        for name, table, _columns, _where in BIG_INDEXES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_index(name)
    with op.batch_alter_table('quality_reviews', schema=None) as batch_op:
        batch_op.drop_index('ix_quality_reviews_operator')
    op.drop_table('quality_reviews')
    with op.batch_alter_table('report_targets', schema=None) as batch_op:
        batch_op.drop_index('uq_report_targets_global')
        batch_op.drop_index('uq_report_targets_agency')
    op.drop_table('report_targets')
    with op.batch_alter_table('export_log', schema=None) as batch_op:
        batch_op.drop_index('ix_export_log_at')
    op.drop_table('export_log')
    with op.batch_alter_table('ticket_daily_stats', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_daily_stats_day_agency')
    op.drop_table('ticket_daily_stats')
    op.drop_table('stats_refreshes')
    op.drop_table('report_work_days')
    op.drop_table('report_meta')
