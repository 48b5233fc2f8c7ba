"""Audit log append-only on SQLite too (triggers refusing UPDATE and DELETE).

Revision ID: 0010
Revises: 0006b
"""
from alembic import op

from hotline.models.audit import AUDIT_SQLITE_TRIGGERS

revision = "0010"
down_revision = "0006b"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for sql in AUDIT_SQLITE_TRIGGERS:
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
