"""Store commands. The main CLI mounts ``app`` without a group name, so these read as::

    storedesk connect shopify --shop demo --store-domain x.myshopify.com --token shpat_… --api-secret …
    storedesk connect woocommerce --shop demo --site-url https://shop.example --consumer-key ck_… --consumer-secret cs_…
    storedesk connect ecwid --shop demo --store-id 1003 --token secret_… --client-secret …
    storedesk stores --shop demo
    storedesk backfill 3            # runs here, with a progress bar; resumes where it stopped
    storedesk reconcile 3
    storedesk import-csv --shop demo --orders orders.csv --products products.csv --customers customers.csv

``--base-url http://127.0.0.1:PORT`` points a connection at a local test server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from storedesk.commerce.connectors.protocol import ConnectorError, Resource
from storedesk.config import Settings, get_settings
from storedesk.kit.actor import SYSTEM
from storedesk.kit.errors import StoredeskError

T = TypeVar("T")

app = typer.Typer(
    help="Connected stores: connect, backfill, import.", no_args_is_help=True, add_completion=False
)
connect_app = typer.Typer(help="Connect a store platform to a shop.", no_args_is_help=True)
app.add_typer(connect_app, name="connect")

console = Console(stderr=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


def _run(work: Callable[[Any, Settings], Awaitable[T]]) -> T:
    """Open the database, configure the credential box, run, dispose; errors become one clear line."""
    from storedesk.commerce.connectors import registry
    from storedesk.db.session import Database
    from storedesk.kit.crypto import SecretBox

    settings = get_settings()
    registry.configure(SecretBox(settings.secret_keys))

    async def go() -> T:
        db = Database(settings.resolved_database_url)
        try:
            return await work(db, settings)
        finally:
            await db.dispose()

    try:
        return asyncio.run(go())
    except StoredeskError as exc:
        detail = ""
        if isinstance(exc.details, dict) and exc.details.get("errors"):
            detail = "\n  " + "\n  ".join(str(e) for e in exc.details["errors"])
        _fail(exc.message + detail)
        raise
    except ConnectorError as exc:
        _fail(exc.message)
        raise


async def _shop_id(db: Any, slug: str) -> int:
    from storedesk.shops.service import get_shop_by_slug

    async with db.transaction() as session:
        shop = await get_shop_by_slug(session, slug)
        return int(shop.id)


def _connected(
    platform: str,
    shop: str,
    credentials: dict[str, Any],
    name: str | None,
    base_url: str | None,
    backfill: bool,
) -> None:
    from storedesk.commerce import service

    async def work(db: Any, settings: Settings) -> service.Connected:
        shop_id = await _shop_id(db, shop)
        return await service.connect_store(
            db,
            shop_id=shop_id,
            actor=SYSTEM,
            platform=platform,
            credentials=credentials,
            name=name,
            base_url=base_url,
            backfill=backfill,
            public_base_url=settings.base_url,
        )

    connected = _run(work)
    store = connected.store
    typer.echo(f"connected {platform} store {store.name} ({store.external_id}) as store {store.id}")
    typer.echo(f"  webhooks: {get_settings().base_url.rstrip('/')}{connected.webhook_path}")
    for warning in (store.sync_state or {}).get("warnings") or []:
        typer.secho(f"  warning: {warning}", fg=typer.colors.YELLOW)
    for key, value in connected.generated.items():
        typer.echo(f"  {key} (shown once; paste it into the platform's webhook settings): {value}")
    typer.echo(f"  webhook subscription queued; run it here with: storedesk register-webhooks {store.id}")
    if backfill:
        typer.echo(f"  backfill queued; run it here with: storedesk backfill {store.id}")


Shop = Annotated[str, typer.Option("--shop", help="the shop's slug")]
Name = Annotated[str | None, typer.Option(help="a name for the store in storedesk (default: the platform's)")]
BaseUrl = Annotated[
    str | None, typer.Option("--base-url", help="the platform's API address (local test servers)")
]
NoBackfill = Annotated[bool, typer.Option("--no-backfill", help="connect without copying the store")]


@connect_app.command("shopify")
def connect_shopify(
    shop: Shop,
    store_domain: Annotated[str, typer.Option("--store-domain", help="x.myshopify.com")],
    token: Annotated[str, typer.Option("--token", help="Admin API access token (shpat_…)")],
    api_secret: Annotated[
        str | None,
        typer.Option(
            "--api-secret", help="the app's client secret (signs webhooks; without it webhooks are refused)"
        ),
    ] = None,
    name: Name = None,
    base_url: BaseUrl = None,
    no_backfill: NoBackfill = False,
) -> None:
    """Connect a Shopify store (GraphQL Admin API)."""
    _connected(
        "shopify",
        shop,
        {
            "store_domain": store_domain,
            "access_token": token,
            **({"api_secret": api_secret} if api_secret else {}),
        },
        name,
        base_url,
        not no_backfill,
    )


@connect_app.command("woocommerce")
def connect_woocommerce(
    shop: Shop,
    site_url: Annotated[str, typer.Option("--site-url", help="https://shop.example")],
    consumer_key: Annotated[str, typer.Option("--consumer-key")],
    consumer_secret: Annotated[str, typer.Option("--consumer-secret")],
    webhook_secret: Annotated[str | None, typer.Option("--webhook-secret", help="default: generated")] = None,
    auth_mode: Annotated[str, typer.Option("--auth-mode", help="basic or query")] = "basic",
    name: Name = None,
    base_url: BaseUrl = None,
    no_backfill: NoBackfill = False,
) -> None:
    """Connect a WooCommerce store (REST API v3)."""
    if auth_mode not in ("basic", "query"):
        _fail("--auth-mode is basic or query")
    credentials = {
        "site_url": site_url,
        "consumer_key": consumer_key,
        "consumer_secret": consumer_secret,
        "auth_mode": auth_mode,
    }
    if webhook_secret:
        credentials["webhook_secret"] = webhook_secret
    _connected("woocommerce", shop, credentials, name, base_url, not no_backfill)


@connect_app.command("ecwid")
def connect_ecwid(
    shop: Shop,
    store_id: Annotated[str, typer.Option("--store-id", help="the numeric Ecwid store id")],
    token: Annotated[str, typer.Option("--token", help="the store's access token (secret_…)")],
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret", help="the app's client_secret (webhooks; without it they are refused)"
        ),
    ] = None,
    name: Name = None,
    base_url: BaseUrl = None,
    no_backfill: NoBackfill = False,
) -> None:
    """Connect an Ecwid / Lightspeed E-Series store (REST API v3)."""
    _connected(
        "ecwid",
        shop,
        {
            "store_id": store_id,
            "access_token": token,
            **({"client_secret": client_secret} if client_secret else {}),
        },
        name,
        base_url,
        not no_backfill,
    )


@app.command("stores")
def list_stores(shop: Shop) -> None:
    """List a shop's connected stores and their sync state."""
    from storedesk.commerce.repository import StoreRepository

    async def work(db: Any, settings: Settings) -> list[tuple[Any, ...]]:
        shop_id = await _shop_id(db, shop)
        async with db.transaction() as session:
            repo = StoreRepository(session, shop_id)
            rows = []
            for s in await repo.all():
                counts = await repo.counts(s.id)
                backfill = (s.sync_state or {}).get("backfill") or {}
                rows.append(
                    (
                        s.id,
                        s.platform,
                        s.name,
                        s.status,
                        backfill.get("status", "-"),
                        counts["orders"],
                        s.last_error or "",
                    )
                )
            return rows

    table = Table("id", "platform", "name", "status", "backfill", "orders", "last error")
    for row in _run(work):
        table.add_row(*[str(c) for c in row])
    Console().print(table)


