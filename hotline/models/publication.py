"""Indexes of the public side (published results, the duplicate hint) on the ticket table.

The columns live on ``Ticket``; the indexes that only the public pages need are
declared here so the ticket module stays about the ticket.
"""
from __future__ import annotations

from sqlalchemy import DDL, Index, event, text

from hotline.models.ticket import Ticket

PUBLISHED = "published_at IS NOT NULL"
# Open tickets that have a map point: the "already reported nearby" hint's lat/lon box.
OPEN_WITH_POINT = ("lat IS NOT NULL AND status IN ('new', 'assigned', 'in_progress', "
                   "'waiting_citizen', 'returned', 'reopened', 'resolved')")

# Published results filtered by field, agency or area, newest first (keyset on published_at, id).
for _column in ("field", "agency", "area"):
    Index(f"ix_tickets_published_{_column}", getattr(Ticket, f"{_column}_id"),
          Ticket.published_at, Ticket.id,
          postgresql_where=text(PUBLISHED), sqlite_where=text(PUBLISHED))
Index("ix_tickets_open_point", Ticket.field_id, Ticket.lat, Ticket.lon,
      postgresql_where=text(OPEN_WITH_POINT), sqlite_where=text(OPEN_WITH_POINT))
# Accent-insensitive "contains" search over published text: LIKE '%den duong%' uses a
# trigram index on PostgreSQL. SQLite gets a plain partial index of the same name (it cannot
# serve LIKE '%…%', the embedded default scans its few published rows): declared the same
# on both backends, the schema is one thing whatever builds it (create_all or migrations).
Index("ix_tickets_public_search", Ticket.public_search_text,
      postgresql_using="gin", postgresql_ops={"public_search_text": "gin_trgm_ops"},
      postgresql_where=text(PUBLISHED), sqlite_where=text(PUBLISHED))
event.listen(Ticket.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
