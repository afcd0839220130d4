"""quality: qc_submission_state, what a quality-control run keeps per submission so that
the next run re-computes only new and changed submissions (audit-log summary, best
near-duplicate match)

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "qc_submission_state",
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id"), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("qc_runs.id"), nullable=True),
        sa.Column("instance_id", sa.String(length=100), nullable=True),
        sa.Column("stamp", sa.String(length=100), nullable=True),
        sa.Column("questions", sa.Float(), nullable=True),
        sa.Column("median_question_seconds", sa.Float(), nullable=True),
        sa.Column("changes", sa.Float(), nullable=True),
        sa.Column("consent_seconds", sa.Float(), nullable=True),
        sa.Column("audit_minutes", sa.Float(), nullable=True),
        sa.Column("best_share", sa.Float(), nullable=True),
        sa.Column("best_match", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("submission_id"),
    )
    op.create_index("ix_qc_submission_state_form_id", "qc_submission_state", ["form_id"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_qc_submission_state_form_id", table_name="qc_submission_state")
    op.drop_table("qc_submission_state")
