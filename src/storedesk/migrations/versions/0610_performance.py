"""performance: shop settings token (process-wide SLA cache), inbox priority index

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


PRIORITY_RANK_SQL = (
    "CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE 4 END"
)


def upgrade() -> None:
    with op.batch_alter_table("shops") as batch_op:
        batch_op.add_column(sa.Column("settings_token", sa.String(length=32), nullable=True))
    # every existing shop gets its own random token (NULL would only mean "do not cache")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE shops SET settings_token = md5(random()::text || id::text)")
    else:
        op.execute("UPDATE shops SET settings_token = lower(hex(randomblob(16)))")
    # the inbox sorted by priority, then newest activity (the expression must match the query's text)
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_conv_shop_status_priority ON conversations "
        f"(shop_id, status, ({PRIORITY_RANK_SQL}), last_activity_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_conv_shop_status_priority")
    with op.batch_alter_table("shops") as batch_op:
        batch_op.drop_column("settings_token")
