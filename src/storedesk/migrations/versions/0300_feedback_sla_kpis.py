"""feedback, SLAs and KPI rollups: surveys, survey responses, reviews, SLA policies and clocks, KPI tables

Revision ID: 0300
Revises: 0002
Create Date: 2026-11-23 12:00:00

A branch from 0002 like the other feature migrations; ``storedesk db upgrade`` applies every head.
Every table here is new: nothing existing is altered.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import storedesk.db.base

revision: str = "0300"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    #
    op.create_table(
        "kpi_buyer_transitions",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=1), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("ref_day", sa.Date(), nullable=False),
        sa.Column("customers", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kpi_buyer_transitions_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", "kind", "day", "ref_day", name=op.f("pk_kpi_buyer_transitions")),
    )
    with op.batch_alter_table("kpi_buyer_transitions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_kpi_buyer_transitions_ref", ["shop_id", "kind", "ref_day", "day"], unique=False
        )

    op.create_table(
        "kpi_buyers",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kpi_buyers_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", "customer_id", name=op.f("pk_kpi_buyers")),
    )
    op.create_table(
        "kpi_conversation_facts",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=48), nullable=False),
        sa.Column(
            "contributions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("computed_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_kpi_conversation_facts_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_kpi_conversation_facts")),
    )
    with op.batch_alter_table("kpi_conversation_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kpi_conversation_facts_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "kpi_daily",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grain", sa.SmallInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("agent_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=48), nullable=False),
        sa.Column("conversations", sa.BigInteger(), nullable=False),
        sa.Column("messages_received", sa.BigInteger(), nullable=False),
        sa.Column("first_responses", sa.BigInteger(), nullable=False),
        sa.Column("frt_seconds", sa.BigInteger(), nullable=False),
        sa.Column("frt_business_seconds", sa.BigInteger(), nullable=False),
        sa.Column("frt_le_15m", sa.BigInteger(), nullable=False),
        sa.Column("frt_le_1h", sa.BigInteger(), nullable=False),
        sa.Column("frt_le_4h", sa.BigInteger(), nullable=False),
        sa.Column("frt_le_24h", sa.BigInteger(), nullable=False),
        sa.Column("frt_gt_24h", sa.BigInteger(), nullable=False),
        sa.Column("resolved", sa.BigInteger(), nullable=False),
        sa.Column("resolution_seconds", sa.BigInteger(), nullable=False),
        sa.Column("resolution_business_seconds", sa.BigInteger(), nullable=False),
        sa.Column("reopened", sa.BigInteger(), nullable=False),
        sa.Column("fcr_eligible", sa.BigInteger(), nullable=False),
        sa.Column("fcr", sa.BigInteger(), nullable=False),
        sa.Column("automated", sa.BigInteger(), nullable=False),
        sa.Column("handled", sa.BigInteger(), nullable=False),
        sa.Column("handle_seconds", sa.BigInteger(), nullable=False),
        sa.Column("sla_achieved", sa.BigInteger(), nullable=False),
        sa.Column("sla_breached", sa.BigInteger(), nullable=False),
        sa.Column("backlog_delta", sa.BigInteger(), nullable=False),
        sa.Column("csat_responses", sa.BigInteger(), nullable=False),
        sa.Column("csat_score_sum", sa.BigInteger(), nullable=False),
        sa.Column("csat_satisfied", sa.BigInteger(), nullable=False),
        sa.Column("ces_responses", sa.BigInteger(), nullable=False),
        sa.Column("ces_score_sum", sa.BigInteger(), nullable=False),
        sa.Column("ces_easy", sa.BigInteger(), nullable=False),
        sa.Column("nps_responses", sa.BigInteger(), nullable=False),
        sa.Column("nps_promoters", sa.BigInteger(), nullable=False),
        sa.Column("nps_passives", sa.BigInteger(), nullable=False),
        sa.Column("nps_detractors", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kpi_daily_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "shop_id",
            "grain",
            "day",
            "channel_id",
            "agent_id",
            "team_id",
            "language",
            "intent",
            name=op.f("pk_kpi_daily"),
        ),
    )
    op.create_table(
        "kpi_rollup_state",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_watermark", sa.BigInteger(), nullable=False),
        sa.Column("checkpoints", sa.JSON(), nullable=False),
        sa.Column("orders_watermark", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_run_seconds", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_kpi_rollup_state_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_kpi_rollup_state")),
    )
    op.create_table(
        "sla_policies",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("match_priority", sa.String(length=16), nullable=True),
        sa.Column("match_channel_kind", sa.String(length=16), nullable=True),
        sa.Column("match_tag", sa.String(length=64), nullable=True),
        sa.Column("first_response_minutes", sa.Integer(), nullable=True),
        sa.Column("next_response_minutes", sa.Integer(), nullable=True),
        sa.Column("resolution_minutes", sa.Integer(), nullable=True),
        sa.Column("business_hours", sa.Boolean(), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_sla_policies_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("shop_id", "name", name=op.f("uq_sla_policies_shop_id_name")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_policies_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_sla_policies_shop_position", ["shop_id", "position", "id"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("product_title", sa.String(length=300), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_email", sa.String(length=320), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("published_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "follow_up_conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("replied_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replied_by_agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_reviews_customer_id_customers"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_conversation_id"],
            ["conversations.id"],
            name=op.f("fk_reviews_follow_up_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_reviews_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["products.id"], name=op.f("fk_reviews_product_id_products"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["replied_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_reviews_replied_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_reviews_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint(
            "shop_id", "source", "external_id", name=op.f("uq_reviews_shop_id_source_external_id")
        ),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index("ix_reviews_shop_customer", ["shop_id", "customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reviews_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_reviews_shop_published", ["shop_id", "published_at", "id"], unique=False)

    op.create_table(
        "sla_conversation_states",
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("policy_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("started_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_responded_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("awaiting_since", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=16), nullable=True),
        sa.Column("paused_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("paused_seconds", sa.Double(), nullable=False),
        sa.Column("first_response_outcome", sa.String(length=16), nullable=True),
        sa.Column("next_response_outcome", sa.String(length=16), nullable=True),
        sa.Column("resolution_outcome", sa.String(length=16), nullable=True),
        sa.Column("next_due_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_breach_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_sla_conversation_states_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_conversation_states_policy_id_sla_policies"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"],
            ["shops.id"],
            name=op.f("fk_sla_conversation_states_shop_id_shops"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_sla_conversation_states")),
    )
    with op.batch_alter_table("sla_conversation_states", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_conversation_states_shop_id"), ["shop_id"], unique=False)
        batch_op.create_index("ix_sla_states_next_breach", ["next_breach_at", "shop_id"], unique=False)
        batch_op.create_index("ix_sla_states_shop_next_due", ["shop_id", "next_due_at"], unique=False)

    op.create_table(
        "surveys",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("intent", sa.String(length=48), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("skip_reason", sa.String(length=200), nullable=True),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("scheduled_for", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("created_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_surveys_agent_id_agents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_surveys_channel_id_channels"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_surveys_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_surveys_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name=op.f("fk_surveys_message_id_messages"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_surveys_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_surveys_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_surveys_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.create_index("ix_surveys_shop_conversation", ["shop_id", "conversation_id"], unique=False)
        batch_op.create_index("ix_surveys_shop_created", ["shop_id", "created_at", "id"], unique=False)
        batch_op.create_index(
            "ix_surveys_shop_customer", ["shop_id", "customer_id", "created_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_surveys_shop_id"), ["shop_id"], unique=False)

    op.create_table(
        "survey_responses",
        sa.Column("shop_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("order_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("agent_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("channel_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answered_at", storedesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "follow_up_conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_survey_responses_agent_id_agents"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.id"],
            name=op.f("fk_survey_responses_channel_id_channels"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_survey_responses_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_survey_responses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["follow_up_conversation_id"],
            ["conversations.id"],
            name=op.f("fk_survey_responses_follow_up_conversation_id_conversations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_survey_responses_order_id_orders"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["shop_id"], ["shops.id"], name=op.f("fk_survey_responses_shop_id_shops"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_responses_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_survey_responses_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
        sa.UniqueConstraint("survey_id", "kind", name=op.f("uq_survey_responses_survey_id_kind")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_survey_responses_shop_answered", ["shop_id", "answered_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_survey_responses_shop_id"), ["shop_id"], unique=False)

    #


def downgrade() -> None:

    #
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_survey_responses_shop_id"))
        batch_op.drop_index("ix_survey_responses_shop_answered")

    op.drop_table("survey_responses")
    with op.batch_alter_table("surveys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_surveys_shop_id"))
        batch_op.drop_index("ix_surveys_shop_customer")
        batch_op.drop_index("ix_surveys_shop_created")
        batch_op.drop_index("ix_surveys_shop_conversation")

    op.drop_table("surveys")
    with op.batch_alter_table("sla_conversation_states", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_states_shop_next_due")
        batch_op.drop_index("ix_sla_states_next_breach")
        batch_op.drop_index(batch_op.f("ix_sla_conversation_states_shop_id"))

    op.drop_table("sla_conversation_states")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index("ix_reviews_shop_published")
        batch_op.drop_index(batch_op.f("ix_reviews_shop_id"))
        batch_op.drop_index("ix_reviews_shop_customer")

    op.drop_table("reviews")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_policies_shop_position")
        batch_op.drop_index(batch_op.f("ix_sla_policies_shop_id"))

    op.drop_table("sla_policies")
    op.drop_table("kpi_rollup_state")
    op.drop_table("kpi_daily")
    with op.batch_alter_table("kpi_conversation_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kpi_conversation_facts_shop_id"))

    op.drop_table("kpi_conversation_facts")
    op.drop_table("kpi_buyers")
    with op.batch_alter_table("kpi_buyer_transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_kpi_buyer_transitions_ref")

    op.drop_table("kpi_buyer_transitions")
    #
