"""Periodic jobs: the last run of each job of the schedule, and its single-runner lease.

Revision ID: 0013_periodic_jobs
Revises: 0013_area_trees
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_periodic_jobs"
down_revision = "0013_area_trees"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "periodic_jobs",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("last_started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seconds", sa.Float(), nullable=True),
        sa.Column("last_ok", sa.Boolean(), nullable=True),
        sa.Column("last_result", sa.String(length=500), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_runner", sa.String(length=16), nullable=True),
        sa.Column("lease_owner", sa.String(length=120), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_periodic_jobs")),
    )


def downgrade():
    op.drop_table("periodic_jobs")
