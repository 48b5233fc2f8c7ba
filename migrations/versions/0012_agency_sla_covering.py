"""ix_tickets_agency_sla carries sla_state (PostgreSQL): the inbox's overdue and due-soon
counts of one agency become an index-only range instead of a scan of every running clock.

Revision ID: 0012
Revises: 0011
"""
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

RUNNING = "sla_state IS NOT NULL"


def _recreate(include: str) -> None:
    # SQLite has no INCLUDE: its index stays as it is.
    if op.get_bind().dialect.name != "postgresql":
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_tickets_agency_sla")
        op.execute("CREATE INDEX CONCURRENTLY ix_tickets_agency_sla ON tickets "
                   f"(agency_id, due_at, id){include} WHERE {RUNNING}")


def upgrade():
    _recreate(" INCLUDE (sla_state)")


def downgrade():
    _recreate("")
