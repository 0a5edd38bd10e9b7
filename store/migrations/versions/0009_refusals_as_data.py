"""refusals as data: who refused a request, and each line's reason code

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

REFUSERS = ("intake", "validation", "mapping", "ops")
CODES = (
    "not_a_spot_id",
    "spot_id_repeated",
    "location_repeated",
    "location_has_another_spot",
    "spot_on_another_location",
    "spot_in_another_request",
    "unknown_to_hotspot",
    "spot_of_another_company",
    "inactive_in_hotspot",
    "unknown_location",
    "operator_unconfirmed",
    "claimed_meanwhile",
)


def upgrade() -> None:
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "refused_by",
                sa.Enum(*REFUSERS, name="refuser", native_enum=False, length=20),
                nullable=True,
            )
        )
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reason_code",
                sa.Enum(*CODES, name="refusalcode", native_enum=False, length=32),
                nullable=True,
            )
        )
    # Refusals made before this revision said who refused only in their text.
    op.execute(
        "UPDATE onboardingrequest SET refused_by = CASE "
        "WHEN reason LIKE 'rejected by ops%' THEN 'ops' "
        "WHEN reason LIKE 'not a SpotID request%' THEN 'intake' "
        "ELSE 'validation' END WHERE state = 'rejected'"
    )
    op.execute(
        "UPDATE requestspot SET reason_code = verdict "
        "WHERE verdict IN ('unknown_location', 'operator_unconfirmed')"
    )


def downgrade() -> None:
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.drop_column("reason_code")
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.drop_column("refused_by")
