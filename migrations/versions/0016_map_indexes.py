"""Map indexes measured at a million tickets: the public clusters read published points by
bounding box (lat, lon first, index-only), the hot spots a period's tickets by ward.

Revision ID: 0016_map_indexes
Revises: 0015_publication
"""
from alembic import op
import sqlalchemy as sa

revision = "0016_map_indexes"
down_revision = "0015_publication"
branch_labels = None
depends_on = None

MAPPED = sa.text("published_at IS NOT NULL AND lat IS NOT NULL")


def upgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_published_point")
        batch_op.create_index("ix_tickets_map_points", ["lat", "lon"], unique=False,
                              postgresql_include=["published_at", "field_id",
                                                  "consent_publish", "publication_withheld_at"],
                              postgresql_where=MAPPED, sqlite_where=MAPPED)
        batch_op.create_index("ix_tickets_hotspots", ["received_at"], unique=False,
                              postgresql_include=["area_id", "current_area_id", "status",
                                                  "due_at", "agency_id"])


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_hotspots")
        batch_op.drop_index("ix_tickets_map_points")
        batch_op.create_index("ix_tickets_published_point",
                              ["published_at", "lat", "lon", "field_id"], unique=False,
                              postgresql_where=MAPPED, sqlite_where=MAPPED)
