"""Public transparency: published-result search and filters, duplicate hint, ratings.

Tickets get ``public_search_text`` (the folded redacted text the public search
reads — never the original) and ``rated_at``. Partial indexes over published
tickets serve the results list filtered by field, agency or area, newest first;
a partial index over open tickets with a point serves the "already reported
nearby" hint; on PostgreSQL a trigram index (pg_trgm) serves the
accent-insensitive "contains" search (a plain index of the same name on SQLite).

Revision ID: 0005
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0008'
branch_labels = None
depends_on = None

PUBLISHED = "published_at IS NOT NULL"
OPEN_WITH_POINT = ("lat IS NOT NULL AND status IN ('new', 'assigned', 'in_progress', "
                   "'waiting_citizen', 'returned', 'reopened', 'resolved')")


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('public_search_text', sa.Text(), nullable=True))
    for column in ("field", "agency", "area"):
        op.create_index(f"ix_tickets_published_{column}", "tickets",
                        [f"{column}_id", "published_at", "id"],
                        postgresql_where=sa.text(PUBLISHED), sqlite_where=sa.text(PUBLISHED))
    op.create_index("ix_tickets_open_point", "tickets", ["field_id", "lat", "lon"],
                    postgresql_where=sa.text(OPEN_WITH_POINT),
                    sqlite_where=sa.text(OPEN_WITH_POINT))
    # GIN trigram on PostgreSQL; a plain partial index of the same name on SQLite (see
    # hotline/models/publication.py).
    op.create_index("ix_tickets_public_search", "tickets", ["public_search_text"],
                    postgresql_using="gin",
                    postgresql_ops={"public_search_text": "gin_trgm_ops"},
                    postgresql_where=sa.text(PUBLISHED), sqlite_where=sa.text(PUBLISHED))


def downgrade():
    op.drop_index("ix_tickets_public_search", table_name="tickets")
    op.drop_index("ix_tickets_open_point", table_name="tickets")
    for column in ("field", "agency", "area"):
        op.drop_index(f"ix_tickets_published_{column}", table_name="tickets")
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('public_search_text')
        batch_op.drop_column('rated_at')
