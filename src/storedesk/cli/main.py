"""The ``storedesk`` command. Commands parse arguments, open one transaction and call one service."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from storedesk.config import Settings, get_settings
from storedesk.kit.errors import StoredeskError

T = TypeVar("T")

app = typer.Typer(
    help="storedesk: self-hosted customer service for online shops.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
jobs_app = typer.Typer(help="Background jobs: inspect and replay.", no_args_is_help=True)
shop_app = typer.Typer(help="Shops (tenants) and their agents.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")
app.add_typer(jobs_app, name="jobs")
app.add_typer(shop_app, name="shop")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


def run(coro_fn: Callable[[], Awaitable[T]]) -> T:
    """Run async work; domain errors become a clear message and exit code 1, never a traceback."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

    where = get_settings().resolved_database_url.split("@")[-1]
    try:
        return asyncio.run(coro_fn())  # type: ignore[arg-type]
    except StoredeskError as exc:
        fail(exc.message)
    except (OperationalError, InterfaceError, OSError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        fail(f"cannot reach the database at {where}: {reason}")
    except DBAPIError as exc:
        fail(f"the database refused the operation: {str(exc.orig).strip().splitlines()[0]}")
    raise AssertionError("unreachable")


def _database(settings: Settings) -> Any:
    from storedesk.db.session import Database

    return Database(settings.resolved_database_url)


def _ensure_data_dir(settings: Settings) -> None:
    if settings.resolved_database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply migrations (SQLite or PostgreSQL, from STOREDESK_DATABASE_URL)."""
    from storedesk.db.migrate import upgrade

    settings = get_settings()
    _ensure_data_dir(settings)
    try:
        upgrade(settings.resolved_database_url, revision)
    except Exception as exc:  # alembic and driver errors: say what failed, no traceback
        fail(f"migration failed: {exc}")
    typer.echo(f"database at {revision}")


@db_app.command("current")
def db_current() -> None:
    """Print the applied migration revision."""
    from storedesk.db.migrate import current_revision

    settings = get_settings()

    async def go() -> str | None:
        db = _database(settings)
        try:
            return await current_revision(db.engine)
        finally:
            await db.dispose()

    typer.echo(run(go) or "none")


@app.command("seed-demo")
def seed_demo(
    seed: Annotated[int, typer.Option(help="random seed: the same seed gives the same shop")] = 42,
    force: Annotated[
        bool, typer.Option(help="seed even if the demo shop exists (adds nothing twice)")
    ] = False,
) -> None:
    """Create the demo shop with products, customers, orders and conversations."""
    from storedesk.demo.seed import seed_demo as do_seed

    settings = get_settings()

    async def go() -> dict[str, Any]:
        db = _database(settings)
        try:
            return await do_seed(db, seed=seed, box_secrets=settings.secret_keys, progress=True, force=force)
        finally:
            await db.dispose()

    summary = run(go)
    for key, value in summary.items():
        typer.echo(f"{key}: {value}")


def _serve(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    uvicorn.run(
        "storedesk.api.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level,
        access_log=settings.access_log,
        proxy_headers=True,
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default STOREDESK_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default STOREDESK_PORT or 8000")] = None,
    workers: Annotated[
        int, typer.Option(help="API processes (stateless; use PostgreSQL for more than 1)")
    ] = 1,
) -> None:
    """Serve the API and UI (runs jobs in-process unless STOREDESK_JOBS_MODE=external)."""
    settings = get_settings()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        fail("several API processes need PostgreSQL (set STOREDESK_DATABASE_URL)")
    _serve(settings, host or settings.host, port or settings.port, workers)


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, max=64)] = 4,
    burst: Annotated[bool, typer.Option(help="run until the queue is empty, then exit")] = False,
) -> None:
    """Run background jobs (production shape: any number of workers against one PostgreSQL)."""
    from storedesk.api.app import configure_adapters
    from storedesk.jobs.runner import JobRunner, listen_for_jobs

    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )

    async def go() -> int:
        db = _database(settings)
        configure_adapters(settings, db)
        from storedesk.assistant.service import warm_if_used

        # the assistant's models, in the background, when a shop uses the assistant
        warm = asyncio.create_task(warm_if_used(db))
        runner = JobRunner(db, concurrency=concurrency, poll_interval=0.5)
        try:
            if burst:
                return await runner.drain()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, runner.stop)
            listener = asyncio.create_task(listen_for_jobs(db.url)) if db.kind == "postgresql" else None
            try:
                await runner.run_forever()
            finally:
                if listener is not None:
                    listener.cancel()
            return 0
        finally:
            if not warm.done():
                warm.cancel()
            await db.dispose()

    ran = run(go)
    if burst:
        typer.echo(f"ran {ran} jobs")


@app.command()
def demo(
    port: Annotated[int | None, typer.Option(help="default PORT or STOREDESK_PORT or 8000")] = None,
    seed: int = 42,
) -> None:
    """Migrate, seed the demo shop if the database is empty, print the login and serve."""
    from storedesk.db.migrate import upgrade
    from storedesk.demo.seed import DEMO_ADMIN_EMAIL, DEMO_PASSWORD
    from storedesk.demo.seed import seed_demo as do_seed

    settings = get_settings()
    port = port or int(os.environ.get("PORT", settings.port))
    _ensure_data_dir(settings)
    upgrade(settings.resolved_database_url)

    async def go() -> dict[str, Any]:
        db = _database(settings)
        try:
            return await do_seed(db, seed=seed, box_secrets=settings.secret_keys, progress=True, force=False)
        finally:
            await db.dispose()

    summary = run(go)
    base = f"http://127.0.0.1:{port}"
    typer.echo("")
    typer.secho("storedesk demo is starting", bold=True)
    typer.echo(f"  data:      {settings.data_dir.resolve()}")
    typer.echo(f"  shop:      demo ({summary.get('status', 'ready')})")
    typer.echo(f"  open:      {base}/app")
    typer.echo(f"  API docs:  {base}/docs")
    typer.echo(f"  login:     {DEMO_ADMIN_EMAIL} / {DEMO_PASSWORD}")
    typer.echo(
        f"  API login: curl -s -X POST {base}/api/v1/auth/login -H 'content-type: application/json' "
        f'-d \'{{"email": "{DEMO_ADMIN_EMAIL}", "password": "{DEMO_PASSWORD}"}}\''
    )
    typer.echo("")
    _serve(settings, "127.0.0.1", port)


@token_app.command("create")
def token_create(
    shop: Annotated[str, typer.Option(help="shop slug")],
    email: Annotated[str, typer.Option(help="the agent the token acts as")],
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    days: Annotated[int | None, typer.Option(help="expire after this many days")] = None,
) -> None:
    """Create an API token and print it (send it as 'Authorization: Bearer <token>')."""
    from datetime import timedelta

    from storedesk.agents.repository import AgentRepository
    from storedesk.agents.service import create_api_token
    from storedesk.shops.service import get_shop_by_slug

    settings = get_settings()

    async def go() -> str:
        db = _database(settings)
        try:
            async with db.transaction() as session:
                shop_row = await get_shop_by_slug(session, shop)
                agent = await AgentRepository(session, shop_row.id).by_email(email)
                if agent is None:
                    fail(f"shop {shop} has no agent {email}")
                    raise AssertionError
                _, secret = await create_api_token(
                    session, agent=agent, name=name, ttl=timedelta(days=days) if days else None
                )
                return secret
        finally:
            await db.dispose()

    typer.echo(run(go))


@shop_app.command("create")
def shop_create(
    slug: str,
    name: Annotated[str, typer.Option()],
    admin_email: Annotated[str, typer.Option()],
    admin_password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
    languages: Annotated[str, typer.Option(help="comma-separated")] = "en",
    currency: str = "EUR",
    timezone: str = "UTC",
    country: str | None = None,
) -> None:
    """Create a shop (tenant) and its first admin."""
    from storedesk.agents.models import Role
    from storedesk.agents.service import create_agent
    from storedesk.kit.actor import SYSTEM
    from storedesk.shops.service import create_shop

    settings = get_settings()
    langs = [lang.strip() for lang in languages.split(",") if lang.strip()]

    async def go() -> int:
        db = _database(settings)
        try:
            async with db.transaction() as session:
                shop = await create_shop(
                    session,
                    slug=slug,
                    name=name,
                    languages=langs,
                    default_language=langs[0] if langs else "en",
                    currency=currency,
                    timezone=timezone,
                    country=country,
                )
                await create_agent(
                    session,
                    shop_id=shop.id,
                    email=admin_email,
                    name=admin_email.split("@")[0],
                    role=Role.admin,
                    password=admin_password,
                    actor=SYSTEM,
                )
                return shop.id
        finally:
            await db.dispose()

    typer.echo(f"shop {slug} created (id {run(go)})")


@jobs_app.command("list")
def jobs_list(
    status: Annotated[str | None, typer.Option(help="queued, running, done or dead")] = None,
    limit: int = 50,
) -> None:
    """List recent jobs."""
    from storedesk.jobs.models import JobStatus
    from storedesk.jobs.service import list_jobs

    settings = get_settings()
    if status is not None and status not in JobStatus.__members__:
        fail(f"unknown status {status!r}; use one of {', '.join(JobStatus)}")

    async def go() -> list[str]:
        db = _database(settings)
        try:
            async with db.transaction() as session:
                rows = await list_jobs(
                    session, shop_id=None, status=JobStatus(status) if status else None, limit=limit
                )
                return [
                    f"{j.id}\t{j.name}\t{j.status}\tattempts={j.attempts}/{j.max_attempts}\t{j.last_error or ''}"
                    for j in rows
                ]
        finally:
            await db.dispose()

    for line in run(go):
        typer.echo(line)


@jobs_app.command("retry")
def jobs_retry(
    job_id: Annotated[int | None, typer.Argument(help="a dead job's id")] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="retry every dead job")] = False,
) -> None:
    """Put dead jobs back in the queue."""
    from storedesk.jobs.service import retry, retry_all_dead

    if (job_id is None) == (not all_dead):
        fail("give a job id or --all-dead")
    settings = get_settings()

    async def go() -> int:
        db = _database(settings)
        try:
            async with db.transaction() as session:
                if all_dead:
                    return await retry_all_dead(session)
                assert job_id is not None
                await retry(session, job_id, shop_id=None)
                return 1
        finally:
            await db.dispose()

    typer.echo(f"{run(go)} job(s) queued again")


def _mount_subcommands() -> None:
    """Sub-commands owned by other domains."""
    from storedesk.assistant.cli import app as assistant_app
    from storedesk.channels.email.cli import app as email_app
    from storedesk.commerce.cli import app as commerce_app

    app.add_typer(email_app, name="email", help="Email: parse a message file.")
    app.add_typer(assistant_app, name="assistant")
    # store commands sit at the top level: storedesk connect shopify …, storedesk backfill …
    app.registered_commands.extend(commerce_app.registered_commands)
    app.registered_groups.extend(commerce_app.registered_groups)


_mount_subcommands()


def main() -> None:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 2000))
    app()


if __name__ == "__main__":
    main()
