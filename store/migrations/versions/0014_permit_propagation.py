"""test permits: when HotSpot accepted each, and when it was found propagated

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_at", store.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("propagated_at", store.models.UTCDateTime(), nullable=True))
        batch_op.create_index("ix_testpermit_propagated_at", ["propagated_at"])


def downgrade() -> None:
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.drop_index("ix_testpermit_propagated_at")
        batch_op.drop_column("propagated_at")
        batch_op.drop_column("issued_at")
