"""form_versions.model_source: where a version's FormModel came from

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("form_versions") as batch:
        batch.add_column(sa.Column("model_source", sa.String(length=40), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("form_versions") as batch:
        batch.drop_column("model_source")
