from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorType = Literal["agent", "customer", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: written into every event so the timeline and audit log can say so."""

    type: ActorType
    id: int | None = None


SYSTEM = Actor("system")
ASSISTANT = Actor("assistant")
