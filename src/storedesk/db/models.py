"""Import every model so that metadata (Alembic, tests) sees the whole schema."""

import storedesk.analytics.models as analytics_models  # noqa: F401  (registers the tables)
import storedesk.assistant.models as assistant_models  # noqa: F401  (registers the tables)
import storedesk.helpcenter.models as helpcenter_models  # noqa: F401  (registers the tables)
import storedesk.returns.models as returns_models  # noqa: F401  (registers the tables)
import storedesk.sla.models as sla_models  # noqa: F401  (registers the tables)
import storedesk.surveys.models as surveys_models  # noqa: F401  (registers the tables)
from storedesk.agents.models import Agent, AuthToken, Notification, Team, TeamMember
from storedesk.channels.models import Channel, InboundEvent
from storedesk.commerce.models import (
    Order,
    OrderLine,
    Product,
    Refund,
    Return,
    ReturnLine,
    Shipment,
    Store,
    TrackingEvent,
    Variant,
)
from storedesk.conversations.models import Attachment, Conversation, ConversationTag, Message
from storedesk.customers.models import Customer, CustomerIdentity
from storedesk.db.base import Base
from storedesk.events.models import Event
from storedesk.jobs.models import Job
from storedesk.knowledge.models import Article, ArticleVersion, Macro
from storedesk.shops.models import Shop

__all__ = [
    "Agent",
    "Article",
    "ArticleVersion",
    "Attachment",
    "AuthToken",
    "Base",
    "Channel",
    "Conversation",
    "ConversationTag",
    "Customer",
    "CustomerIdentity",
    "Event",
    "InboundEvent",
    "Job",
    "Macro",
    "Message",
    "Notification",
    "Order",
    "OrderLine",
    "Product",
    "Refund",
    "Return",
    "ReturnLine",
    "Shipment",
    "Shop",
    "Store",
    "Team",
    "TeamMember",
    "TrackingEvent",
    "Variant",
]
