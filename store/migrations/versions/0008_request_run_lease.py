"""the lease of the one run working on a request

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_owner", sa.String(), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", store.models.UTCDateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("run_last_seen_at", store.models.UTCDateTime(), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.drop_column("run_last_seen_at")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_owner")