class _Bar:
    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[Resource, TaskID] = {}

    def __call__(self, resource: Resource, done: int, total: int | None) -> None:
        if resource not in self.tasks:
            self.tasks[resource] = self.progress.add_task(resource.value, total=total)
        self.progress.update(self.tasks[resource], completed=done, total=total)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:>10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


@app.command("backfill")
def backfill(
    store_id: Annotated[int, typer.Argument(help="the store's id (storedesk stores --shop …)")],
    restart: Annotated[bool, typer.Option(help="start from the first page instead of resuming")] = False,
) -> None:
    """Copy a store into the mirror here, with a progress bar. Interrupted, it resumes from its last page."""
    from storedesk.commerce import sync
    from storedesk.commerce.models import Store

    async def work(db: Any, settings: Settings) -> sync.BackfillResult:
        async with db.transaction() as session:
            store = await session.get(Store, store_id)
            if store is None:
                _fail(f"there is no store {store_id}")
            assert store is not None
            state = dict(store.sync_state or {})
            if restart or not state.get("backfill"):
                state["backfill"] = sync.new_backfill_state("cli")
                store.sync_state = state
            elif state["backfill"].get("status") == "done":
                typer.echo(f"the backfill of store {store_id} is complete; --restart copies the store again")
        with _progress() as progress:
            return await sync.run_backfill(db, store_id=store_id, progress=_Bar(progress))

    result = _run(work)
    if result.status == "busy":
        _fail("another backfill of this store is running (a job or another terminal); try again later")
    if result.status in ("failed", "gone"):
        _fail(result.error or result.status)
    if result.status == "rate_limited":
        _fail(
            f"the platform is rate limiting; run it again in {int(result.retry_after or 60)} s (it resumes)"
        )
    done = result.progress
    summary = ", ".join(f"{k} {v.get('done', 0)}" for k, v in done.items() if v.get("done"))
    typer.echo(f"backfill of store {store_id} complete ({summary or 'nothing new'})")


