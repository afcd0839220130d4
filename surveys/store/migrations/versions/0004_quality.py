"""quality: qc_flags gain form, run, code, instance, enumerator, variable and message; qc_runs
(one per quality-control run, with the fingerprint of what it read) and qc_enumerators
(the risk ranking of a run)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "qc_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id"), nullable=False),
        sa.Column("fingerprint", sa.String(length=200), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=True),
        sa.Column("flags", sa.Integer(), nullable=True),
        sa.Column("settings_json", sa.Text(), nullable=True),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qc_runs_form_id", "qc_runs", ["form_id"])
    op.create_table(
        "qc_enumerators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("qc_runs.id"), nullable=False),
        sa.Column("form_id", sa.Integer(), sa.ForeignKey("forms.id"), nullable=False),
        sa.Column("enumerator", sa.String(length=200), nullable=False),
        sa.Column("interviews", sa.Integer(), nullable=True),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("flagged", sa.Boolean(), nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("reasons_en", sa.Text(), nullable=True),
        sa.Column("reasons_zh", sa.Text(), nullable=True),
        sa.Column("indicators_json", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_qc_enumerators_form_id", "qc_enumerators", ["form_id"])
    with op.batch_alter_table("qc_flags") as batch:
        batch.add_column(sa.Column("form_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("code", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("instance_id", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("enumerator", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("variable", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("message", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_qc_flags_form_id", "forms", ["form_id"], ["id"])
        batch.create_foreign_key("fk_qc_flags_run_id", "qc_runs", ["run_id"], ["id"])
        batch.create_index("ix_qc_flags_form_id", ["form_id"])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("qc_flags") as batch:
        batch.drop_index("ix_qc_flags_form_id")
        batch.drop_constraint("fk_qc_flags_run_id", type_="foreignkey")
        batch.drop_constraint("fk_qc_flags_form_id", type_="foreignkey")
        for column in ("message", "variable", "enumerator", "instance_id", "code", "run_id"):
            batch.drop_column(column)
        batch.drop_column("form_id")
    op.drop_index("ix_qc_enumerators_form_id", table_name="qc_enumerators")
    op.drop_table("qc_enumerators")
    op.drop_index("ix_qc_runs_form_id", table_name="qc_runs")
    op.drop_table("qc_runs")
