"""where replies may go, how the sender was judged, reasons in the customer's words,
the operator HotSpot named for each line

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reply_to", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("trust_notes", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_reason", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("hotspot_operator", sa.String(), nullable=True))
    # Requests taken in before senders were judged: replies go where they went before.
    op.execute("UPDATE onboardingrequest SET reply_to = sender WHERE source = 'email'")


def downgrade() -> None:
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.drop_column("hotspot_operator")
        batch_op.drop_column("customer_reason")
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.drop_column("trust_notes")
        batch_op.drop_column("reply_to")
