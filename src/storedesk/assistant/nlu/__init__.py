"""Offline understanding layer of the assistant: language, intent (+ decision) and entities."""

from storedesk.assistant.nlu.entities import extract_entities
from storedesk.assistant.nlu.intents import INTENT_DEFS, INTENTS
from storedesk.assistant.nlu.pipeline import Pipeline, Triage, get_pipeline, reset_cache

__all__ = [
    "INTENTS",
    "INTENT_DEFS",
    "Pipeline",
    "Triage",
    "extract_entities",
    "get_pipeline",
    "reset_cache",
]
