"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import store.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contacts", sa.JSON(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("hotspot_token_encrypted", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_company_name"), ["name"], unique=True)

    op.create_table(
        "integration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("pending", "live", name="integrationstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("live_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id"),
    )
    op.create_table(
        "location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("company_id", "name"),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_company_id"), ["company_id"], unique=False)

    op.create_table(
        "onboardingrequest",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "source",
            sa.Enum("email", "form", name="requestsource", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("parsed", sa.JSON(), nullable=True),
        sa.Column("company_id", sa.Integer(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "needs_review",
                "validated",
                "mapped",
                "test_issued",
                "verified",
                "live",
                "rejected",
                "waiting_on_ops",
                "failed",
                name="requeststate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_onboardingrequest_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_onboardingrequest_key"), ["key"], unique=True)

    op.create_table(
        "requestspot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("spot_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "verdict",
            sa.Enum(
                "pending",
                "accepted",
                "already_live",
                "rejected",
                name="spotverdict",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["onboardingrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "position"),
    )
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_requestspot_request_id"), ["request_id"], unique=False)

    op.create_table(
        "spotmapping",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("integration_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("spot_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "mapped",
                "test_issued",
                "verified",
                "live",
                "waiting_on_ops",
                "failed",
                name="mappingstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
        ),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integration.id"],
        ),
        sa.ForeignKeyConstraint(
            ["location_id"],
            ["location.id"],
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["onboardingrequest.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("location_id"),
        sa.UniqueConstraint("spot_id"),
    )
    with op.batch_alter_table("spotmapping", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spotmapping_company_id"), ["company_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_spotmapping_integration_id"), ["integration_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_spotmapping_request_id"), ["request_id"], unique=False)

    op.create_table(
        "testpermit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=False),
        sa.Column("spot_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("hotspot_permit_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("with_company_token", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "issued",
                "visible",
                "revoked",
                "refused",
                name="permitstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("start_time", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_time", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_at", store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("visible_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", store.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["mapping_id"],
            ["spotmapping.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("external_id"),
    )
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_testpermit_mapping_id"), ["mapping_id"], unique=False)
        batch_op.create_index(
            "uq_testpermit_one_active_per_mapping",
            ["mapping_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('pending', 'issued', 'visible')"),
            postgresql_where=sa.text("state IN ('pending', 'issued', 'visible')"),
        )


def downgrade() -> None:
    with op.batch_alter_table("testpermit", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_testpermit_one_active_per_mapping",
            sqlite_where=sa.text("state IN ('pending', 'issued', 'visible')"),
            postgresql_where=sa.text("state IN ('pending', 'issued', 'visible')"),
        )
        batch_op.drop_index(batch_op.f("ix_testpermit_mapping_id"))

    op.drop_table("testpermit")
    with op.batch_alter_table("spotmapping", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spotmapping_request_id"))
        batch_op.drop_index(batch_op.f("ix_spotmapping_integration_id"))
        batch_op.drop_index(batch_op.f("ix_spotmapping_company_id"))

    op.drop_table("spotmapping")
    with op.batch_alter_table("requestspot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_requestspot_request_id"))

    op.drop_table("requestspot")
    with op.batch_alter_table("onboardingrequest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_onboardingrequest_key"))
        batch_op.drop_index(batch_op.f("ix_onboardingrequest_company_id"))

    op.drop_table("onboardingrequest")
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_location_company_id"))

    op.drop_table("location")
    op.drop_table("integration")
    with op.batch_alter_table("company", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_name"))

    op.drop_table("company")
