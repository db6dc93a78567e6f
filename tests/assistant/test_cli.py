from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from storedesk.assistant.cli import app
from storedesk.assistant.nlu.intents import INTENTS

# one xdist worker loads (and on a fresh checkout trains) the model for all assistant tests
pytestmark = pytest.mark.xdist_group("assistant")

runner = CliRunner()


def test_intents_lists_taxonomy_with_definitions() -> None:
    res = runner.invoke(app, ["intents"])
    assert res.exit_code == 0
    lines = res.stdout.strip().splitlines()
    assert [ln.split()[0] for ln in lines] == list(INTENTS)
    assert len(INTENTS) == 23
    assert any(ln.startswith("refund_status") and "where a refund is" in ln for ln in lines)


def test_classify_json_lines() -> None:
    stdin = "\n".join(
        [
            json.dumps({"text": "Hvor er pakken min? Ordre 48213"}),
            "",
            json.dumps({"text": "Ich möchte meine Bestellung stornieren", "languages": ["de", "en"]}),
        ]
    )
    res = runner.invoke(app, ["classify"], input=stdin)
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.strip().splitlines()]
    assert len(rows) == 2
    assert set(rows[0]) == {"language", "intent", "confidence", "decision", "entities"}
    assert (rows[0]["language"], rows[0]["intent"]) == ("nb", "track_order")
    assert rows[0]["entities"] == {"order_number": "48213"}
    assert (rows[1]["language"], rows[1]["intent"]) == ("de", "cancel_order")


def test_classify_malformed_line_fails_cleanly() -> None:
    res = runner.invoke(app, ["classify"], input='{"text": "hello"}\n{not json\n')
    assert res.exit_code == 2
    assert "line 2" in res.stderr and "not valid JSON" in res.stderr
    assert "Traceback" not in res.output
    assert len(res.stdout.strip().splitlines()) == 1  # the good first line was answered


def test_classify_rejects_missing_text_and_bad_language() -> None:
    res = runner.invoke(app, ["classify"], input='{"message": "hi"}\n')
    assert res.exit_code == 2
    assert '"text"' in res.stderr
    res = runner.invoke(app, ["classify"], input='{"text": "hi", "languages": ["xx"]}\n')
    assert res.exit_code == 2
    assert "unsupported language" in res.stderr


def test_train_reports_cached_model() -> None:
    res = runner.invoke(app, ["train"])
    assert res.exit_code == 0, res.output
    assert "out-of-fold accuracy" in res.stdout
    assert "calibration:" in res.stdout


def test_eval_prints_heldout_report() -> None:
    res = runner.invoke(app, ["eval", "--errors", "2", "--limit", "20"])
    assert res.exit_code == 0, res.output
    out = res.stdout
    assert "Held-out set: accuracy per language" in out
    assert re.search(r"│ all\s+│\s+204 │", out)  # 20 rows per language (nl and it have 12)
    assert "intent accuracy" in out and "language-id accuracy" in out
    assert "'answer' precision" in out and "coverage" in out
    assert "model: n-gram TF-IDF" in out
