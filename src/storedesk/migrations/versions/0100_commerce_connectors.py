"""commerce connectors: upsert keys on the platform's ids, multi-store numbering, sync bookkeeping

Revision ID: 0100
Revises: 0002
Create Date: 2026-11-23 06:02:54

* Every mirrored row gets a unique key on the platform's id — ``(store_id, external_id)`` for orders,
  products and variants, ``(order_id, external_id)`` for lines, shipments, refunds and returns — so a sync
  upserts and a restarted backfill creates no duplicate (ADR docs/adr/0100-commerce-mirror-keys.md).
* Order numbers, product handles and SKUs stop being unique per shop: two connected stores may both have
  an order #1001 or a "t-shirt", and Shopify variants often have no SKU at all. They stay indexed.
* Bookkeeping: ``platform_updated_at`` on products and shipments (an older webhook never overwrites a
  newer state), the order action in flight, refunded shipping and lines, the store's platform address.

SQLite cannot drop a table constraint: ``orders``, ``products`` and ``variants`` are rebuilt (Alembic batch
mode). Dropping the old table with foreign keys enforced would cascade-delete every order line, shipment,
refund and return, so the rebuild runs with ``PRAGMA foreign_keys=OFF`` (it can only change outside a
transaction: the pragma is switched between COMMIT and BEGIN IMMEDIATE), then ``PRAGMA foreign_key_check``
must come back empty before the migration is allowed to finish.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storedesk.db.base import UTCDateTime

revision: str = "0100"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# (table, old unique constraint, its columns, the plain index that replaces it)
RELAXED = (
    ("orders", "uq_orders_shop_id_number", ["shop_id", "number"], "ix_orders_shop_number"),
    ("products", "uq_products_shop_id_handle", ["shop_id", "handle"], "ix_products_shop_handle"),
    ("variants", "uq_variants_shop_id_sku", ["shop_id", "sku"], "ix_variants_shop_sku"),
)

UPSERT_KEYS = (
    ("orders", "ux_orders_store_external", ["store_id", "external_id"]),
    ("products", "ux_products_store_external", ["store_id", "external_id"]),
    ("variants", "ux_variants_store_external", ["store_id", "external_id"]),
    ("order_lines", "ux_order_lines_order_external", ["order_id", "external_id"]),
    ("shipments", "ux_shipments_order_external", ["order_id", "external_id"]),
    ("refunds", "ux_refunds_order_external", ["order_id", "external_id"]),
    ("returns", "ux_returns_order_external", ["order_id", "external_id"]),
)


def _sqlite_foreign_keys(enabled: bool) -> None:
    bind = op.get_bind()
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")
    bind.exec_driver_sql("BEGIN IMMEDIATE")


def _add_columns() -> None:
    op.add_column("stores", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.add_column("stores", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("stores", sa.Column("last_synced_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("products", sa.Column("platform_updated_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("action_pending", sa.String(length=32), nullable=True))
    op.add_column("orders", sa.Column("action_started_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("shipments", sa.Column("platform_updated_at", UTCDateTime(timezone=True), nullable=True))
    op.add_column("returns", sa.Column("external_id", sa.String(length=64), nullable=True))
    op.add_column(
        "refunds", sa.Column("shipping_minor", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("refunds", sa.Column("lines", sa.JSON(), server_default=sa.text("'[]'"), nullable=False))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _add_columns()
    if sqlite:
        _sqlite_foreign_keys(False)
        try:
            for table, constraint, columns, index in RELAXED:
                with op.batch_alter_table(table, recreate="always") as batch:
                    batch.drop_constraint(constraint, type_="unique")
                    if table == "variants":
                        batch.add_column(sa.Column("store_id", ID, nullable=True))
                        batch.create_foreign_key(
                            "fk_variants_store_id_stores", "stores", ["store_id"], ["id"], ondelete="SET NULL"
                        )
                op.create_index(index, table, columns, unique=False)
            broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"foreign keys broken by the rebuild: {broken[:5]}")
        finally:
            _sqlite_foreign_keys(True)
    else:
        op.add_column("variants", sa.Column("store_id", ID, nullable=True))
        op.create_foreign_key(
            "fk_variants_store_id_stores", "variants", "stores", ["store_id"], ["id"], ondelete="SET NULL"
        )
        for table, constraint, columns, index in RELAXED:
            op.drop_constraint(constraint, table, type_="unique")
            op.create_index(index, table, columns, unique=False)
    for table, index, columns in UPSERT_KEYS:
        op.create_index(index, table, columns, unique=True)


DROPPED = (
    ("refunds", "lines"),
    ("refunds", "shipping_minor"),
    ("returns", "external_id"),
    ("shipments", "platform_updated_at"),
    ("orders", "action_started_at"),
    ("orders", "action_pending"),
    ("products", "platform_updated_at"),
    ("stores", "last_synced_at"),
    ("stores", "last_error"),
    ("stores", "external_id"),
)


def downgrade() -> None:
    # fails if two stores of one shop share an order number, handle or SKU (as it must)
    for table, index, _ in UPSERT_KEYS:
        op.drop_index(index, table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_foreign_keys(False)
        try:
            for table, constraint, columns, index in RELAXED:
                op.drop_index(index, table_name=table)
                with op.batch_alter_table(table, recreate="always") as batch:
                    batch.create_unique_constraint(constraint, columns)
                    if table == "variants":
                        batch.drop_constraint("fk_variants_store_id_stores", type_="foreignkey")
                        batch.drop_column("store_id")
            for table, column in DROPPED:
                with op.batch_alter_table(table, recreate="always") as batch:
                    batch.drop_column(column)
        finally:
            _sqlite_foreign_keys(True)
        return
    for table, constraint, columns, index in RELAXED:
        op.drop_index(index, table_name=table)
        op.create_unique_constraint(constraint, table, columns)
    op.drop_constraint("fk_variants_store_id_stores", "variants", type_="foreignkey")
    op.drop_column("variants", "store_id")
    for table, column in DROPPED:
        op.drop_column(table, column)
