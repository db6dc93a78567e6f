"""Which adapter serves which platform, and building one for a connected store.

The composition root calls :func:`configure` with the secret box (credentials are decrypted here, in
jobs and in services that act on orders); tests may also pass an ``httpx`` transport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from storedesk.commerce.connectors.csv_import import CsvConnector
from storedesk.commerce.connectors.demo import DemoConnector
from storedesk.commerce.connectors.ecwid import EcwidConnector
from storedesk.commerce.connectors.protocol import Action, Connector
from storedesk.commerce.connectors.shopify import ShopifyConnector
from storedesk.commerce.connectors.woocommerce import WooCommerceConnector
from storedesk.commerce.models import Store
from storedesk.kit.crypto import SecretBox

log = logging.getLogger("storedesk.commerce.connectors")

Factory = Callable[[Mapping[str, Any], str | None, dict[str, Any]], Connector]


def _shopify(c: Mapping[str, Any], base_url: str | None, http: dict[str, Any]) -> Connector:
    return ShopifyConnector(
        store_domain=str(c["store_domain"]),
        access_token=str(c["access_token"]),
        api_secret=c.get("api_secret"),
        base_url=base_url,
        **({"api_version": c["api_version"]} if c.get("api_version") else {}),
        **http,
    )


def _woocommerce(c: Mapping[str, Any], base_url: str | None, http: dict[str, Any]) -> Connector:
    return WooCommerceConnector(
        site_url=str(c["site_url"]),
        consumer_key=str(c["consumer_key"]),
        consumer_secret=str(c["consumer_secret"]),
        webhook_secret=c.get("webhook_secret"),
        base_url=base_url,
        auth_mode=str(c.get("auth_mode") or "basic"),
        currency=str(c.get("currency") or "USD"),
        **http,
    )


def _ecwid(c: Mapping[str, Any], base_url: str | None, http: dict[str, Any]) -> Connector:
    return EcwidConnector(
        store_id=str(c["store_id"]),
        access_token=str(c["access_token"]),
        client_secret=c.get("client_secret"),
        base_url=base_url,
        currency=str(c.get("currency") or "USD"),
        **http,
    )


def _demo(c: Mapping[str, Any], base_url: str | None, http: dict[str, Any]) -> Connector:
    return DemoConnector(name=str(c.get("name") or "Demo store"))


def _csv(c: Mapping[str, Any], base_url: str | None, http: dict[str, Any]) -> Connector:
    return CsvConnector(name=str(c.get("name") or "Imported store"))


PLATFORMS: dict[str, Factory] = {
    "shopify": _shopify,
    "woocommerce": _woocommerce,
    "ecwid": _ecwid,
    "demo": _demo,
    "csv": _csv,
}

# platforms whose connection is made from the CLI or API with credentials
CONNECTABLE = ("shopify", "woocommerce", "ecwid")


class _Config:
    box: SecretBox | None = None
    transport: httpx.AsyncBaseTransport | None = None
    http_options: dict[str, Any] = {}


def configure(
    box: SecretBox | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    http_options: dict[str, Any] | None = None,
) -> None:
    """Called by the composition root (box) and by tests (transport, retry and wait options). Only what is
    given changes."""
    if box is not None:
        _Config.box = box
    if transport is not None:
        _Config.transport = transport
    if http_options is not None:
        _Config.http_options = dict(http_options)


def reset() -> None:
    _Config.box = None
    _Config.transport = None
    _Config.http_options = {}


def box(explicit: SecretBox | None = None) -> SecretBox:
    """The box given, else the configured one, else one built from the settings (the same
    ``STOREDESK_SECRET_KEY`` the app and the workers read) — so a worker whose composition root does not
    call :func:`configure` still decrypts the credentials the app encrypted."""
    chosen = explicit or _Config.box
    if chosen is None:
        from storedesk.config import get_settings

        log.warning("commerce registry not configured; using the secret keys from the settings")
        chosen = _Config.box = SecretBox(get_settings().secret_keys)
    return chosen


def build(
    platform: str,
    credentials: Mapping[str, Any],
    *,
    base_url: str | None = None,
    http_overrides: Mapping[str, Any] | None = None,
) -> Connector:
    """``http_overrides`` e.g. ``{"max_retries": 1}`` for a connection test that must answer quickly."""
    factory = PLATFORMS.get(platform)
    if factory is None:
        raise KeyError(f"unknown platform {platform!r}")
    http: dict[str, Any] = {**(http_overrides or {}), **_Config.http_options}
    if _Config.transport is not None and platform in CONNECTABLE:
        http["transport"] = _Config.transport
    return factory(credentials, base_url, http if platform in CONNECTABLE else {})


def credentials_of(store: Store, secret_box: SecretBox | None = None) -> dict[str, Any]:
    if not store.credentials_encrypted:
        return {}
    return box(secret_box).decrypt_json(store.credentials_encrypted)


def for_store(store: Store, secret_box: SecretBox | None = None) -> Connector:
    credentials = credentials_of(store, secret_box) if store.platform in CONNECTABLE else {"name": store.name}
    return build(
        store.platform, credentials, base_url=store.base_url if store.platform in CONNECTABLE else None
    )


ACTIONS: dict[str, frozenset[Action]] = {
    "shopify": ShopifyConnector.actions,
    "woocommerce": WooCommerceConnector.actions,
    "ecwid": EcwidConnector.actions,
    "demo": DemoConnector.actions,
    "csv": CsvConnector.actions,
}


def actions_for(platform: str) -> frozenset[Action]:
    """What a platform lets storedesk do with an order (no connector needed)."""
    return ACTIONS.get(platform, frozenset())
