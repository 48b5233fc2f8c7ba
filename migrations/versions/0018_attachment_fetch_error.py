"""attachments.fetch_error: why a file sent as a URL (an Open311 media_url) was not fetched.

Revision ID: 0018_attachment_fetch_error
Revises: 0017_staff_sessions
"""
from alembic import op
import sqlalchemy as sa

revision = "0018_attachment_fetch_error"
down_revision = "0017_staff_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("fetch_error", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_column("fetch_error")
