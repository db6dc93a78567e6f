"""``/api/v1`` endpoints of the assistant for agents: the why of each turn, the suggested reply, intent
corrections and the tone check of a draft."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from storedesk.api.deps import AgentAuth, Auth, Session, get_db
from storedesk.api.params import IdPath
from storedesk.assistant import service, tone
from storedesk.assistant.schemas import CorrectionIn, SuggestionOut, ToneFlagOut, ToneIn, ToneOut, TurnOut
from storedesk.db.session import Database

router = APIRouter(tags=["assistant"])
Db = Annotated[Database, Depends(get_db)]


@router.get(
    "/conversations/{conversation_id}/assistant/turns",
    response_model=list[TurnOut],
    summary="What the assistant understood, knew and did for each customer message (newest first)",
)
async def list_turns(conversation_id: IdPath, ctx: Auth, session: Session) -> list[TurnOut]:
    turns = await service.list_turns(session, shop_id=ctx.shop_id, conversation_id=conversation_id)
    return [TurnOut.model_validate(t) for t in turns]


@router.get(
    "/conversations/{conversation_id}/assistant/suggestion",
    response_model=SuggestionOut,
    summary="The reply the assistant suggests (computed now when no turn stored one)",
)
async def suggestion(conversation_id: IdPath, ctx: AgentAuth, session: Session, db: Db) -> SuggestionOut:
    await session.commit()  # the engine opens its own short transactions (SQLite has one connection)
    found = await service.suggestion(db, shop_id=ctx.shop_id, conversation_id=conversation_id)
    return SuggestionOut.model_validate(found)


@router.post(
    "/assistant/turns/{turn_id}/correction",
    response_model=TurnOut,
    summary="Correct the intent of a turn (agents); corrections feed the next training run",
)
async def correct(turn_id: IdPath, body: CorrectionIn, ctx: AgentAuth, session: Session) -> TurnOut:
    turn = await service.correct_intent(
        session, shop_id=ctx.shop_id, actor=ctx.actor, turn_id=turn_id, intent=body.intent
    )
    await session.flush()
    return TurnOut.model_validate(turn)


@router.post(
    "/assistant/tone", response_model=ToneOut, summary="Flag a curt or impolite draft before it is sent"
)
async def tone_check(body: ToneIn, ctx: AgentAuth) -> ToneOut:
    flags = tone.check(body.text, body.language)
    return ToneOut(ok=not flags, flags=[ToneFlagOut(**f.as_dict()) for f in flags])
