"""Publication policy: a manager can withhold a ticket from publication.

``tickets.publication_withheld_at`` is set when a manager decides a ticket is not
published (or takes it down), with the reason in its events and the audit log.
Existing tickets keep their ``consent_publish`` as recorded: citizens who were never
told about the new default are not published without having been asked.

Revision ID: 0015_publication
Revises: 0014_api_key_scopes
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_publication"
down_revision = "0014_api_key_scopes"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("publication_withheld_at", sa.DateTime(timezone=True),
                                   nullable=True))


def downgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("publication_withheld_at")
