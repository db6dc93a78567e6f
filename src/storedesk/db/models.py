"""Import every model so that metadata (Alembic, tests) sees the whole schema."""

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
