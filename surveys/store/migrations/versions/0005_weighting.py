"""weighting: runs know their form, status, diagnostics and history

A weighting run is written as "running", its weights added, and marked "finished" (or
"failed" with the error) so that a rerun replaces the previous run only once it finished.
Table weighting_design keeps each weighted submission's sampling design (stratum, PSU, fpc)
with the run, so that an export declares the very design the run used.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.add_column("weighting_runs", sa.Column("form_id", sa.String(length=200), nullable=True))
    op.add_column("weighting_runs", sa.Column("status", sa.String(length=20), nullable=True))
    op.add_column(
        "weighting_runs", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("weighting_runs", sa.Column("diagnostics_json", sa.Text(), nullable=True))
    op.add_column("weighting_runs", sa.Column("history_json", sa.Text(), nullable=True))
    op.add_column("weighting_runs", sa.Column("message", sa.Text(), nullable=True))
    op.create_index("ix_weights_run_id", "weights", ["run_id"])
    op.create_table(
        "weighting_design",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("weighting_runs.id"), nullable=False),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=True),
        sa.Column("psu", sa.String(length=200), nullable=True),
        sa.Column("fpc", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("run_id", "submission_id"),
    )
    op.create_index("ix_weighting_design_run_id", "weighting_design", ["run_id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_weighting_design_run_id", table_name="weighting_design")
    op.drop_table("weighting_design")
    op.drop_index("ix_weights_run_id", table_name="weights")
    with op.batch_alter_table("weighting_runs") as batch:
        for column in ("message", "history_json", "diagnostics_json", "finished_at", "status"):
            batch.drop_column(column)
        batch.drop_column("form_id")
