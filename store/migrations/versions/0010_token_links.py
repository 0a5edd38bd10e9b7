"""token links: single-use signed links asking a customer for the company's HotSpot token

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issuedlink", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "purpose",
                sa.Enum("form", "token", name="linkpurpose", native_enum=False, length=10),
                nullable=False,
                server_default="form",
            )
        )
        batch_op.add_column(sa.Column("request_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recipient", sa.String(), nullable=True))
        batch_op.add_column(sa.Column("used_at", store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("reminded_at", store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("expiry_noticed_at", store.models.UTCDateTime(), nullable=True)
        )
        batch_op.create_index("ix_issuedlink_request_id", ["request_id"])


def downgrade() -> None:
    with op.batch_alter_table("issuedlink", schema=None) as batch_op:
        batch_op.drop_index("ix_issuedlink_request_id")
        batch_op.drop_column("expiry_noticed_at")
        batch_op.drop_column("reminded_at")
        batch_op.drop_column("used_at")
        batch_op.drop_column("recipient")
        batch_op.drop_column("request_id")
        batch_op.drop_column("purpose")
