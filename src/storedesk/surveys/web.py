"""Web pages of the feedback domain: the public survey page ``/s/<token>`` (no sign-in: the signed link
is the credential) and, in the agent workspace, product reviews with the customer beside them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import FileResponse, HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from storedesk.agents.repository import AgentRepository
from storedesk.api.deps import Session
from storedesk.commerce.repository import OrderRepository
from storedesk.kit.errors import NotFound, StoredeskError
from storedesk.kit.time import utcnow
from storedesk.shops.service import get_shop
from storedesk.surveys import reviews as review_service
from storedesk.surveys import service, texts
from storedesk.surveys.models import SCALES, Survey, SurveyKind
from storedesk.surveys.repository import ReviewRepository, SurveyResponseRepository
from storedesk.web import templating, views
from storedesk.web.deps import FLASH_COOKIE, AgentWeb, Web, WebRoute, base_context, redirect, undo
from storedesk.web.errors import error_text
from storedesk.web.i18n import _

TEMPLATES = Path(__file__).resolve().parent / "templates"
REVIEWS_CSS = Path(__file__).resolve().parent / "static" / "reviews.css"
env: Environment = templating.env.overlay(
    loader=ChoiceLoader([FileSystemLoader(str(TEMPLATES)), templating.env.loader])  # type: ignore[list-item]
)

PUBLIC_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def render_page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    """An agent-workspace page from our templates (they extend the workspace's ``app.html``)."""
    ctx = base_context(request)
    ctx.update(context)
    response = HTMLResponse(env.get_template(template).render(ctx), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    )
    if ctx.get("flash"):
        response.delete_cookie(FLASH_COOKIE, path="/app")
    return response


# --- the public survey page ------------------------------------------------------------------------------

public = APIRouter(include_in_schema=False)


def _negotiate(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    return texts.language_for(*(part.split(";")[0].strip() for part in header.split(",")))


def _public(request: Request, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    response = HTMLResponse(env.get_template("survey_page.html").render(context), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = PUBLIC_CSP
    return response


def _message(request: Request, lang: str, shop_name: str, key: str, status_code: int = 200) -> HTMLResponse:
    return _public(
        request,
        {
            "lang": lang,
            "title": texts.text(lang, "title"),
            "shop_name": shop_name,
            "state": key,
            "message": texts.text(lang, key),
        },
        status_code=status_code,
    )


async def _form(
    request: Request,
    session: Session,
    survey: Survey,
    token: str,
    *,
    selected: dict[str, int],
    comment: str = "",
    error: str | None = None,
) -> HTMLResponse:
    shop = await get_shop(session, survey.shop_id)
    lang = survey.language
    answered = await SurveyResponseRepository(session, survey.shop_id).for_survey(survey.id)
    open_kinds = service.open_questions(survey, list(answered))
    if not open_kinds:
        return _message(request, lang, shop.name, "already")
    questions = []
    for kind in open_kinds:
        lo, hi = SCALES[kind]
        questions.append(
            {
                "kind": kind.value,
                "question": texts.question(lang, kind, shop.name),
                "lo": lo,
                "hi": hi,
                "low_label": texts.text(lang, f"{kind.value}_low"),
                "high_label": texts.text(lang, f"{kind.value}_high"),
                "selected": selected.get(kind.value),
            }
        )
    return _public(
        request,
        {
            "lang": lang,
            "title": texts.text(lang, "title"),
            "shop_name": shop.name,
            "state": "form",
            "token": token,
            "survey_id": survey.id,
            "questions": questions,
            "comment_label": texts.text(lang, "comment"),
            "submit": texts.text(lang, "submit"),
            "comment": comment,
            "error": error,
        },
        status_code=422 if error else 200,
    )


@public.get("/s/{token}")
async def survey_page(request: Request, token: str, session: Session) -> Response:
    try:
        survey = await service.survey_by_token(session, token)
    except NotFound:
        return _message(request, _negotiate(request), "", "invalid", status_code=404)
    shop = await get_shop(session, survey.shop_id)
    if survey.expires_at <= utcnow():
        return _message(request, survey.language, shop.name, "expired", status_code=410)
    score = request.query_params.get("score", "")
    primary = SurveyKind(survey.kinds[0])
    lo, hi = SCALES[primary]
    selected = {primary.value: int(score)} if score.isdigit() and lo <= int(score) <= hi else {}
    return await _form(request, session, survey, token, selected=selected)


@public.post("/s/{token}")
async def survey_answer(request: Request, token: str, session: Session) -> Response:
    try:
        survey = await service.survey_by_token(session, token)
    except NotFound:
        return _message(request, _negotiate(request), "", "invalid", status_code=404)
    shop = await get_shop(session, survey.shop_id)
    form = await request.form()
    answers: dict[SurveyKind, int] = {}
    selected: dict[str, int] = {}
    for kind in SurveyKind:
        raw = form.get(kind.value)
        if isinstance(raw, str) and raw.strip().isdigit() and len(raw) <= 2:
            answers[kind] = selected[kind.value] = int(raw)
    raw_comment = form.get("comment")
    comment = raw_comment[:2000] if isinstance(raw_comment, str) else ""
    try:
        result = await service.answer(session, survey=survey, answers=answers, comment=comment, via="link")
    except service.SurveyExpired:
        return _message(request, survey.language, shop.name, "expired", status_code=410)
    except service.AlreadyAnswered:
        return _message(request, survey.language, shop.name, "already", status_code=409)
    except StoredeskError:
        await session.rollback()  # nothing of a refused answer is kept
        survey = await service.survey_by_token(session, token)
        return await _form(
            request,
            session,
            survey,
            token,
            selected=selected,
            comment=comment,
            error=texts.text(survey.language, "choose"),
        )
    low = any(service.is_low(SurveyKind(r.kind), r.score) for r in result.responses)
    return _message(request, survey.language, shop.name, "thanks_low" if low else "thanks")


# --- reviews in the agent workspace ----------------------------------------------------------------------

agent = APIRouter(prefix="/app", route_class=WebRoute, include_in_schema=False)


@agent.get("/reviews")
async def reviews_page(request: Request, ctx: Web, session: Session) -> Response:
    q = request.query_params
    negative, unanswered = q.get("negative") == "1", q.get("unanswered") == "1"
    cursor = q.get("cursor", "")
    rows = await ReviewRepository(session, ctx.shop_id).page(
        max_rating=review_service.NEGATIVE_MAX if negative else None,
        unanswered=unanswered,
        before_id=int(cursor) if cursor.isdigit() and len(cursor) < 19 else None,
        limit=51,
    )
    return render_page(
        request,
        "reviews.html",
        {
            "reviews": rows[:50],
            "next_cursor": rows[49].id if len(rows) > 50 else None,
            "negative": negative,
            "unanswered": unanswered,
        },
    )


async def _review_context(ctx: Any, session: Session, review_id: int) -> dict[str, Any]:
    review = await ReviewRepository(session, ctx.shop_id).get_or_404(review_id)
    cust = await views.customer_360(session, ctx.shop, review.customer_id) if review.customer_id else None
    order = await OrderRepository(session, ctx.shop_id).get(review.order_id) if review.order_id else None
    replied_by = (
        await AgentRepository(session, ctx.shop_id).get(review.replied_by_agent_id)
        if review.replied_by_agent_id
        else None
    )
    return {
        "review": review,
        "cust": cust,
        "dirs": await views.directory(session, ctx.shop_id),
        "order": order,
        "replied_by": replied_by,
    }


@agent.get("/reviews/reviews.css")
async def reviews_css() -> Response:
    return FileResponse(
        REVIEWS_CSS,
        media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


@agent.get("/reviews/{review_id}")
async def review_page(request: Request, ctx: Web, session: Session, review_id: int) -> Response:
    return render_page(request, "review.html", await _review_context(ctx, session, review_id))


@agent.post("/reviews/{review_id}/reply")
async def review_reply(
    request: Request,
    ctx: AgentWeb,
    session: Session,
    review_id: int,
    text: Annotated[str, Form(max_length=5000)] = "",
    message_customer: Annotated[str, Form(max_length=4)] = "",
) -> Response:
    await ReviewRepository(session, ctx.shop_id).get_or_404(review_id)
    try:
        await review_service.reply(
            session,
            shop_id=ctx.shop_id,
            actor=ctx.auth.actor,
            review_id=review_id,
            text=text,
            message_customer=message_customer == "1",
        )
    except StoredeskError as exc:
        await undo(session, ctx)
        context = await _review_context(ctx, session, review_id)
        return render_page(
            request, "review.html", {**context, "draft": text, "error": error_text(exc)}, status_code=422
        )
    return redirect(f"/app/reviews/{review_id}", flash=_("Reply sent."), request=request)


router = APIRouter()
router.include_router(public)
router.include_router(agent)
