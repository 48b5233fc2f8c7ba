"""API keys carry scopes: what each key may do (Open311 write, IOC read).

Keys made before this revision keep what they were made for (Open311 write) and
lose the IOC feed they could read by accident; the administrator grants
``ioc:read`` to a key made for the IOC wall (see docs/operations.md).

Revision ID: 0014_api_key_scopes
Revises: 0013_periodic_jobs
"""
from alembic import op
import sqlalchemy as sa

revision = "0014_api_key_scopes"
down_revision = "0013_periodic_jobs"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.String(length=200), nullable=False,
                                      server_default="open311:write"))


def downgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("scopes")
