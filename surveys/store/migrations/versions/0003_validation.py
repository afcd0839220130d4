"""validation: issue values and form versions, each version's JSON Schema, what was validated

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("validation_issues") as batch:
        batch.add_column(sa.Column("value", sa.Text(), nullable=True))
        batch.add_column(sa.Column("form_version", sa.String(length=200), nullable=True))
    with op.batch_alter_table("form_versions") as batch:
        batch.add_column(sa.Column("json_schema", sa.Text(), nullable=True))
    op.create_table(
        "validation_state",
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), primary_key=True),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_version", sa.String(length=200), nullable=True),
        sa.Column("rules_digest", sa.String(length=64), nullable=True),
        sa.Column("run_id", sa.String(length=100), nullable=True),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("errors", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("warnings", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("ix_validation_issues_code", "validation_issues", ["code"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_validation_issues_code", table_name="validation_issues")
    op.drop_table("validation_state")
    with op.batch_alter_table("form_versions") as batch:
        batch.drop_column("json_schema")
    with op.batch_alter_table("validation_issues") as batch:
        batch.drop_column("form_version")
        batch.drop_column("value")