@app.command("register-webhooks")
def register_webhooks(store_id: Annotated[int, typer.Argument()]) -> None:
    """Subscribe the platform's webhooks to this store's address under STOREDESK_BASE_URL (idempotent)."""
    from storedesk.commerce import service

    async def work(db: Any, settings: Settings) -> dict[str, Any]:
        from storedesk.commerce.repository import store_by_id_any_shop
        from storedesk.kit.errors import NotFound

        async with db.transaction() as session:
            store = await store_by_id_any_shop(session, store_id)
            if store is None:
                raise NotFound("store", store_id)
            shop_id = store.shop_id
        return await service.register_webhooks(
            db, shop_id=shop_id, actor=SYSTEM, store_id=store_id, public_base_url=settings.base_url
        )

    state = _run(work)
    typer.echo(f"webhooks of store {store_id}: {state['status']} → {state['callback_url']}")
    for topic in state.get("created") or []:
        typer.echo(f"  created  {topic}")
    for topic in state.get("existing") or []:
        typer.echo(f"  existing {topic}")
    for topic, message in (state.get("failed") or {}).items():
        typer.secho(f"  refused  {topic}: {message}", fg=typer.colors.YELLOW)
    if state.get("message"):
        typer.secho(f"  {state['message']}", fg=typer.colors.YELLOW)
    if state["status"] == "failed":
        raise typer.Exit(1)


@app.command("reconcile")
def reconcile(store_id: Annotated[int, typer.Argument()]) -> None:
    """Re-read the orders changed since the last reconciliation (catches missed webhooks)."""
    from storedesk.commerce import sync

    result = _run(lambda db, settings: sync.reconcile(db, store_id=store_id))
    if result.status == "failed":
        _fail(result.error or "failed")
    typer.echo(
        f"reconciliation of store {store_id}: {result.status}, {result.orders} orders read, {result.changed} changed"
    )


@app.command("import-csv")
def import_csv(
    shop: Shop,
    orders: Annotated[Path | None, typer.Option(help="orders .csv (one row per line item) or .json")] = None,
    products: Annotated[
        Path | None, typer.Option(help="products .csv (one row per variant) or .json")
    ] = None,
    customers: Annotated[Path | None, typer.Option(help="customers .csv or .json")] = None,
    currency: Annotated[
        str | None, typer.Option(help="for rows without a currency column (and product prices)")
    ] = None,
    name: Annotated[str, typer.Option(help="the store's name in storedesk")] = "Imported store",
    store: Annotated[int | None, typer.Option("--store", help="import into this import store again")] = None,
) -> None:
    """Import orders, products and customers from CSV or JSON files (any other platform)."""
    from storedesk.commerce import service
    from storedesk.commerce.connectors import csv_import

    if not (orders or products or customers):
        _fail("give --orders, --products and/or --customers")
    for path in (orders, products, customers):
        if path is not None and not path.is_file():
            _fail(f"no such file: {path}")
    try:
        data = csv_import.load_files(orders=orders, products=products, customers=customers, currency=currency)
    except csv_import.ImportFailed as exc:
        errors = (exc.details or {}).get("errors", [])
        _fail(exc.message + ("\n  " + "\n  ".join(errors) if errors else ""))
        raise

    async def work(db: Any, settings: Settings) -> int:
        shop_id = await _shop_id(db, shop)
        with _progress() as progress:
            return await service.import_records(
                db,
                shop_id=shop_id,
                actor=SYSTEM,
                data=data,
                name=name,
                store_id=store,
                progress=_Bar(progress),
            )

    store_id = _run(work)
    typer.echo(
        f"imported {len(data.orders)} orders, {len(data.products)} products, {len(data.customers)} customers "
        f"into store {store_id}"
    )
