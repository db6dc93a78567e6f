"""The assistant in the conversation view: what it understood and did for each customer message (shown in
the timeline), intent corrections by agents, the suggested reply above the composer and the tone check of
a draft. Thin: each route calls one function of ``storedesk.assistant``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from storedesk.api.deps import Session, get_db
from storedesk.assistant import policies, tone
from storedesk.assistant import service as assistant
from storedesk.assistant.models import AssistantTurn
from storedesk.assistant.nlu.intents import INTENTS
from storedesk.assistant.repository import TurnRepository
from storedesk.conversations.models import ConversationStatus
from storedesk.conversations.repository import InboxRepository
from storedesk.customers.repository import CustomerRepository
from storedesk.web import views
from storedesk.web.deps import AgentWeb, Web, WebRoute, is_htmx, page, redirect
from storedesk.web.i18n import N_, _
from storedesk.web.templating import env

router = APIRouter(prefix="/app", route_class=WebRoute)

INTENT = {
    "track_order": N_("Where is my order"),
    "delivery_options": N_("Delivery options"),
    "cancel_order": N_("Cancel an order"),
    "change_order": N_("Change an order"),
    "change_shipping_address": N_("Change the shipping address"),
    "return_request": N_("Return or exchange"),
    "return_policy": N_("Return policy"),
    "refund_request": N_("Wants a refund"),
    "refund_status": N_("Where is my refund"),
    "damaged_or_wrong_item": N_("Damaged or wrong item"),
    "delivery_problem": N_("Delivery problem"),
    "payment_problem": N_("Payment problem"),
    "payment_methods": N_("Payment methods"),
    "invoice_request": N_("Invoice"),
    "discount_problem": N_("Discount problem"),
    "product_question": N_("Product question"),
    "stock_availability": N_("Stock availability"),
    "account_help": N_("Account help"),
    "unsubscribe": N_("Unsubscribe"),
    "talk_to_human": N_("Wants a person"),
    "complaint": N_("Complaint"),
    "feedback_praise": N_("Thanks or praise"),
    "other": N_("Other"),
}
DECISION = {"answer": N_("answer"), "suggest": N_("suggest"), "handover": N_("hand over")}
OUTCOME = {
    "answered": N_("Answered the customer"),
    "action": N_("Acted and told the customer"),
    "suggested": N_("Suggested a reply to the agents"),
    "handover": N_("Handed over to a person"),
    "skipped": N_("Did nothing"),
    "confirm": N_("Asked the customer to confirm"),
}
TONE = {
    "all_caps": N_("Sounds like shouting: capital letters."),
    "no_greeting": N_("Sounds curt: no greeting."),
    "no_thanks_or_closing": N_("Sounds curt: no thank-you, apology or friendly closing."),
    "blunt_phrase": N_("Can sound dismissive: “%(phrase)s”."),
    "exclamations": N_("Several exclamation marks in a row can read as impatient."),
    "very_short": N_("Sounds curt: a very short answer with no courtesy."),
}
ASSISTANT_LABELS = {"intent": INTENT, "decision": DECISION, "outcome": OUTCOME, "intents": INTENTS}
env.globals["assistant_labels"] = ASSISTANT_LABELS


def outcome_of(turn: AssistantTurn) -> str:
    """What the customer experienced: a pending question is "asked to confirm", whatever else it did."""
    return "confirm" if turn.pending else (turn.outcome or "skipped")


env.globals["assistant_outcome"] = outcome_of


async def turns_by_message(session: AsyncSession, shop_id: int, conversation_id: int) -> dict[int, Any]:
    """The conversation's assistant turns keyed by the customer message each one answered."""
    turns = await assistant.list_turns(session, shop_id=shop_id, conversation_id=conversation_id)
    return {t.message_id: t for t in turns if t.message_id is not None}


async def turns_for_messages(session: AsyncSession, shop_id: int, message_ids: list[int]) -> dict[int, Any]:
    """The assistant turns of these customer messages (the timeline's live tail), keyed by message."""
    if not message_ids:
        return {}
    stmt = TurnRepository(session, shop_id).select().where(AssistantTurn.message_id.in_(message_ids))
    return {t.message_id: t for t in (await session.execute(stmt)).scalars() if t.message_id is not None}


def tone_flags(flags: list[tone.Flag]) -> list[str]:
    out = []
    for flag in flags:
        label = TONE.get(flag.code)
        if label is None:
            out.append(flag.message)
        elif flag.code == "blunt_phrase":
            out.append(_(label, phrase=flag.detail or ""))
        else:
            out.append(_(label))
    return out


@router.get("/assistant/turns/{turn_id}")
async def turn_detail(request: Request, ctx: Web, session: Session, turn_id: int) -> Response:
    """The why of one turn, loaded when the agent opens it in the timeline."""
    turn = await TurnRepository(session, ctx.shop_id).get_or_404(turn_id)
    return page(request, "partials/assistant_turn_body.html", {"turn": turn})


@router.post("/assistant/turns/{turn_id}/intent")
async def correct_intent(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    turn_id: int,
    intent: Annotated[str, Form(max_length=48)],
) -> Response:
    turn = await assistant.correct_intent(
        session, shop_id=ctx.shop_id, actor=ctx.auth.actor, turn_id=turn_id, intent=intent
    )
    if not is_htmx(request):  # a plain form post (no JavaScript): back to the conversation
        return redirect(f"/app/c/{turn.conversation_id}#turn-{turn.id}")
    await session.flush()
    return page(request, "partials/assistant_turn.html", {"turn": turn, "open": True, "saved": True})


@router.get("/c/{conversation_id}/assistant/suggestion")
async def suggestion(request: Request, ctx: AgentWeb, session: Session, conversation_id: int) -> Response:
    conversation = await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    # a suggested reply only where the shop uses the assistant (answering or suggesting) and the customer
    # waits; suggested macros for every open conversation of such a shop
    enabled = policies.parse(ctx.shop.policies, ctx.shop.languages).mode != "off"
    waiting = conversation.waiting_since is not None and conversation.status != ConversationStatus.closed
    await session.commit()  # the engine opens its own short transactions (SQLite has one connection)
    db = get_db(request)
    found = (
        await assistant.suggestion(db, shop_id=ctx.shop_id, conversation_id=conversation_id)
        if enabled and waiting
        else None
    )
    # the suggested macros: with the suggestion, else (the customer is not waiting) on their own; none
    # where the shop switched the assistant off
    macros = (
        found.macros
        if found is not None
        else await assistant.suggested_macros(db, shop_id=ctx.shop_id, conversation_id=conversation_id)
        if enabled
        else []
    )
    return page(
        request,
        "partials/assistant_suggestion.html",
        {
            "s": found if found is not None and found.text else None,
            "macros": macros,
            "conv_id": conversation_id,
        },
    )


@router.post("/c/{conversation_id}/assistant/tone")
async def tone_check(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    conversation_id: int,
    text: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    conversation = await InboxRepository(session, ctx.shop_id).get_or_404(conversation_id)
    customer = await CustomerRepository(session, ctx.shop_id).get(conversation.customer_id)
    language = views.customer_language(ctx.shop, conversation, customer)
    flags = tone.check(text, language)
    context: Mapping[str, Any] = {"flags": tone_flags(flags), "codes": [f.code for f in flags]}
    return page(request, "partials/assistant_tone.html", dict(context))
