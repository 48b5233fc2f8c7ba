"""Triage's duplicate candidates: tickets of one ward by time of receipt.

Revision ID: 0019_triage_duplicates
Revises: 0018_attachment_fetch_error
"""
from alembic import op

revision = "0019_triage_duplicates"
down_revision = "0018_attachment_fetch_error"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_area_received", ["area_id", "received_at"], unique=False)


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_area_received")
