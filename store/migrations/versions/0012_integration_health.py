"""integration health: a degraded mapping's problem, each health check kept, the canary's plate

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import store.models

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PROBLEMS = (
    "spot_not_found",
    "spot_inactive",
    "operator_changed",
    "token_refused",
    "canary_not_visible",
)


def _problem() -> sa.Enum:
    return sa.Enum(*PROBLEMS, name="healthproblem", native_enum=False, length=32)


def upgrade() -> None:
    # `degraded` is one more value of the mapping's state: stored as text, nothing to alter.
    with op.batch_alter_table("spotmapping", schema=None) as batch_op:
        batch_op.add_column(sa.Column("problem", _problem(), nullable=True))
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plate", sa.String(), nullable=True))
    op.create_table(
        "healthcheck",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("spot_id", sa.String(), nullable=False),
        sa.Column("checked_at", store.models.UTCDateTime(), nullable=False),
        sa.Column("problem", _problem(), nullable=True),
        sa.Column("detail", sa.String(), nullable=True),
        sa.Column("permit_id", sa.Integer(), nullable=True),
        sa.Column("new_problem", sa.Boolean(), nullable=False),
        sa.Column("ops_notified_at", store.models.UTCDateTime(), nullable=True),
        sa.Column("contact_notified_at", store.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"]),
        sa.ForeignKeyConstraint(["mapping_id"], ["spotmapping.id"]),
        sa.ForeignKeyConstraint(["permit_id"], ["testpermit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("healthcheck", schema=None) as batch_op:
        batch_op.create_index("ix_healthcheck_mapping_id", ["mapping_id"])
        batch_op.create_index("ix_healthcheck_company_id", ["company_id"])


def downgrade() -> None:
    with op.batch_alter_table("healthcheck", schema=None) as batch_op:
        batch_op.drop_index("ix_healthcheck_company_id")
        batch_op.drop_index("ix_healthcheck_mapping_id")
    op.drop_table("healthcheck")
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.drop_column("plate")
    with op.batch_alter_table("spotmapping", schema=None) as batch_op:
        batch_op.drop_column("problem")
