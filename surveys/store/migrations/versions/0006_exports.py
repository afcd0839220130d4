"""exports: what each export took (form, versions, weighting run) and wrote (file checksums)

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the provenance columns of export_runs."""
    with op.batch_alter_table("export_runs") as batch:
        batch.add_column(sa.Column("form_id", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("form_versions", sa.String(length=1000), nullable=True))
        batch.add_column(sa.Column("weighting_run_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("files_json", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the provenance columns of export_runs."""
    with op.batch_alter_table("export_runs") as batch:
        batch.drop_column("files_json")
        batch.drop_column("weighting_run_id")
        batch.drop_column("form_versions")
        batch.drop_column("form_id")
