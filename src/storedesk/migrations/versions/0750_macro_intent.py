"""macros.intent: the customer intent a macro answers (NULL: matched by its text only), for macro suggestions

Revision ID: 0750
Revises: 0710
Create Date: 2026-12-08 00:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0750"
down_revision: str | tuple[str, ...] | None = "0710"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("macros", sa.Column("intent", sa.String(length=48), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("macros") as batch_op:
        batch_op.drop_column("intent")
