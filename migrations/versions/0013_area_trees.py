"""Official area trees: unit type, centroid, area, validity, successor and boundary on areas;
a ticket's unit in today's tree; indexes for reorganisations and the public map.

Revision ID: 0013_area_trees
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = "0013_area_trees"
down_revision = "0012"
branch_labels = None
depends_on = None

MAPPED = sa.text("published_at IS NOT NULL AND lat IS NOT NULL")
AREA_FLOATS = ("lat", "lon", "area_km2", "min_lat", "min_lon", "max_lat", "max_lon")


def upgrade():
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_type", sa.String(length=32), nullable=True))
        for name in AREA_FLOATS:
            batch_op.add_column(sa.Column(name, sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("valid_to", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("successor_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("boundary", sa.JSON(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_areas_successor_id_areas"), "areas",
                                    ["successor_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_areas_successor_id"), ["successor_id"], unique=False)
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_area_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_tickets_current_area_id_areas"), "areas",
                                    ["current_area_id"], ["id"])
        batch_op.create_index(batch_op.f("ix_tickets_current_area_id"), ["current_area_id"],
                              unique=False)
        batch_op.create_index("ix_tickets_area", ["area_id"], unique=False)
        batch_op.create_index("ix_tickets_published_point",
                              ["published_at", "lat", "lon", "field_id"], unique=False,
                              postgresql_where=MAPPED, sqlite_where=MAPPED)


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_published_point")
        batch_op.drop_index("ix_tickets_area")
        batch_op.drop_index(batch_op.f("ix_tickets_current_area_id"))
        batch_op.drop_constraint(batch_op.f("fk_tickets_current_area_id_areas"), type_="foreignkey")
        batch_op.drop_column("current_area_id")
    with op.batch_alter_table("areas", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_areas_successor_id"))
        batch_op.drop_constraint(batch_op.f("fk_areas_successor_id_areas"), type_="foreignkey")
        for name in ("boundary", "successor_id", "valid_to", *AREA_FLOATS, "unit_type"):
            batch_op.drop_column(name)
