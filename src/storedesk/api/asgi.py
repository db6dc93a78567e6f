"""ASGI entry point for uvicorn (``storedesk serve``): ``storedesk.api.asgi:app``."""

from storedesk.api.app import create_app

app = create_app()
