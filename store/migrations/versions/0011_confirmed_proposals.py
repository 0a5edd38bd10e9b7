"""confirmed proposals: who confirmed a request's proposed SpotIDs, and what they became

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "confirmed_by",
                sa.Enum("customer", "ops", name="confirmer", native_enum=False, length=20),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("confirmed_as", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_onboardingrequest_confirmed_as", "onboardingrequest", ["confirmed_as"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.drop_constraint("fk_onboardingrequest_confirmed_as", type_="foreignkey")
        batch_op.drop_column("confirmed_as")
        batch_op.drop_column("confirmed_by")
