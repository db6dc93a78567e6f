"""Fetching inbound media from Meta (run by the ``channels.fetch_media`` job, never inside a transaction).

* **WhatsApp** announces a media id. ``GET {graph}/{version}/{media-id}`` with the bearer token answers
  ``{"messaging_product": "whatsapp", "url", "mime_type", "sha256", "file_size", "id"}``; the ``url``
  (valid for 5 minutes) is then fetched with the same bearer token. ``sha256`` (base64 in webhooks,
  hex in some answers) is checked against the bytes.
* **Messenger / Instagram** put a CDN ``url`` in the webhook itself; it is fetched as it is.

Docs: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media#download-media
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping
from typing import Any

import httpx

from storedesk.channels.media import (
    MAX_MEDIA_BYTES,
    FetchedMedia,
    MediaPermanentError,
    MediaTemporaryError,
    register_fetcher,
)
from storedesk.channels.meta.graph import TEMPORARY_CODES, describe_error, graph_url

TIMEOUT = httpx.Timeout(30.0, connect=5.0)


def _digest_matches(expected: str, data: bytes) -> bool:
    digest = hashlib.sha256(data).digest()
    value = expected.strip()
    if len(value) == 64:
        try:
            return bytes.fromhex(value) == digest
        except ValueError:
            pass
    try:
        return base64.b64decode(value, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def _failure(provider: str, response: httpx.Response) -> Exception:
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    code, _, message = describe_error(body)
    detail = f"{provider} answered {response.status_code}: {message}" + (f" (code {code})" if code else "")
    if response.status_code in (408, 429) or response.status_code >= 500 or code in TEMPORARY_CODES:
        return MediaTemporaryError(detail)
    return MediaPermanentError(detail)


async def _download(
    client: httpx.AsyncClient, url: str, headers: Mapping[str, str], provider: str
) -> tuple[bytes, str | None]:
    if not url.startswith(("https://", "http://")):
        raise MediaPermanentError(f"{provider} gave no usable media URL")
    async with client.stream("GET", url, headers=dict(headers)) as response:
        if response.status_code >= 300:
            await response.aread()
            raise _failure(provider, response)
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_MEDIA_BYTES:
            raise MediaPermanentError(f"the file is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > MAX_MEDIA_BYTES:
                raise MediaPermanentError(f"the file is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
            chunks.append(chunk)
        return b"".join(chunks), response.headers.get("content-type")


class GraphMediaFetcher:
    """One fetcher for the three Meta channel kinds (``transport`` for tests with httpx.MockTransport)."""

    def __init__(self, provider: str, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.provider = provider
        self.transport = transport

    async def fetch(
        self, entry: Mapping[str, Any], *, settings: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> FetchedMedia:
        try:
            async with httpx.AsyncClient(timeout=TIMEOUT, transport=self.transport) as client:
                if entry.get("provider_media_id"):
                    return await self._by_media_id(client, entry, settings, credentials)
                url = str(entry.get("url") or "")
                data, content_type = await _download(client, url, {}, self.provider)
                return FetchedMedia(data, _type(content_type) or _kind_type(entry), None)
        except httpx.TimeoutException as exc:
            raise MediaTemporaryError(f"{self.provider} did not answer in time") from exc
        except httpx.TransportError as exc:
            raise MediaTemporaryError(f"{self.provider} could not be reached: {exc}") from exc

    async def _by_media_id(
        self,
        client: httpx.AsyncClient,
        entry: Mapping[str, Any],
        settings: Mapping[str, Any],
        credentials: Mapping[str, Any],
    ) -> FetchedMedia:
        token = str(credentials.get("access_token") or "")
        if not token:
            raise MediaPermanentError(f"the {self.provider} channel has no access_token in its credentials")
        auth = {"Authorization": f"Bearer {token}"}
        response = await client.get(graph_url(settings, str(entry["provider_media_id"])), headers=auth)
        if response.status_code >= 300:
            raise _failure(self.provider, response)
        try:
            info: Any = response.json()
        except ValueError as exc:
            raise MediaTemporaryError(f"{self.provider} answered with something that is not JSON") from exc
        if not isinstance(info, dict) or not info.get("url"):
            raise MediaPermanentError(f"{self.provider} did not say where the media is")
        size = str(info.get("file_size") or "")
        if size.isdigit() and int(size) > MAX_MEDIA_BYTES:
            raise MediaPermanentError(f"the file is larger than {MAX_MEDIA_BYTES // (1024 * 1024)} MB")
        data, served_type = await _download(client, str(info["url"]), auth, self.provider)
        expected = str(info.get("sha256") or entry.get("sha256") or "")
        if expected and not _digest_matches(expected, data):
            raise MediaPermanentError(f"the file from {self.provider} does not match its SHA-256")
        content_type = str(info.get("mime_type") or entry.get("content_type") or _type(served_type) or "")
        return FetchedMedia(data, content_type, entry.get("filename"))


def _type(header: str | None) -> str | None:
    return header.split(";")[0].strip().lower() if header else None


def _kind_type(entry: Mapping[str, Any]) -> str:
    return {"image": "image/jpeg", "audio": "audio/mpeg", "video": "video/mp4"}.get(
        str(entry.get("kind")), ""
    )


def register(transport: httpx.AsyncBaseTransport | None = None) -> None:
    register_fetcher("whatsapp", GraphMediaFetcher("WhatsApp", transport=transport))
    register_fetcher("messenger", GraphMediaFetcher("Messenger", transport=transport))
    register_fetcher("instagram", GraphMediaFetcher("Instagram", transport=transport))


register()
