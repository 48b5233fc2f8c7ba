"""channel tokens: the rotated OAuth pair of channels that refresh them (Zalo OA)

Revision ID: 0009
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('channel_tokens',
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('access_token', sa.Text(), nullable=False),
    sa.Column('refresh_token', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seed_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('channel', name=op.f('pk_channel_tokens'))
    )


def downgrade():
    op.drop_table('channel_tokens')
