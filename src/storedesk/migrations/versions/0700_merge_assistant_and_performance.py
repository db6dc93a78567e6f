"""merge the assistant (0600) and performance (0610) branches: one head again

Revision ID: 0700
Revises: 0600, 0610
Create Date: 2026-12-07
"""

from collections.abc import Sequence

revision: str = "0700"
down_revision: str | tuple[str, ...] | None = ("0600", "0610")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
