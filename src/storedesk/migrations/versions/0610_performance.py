"""performance: shop settings token (process-wide SLA cache)

Revision ID: 0610
Revises: 0500
Create Date: 2026-12-07 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0610"
down_revision: str | tuple[str, ...] | None = "0500"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch_op:
        batch_op.add_column(sa.Column("settings_token", sa.String(length=32), nullable=True))
    # every existing shop gets its own random token (NULL would only mean "do not cache")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE shops SET settings_token = md5(random()::text || id::text)")
    else:
        op.execute("UPDATE shops SET settings_token = lower(hex(randomblob(16)))")


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch_op:
        batch_op.drop_column("settings_token")
