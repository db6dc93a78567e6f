"""Evaluation: held-out accuracy, language id, decision quality, the multilingual smoke set, and the
public anchors (CLINC150 with out-of-scope detection, Banking77)."""

from __future__ import annotations

import csv
import json
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from storedesk.assistant.nlu.bundle import cached_encoder
from storedesk.assistant.nlu.data import Example, shared_data_dir
from storedesk.assistant.nlu.encoder import Encoder
from storedesk.assistant.nlu.model import EnsembleClassifier, geometric_blend
from storedesk.assistant.nlu.pipeline import Pipeline

Progress = Callable[[int], None]


@dataclass
class Breakdown:
    n: int = 0
    correct: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0


@dataclass
class HeldoutReport:
    n: int
    accuracy: float
    per_language: dict[str, Breakdown]
    per_intent: dict[str, Breakdown]
    language_id: dict[str, Breakdown]
    language_id_accuracy: float
    answer_precision: float
    answer_coverage: float
    suggest_share: float
    handover_share: float
    encoder_share: float
    confusions: list[tuple[str, str, str, str]] = field(default_factory=list)


def evaluate(
    pipe: Pipeline, examples: Sequence[Example], progress: Progress | None = None, chunk: int = 64
) -> HeldoutReport:
    per_lang: dict[str, Breakdown] = defaultdict(Breakdown)
    per_intent: dict[str, Breakdown] = defaultdict(Breakdown)
    lang_id: dict[str, Breakdown] = defaultdict(Breakdown)
    answers = answers_ok = suggests = handovers = used_enc = 0
    correct = 0
    confusions: list[tuple[str, str, str, str]] = []
    cal = pipe.bundle.intent_model.calibration
    for start in range(0, len(examples), chunk):
        part = examples[start : start + chunk]
        scores = pipe.intent_scores_batch([e.text for e in part])
        for e, s in zip(part, scores, strict=True):
            guess = pipe.language_id.detect(e.text)
            ok = s.intent == e.intent
            correct += ok
            per_lang[e.language].n += 1
            per_lang[e.language].correct += ok
            per_intent[e.intent].n += 1
            per_intent[e.intent].correct += ok
            if e.language in pipe.languages:
                lang_id[e.language].n += 1
                lang_id[e.language].correct += guess.language == e.language
            used_enc += s.used_encoder
            # decisions use the gold language so intent calibration is measured on its own
            decision = cal.decide(s.intent, e.language, s.confidence)
            if decision == "answer":
                answers += 1
                answers_ok += ok
            elif decision == "suggest":
                suggests += 1
            else:
                handovers += 1
            if not ok:
                confusions.append((e.language, e.intent, s.intent, e.text))
        if progress is not None:
            progress(len(part))
    n = len(examples)
    lid_n = sum(b.n for b in lang_id.values())
    return HeldoutReport(
        n=n,
        accuracy=correct / n if n else 0.0,
        per_language=dict(per_lang),
        per_intent=dict(per_intent),
        language_id=dict(lang_id),
        language_id_accuracy=sum(b.correct for b in lang_id.values()) / lid_n if lid_n else 0.0,
        answer_precision=answers_ok / answers if answers else 0.0,
        answer_coverage=answers / n if n else 0.0,
        suggest_share=suggests / n if n else 0.0,
        handover_share=handovers / n if n else 0.0,
        encoder_share=used_enc / n if n else 0.0,
        confusions=confusions,
    )


# --- public anchors --------------------------------------------------------------------------------


@dataclass
class PublicResult:
    name: str
    metrics: dict[str, float]
    n_train: int
    n_test: int
    used_encoder: bool
    seconds: float


def _embed(encoder: Encoder | None, texts: Sequence[str], progress: Progress | None) -> np.ndarray | None:
    if encoder is None:
        return None
    enc = cached_encoder(encoder)
    return enc.encode(list(texts), progress=progress).astype(np.float64)


def _select_heads(
    texts: Sequence[str],
    labels: Sequence[str],
    emb: np.ndarray | None,
    val_texts: Sequence[str],
    val_labels: Sequence[str],
    val_emb: np.ndarray | None,
) -> tuple[float, float]:
    """Encoder-head C and blend weight with the best accuracy on a validation split."""
    if emb is None or val_emb is None:
        return 10.0, 1.0
    gold = np.array(val_labels)
    best = (-1.0, 10.0, 0.5)
    base = EnsembleClassifier().fit(texts, labels, emb)
    p1 = base.ngram_proba(val_texts)
    for c in (10.0, 50.0, 200.0):
        m = base if c == base.encoder_c else EnsembleClassifier(encoder_c=c).fit(texts, labels, emb)
        p2 = m.encoder_proba(val_emb)
        for w in np.linspace(0.2, 0.8, 13):
            pb = geometric_blend(p1, p2, float(w))
            acc = float((np.array(m.classes)[pb.argmax(1)] == gold).mean())
            best = max(best, (acc, c, float(w)))
    return best[1], best[2]


def public_sizes() -> dict[str, int]:
    """Texts each public anchor embeds (for progress bars); empty when the data is absent."""
    out: dict[str, int] = {}
    root = shared_data_dir()
    if root is None:
        return out
    clinc = root / "intents" / "clinc150" / "data_full.json"
    if clinc.is_file():
        data = json.loads(clinc.read_text(encoding="utf-8"))
        out["clinc150"] = sum(len(data[k]) for k in ("train", "val", "test", "oos_val", "oos_test"))
    bank = root / "intents" / "banking77"
    if (bank / "train.csv").is_file():
        with (
            (bank / "train.csv").open(encoding="utf-8") as f1,
            (bank / "test.csv").open(encoding="utf-8") as f2,
        ):
            out["banking77"] = sum(1 for _ in f1) + sum(1 for _ in f2) - 2
    return out


def oos_threshold(pred: np.ndarray, conf: np.ndarray, gold: np.ndarray, *, min_recall: float = 0.55) -> float:
    """The out-of-scope confidence threshold chosen on validation rows (gold ``"oos"`` = out of scope):
    the best in-scope accuracy among thresholds whose OOS recall is >= ``min_recall`` (else the best sum
    of the two)."""
    ins = gold != "oos"
    feasible: list[tuple[float, float]] = []
    balanced: list[tuple[float, float]] = []
    for thr in np.linspace(0.0, 0.95, 96):
        lab = np.where(conf >= thr, pred, "oos")
        acc_in = float((lab[ins] == gold[ins]).mean())
        rec = float((lab[~ins] == "oos").mean())
        balanced.append((acc_in + rec, float(thr)))
        if rec >= min_recall:
            feasible.append((acc_in, -float(thr)))
    return -max(feasible)[1] if feasible else max(balanced)[1]


def run_clinc150(encoder: Encoder | None, progress: Progress | None = None) -> PublicResult | None:
    """Train on CLINC150 ``train`` (150 in-scope intents), pick the out-of-scope confidence threshold
    on ``val`` + ``oos_val``, report in-scope accuracy and OOS recall on ``test`` + ``oos_test``."""
    root = shared_data_dir()
    path = None if root is None else root / "intents" / "clinc150" / "data_full.json"
    if path is None or not path.is_file():
        return None
    t0 = time.perf_counter()
    data = json.loads(path.read_text(encoding="utf-8"))
    tr, va, te = data["train"], data["val"], data["test"]
    ova, ote = data["oos_val"], data["oos_test"]
    e_tr = _embed(encoder, [t for t, _ in tr], progress)
    e_va = _embed(encoder, [t for t, _ in va] + [t for t, _ in ova], progress)
    e_te = _embed(encoder, [t for t, _ in te] + [t for t, _ in ote], progress)
    va_rows, te_rows = va + ova, te + ote
    va_gold = np.array([lab for _, lab in va_rows])
    va_texts = [t for t, _ in va_rows]
    # encoder-head C and blend weight are chosen on the in-scope val rows; the OOS threshold gives
    # the best val in-scope accuracy among thresholds with val OOS recall >= 55%
    c, w = _select_heads(
        [t for t, _ in tr],
        [lab for _, lab in tr],
        e_tr,
        [t for t, _ in va],
        [lab for _, lab in va],
        None if e_va is None else e_va[: len(va)],
    )
    model = EnsembleClassifier(encoder_c=c, weight=w).fit([t for t, _ in tr], [lab for _, lab in tr], e_tr)
    classes = np.array(model.classes)
    p1_va = model.ngram_proba(va_texts)
    p2_va = model.encoder_proba(e_va) if e_va is not None and model.has_encoder else None
    pv = geometric_blend(p1_va, p2_va, model.weight)
    va_pred, va_conf = classes[pv.argmax(1)], pv.max(1)

    def scores(rows: list[list[str]], emb: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        p = model.proba([t for t, _ in rows], emb)
        return classes[p.argmax(1)], p.max(1)

    thr = oos_threshold(va_pred, va_conf, va_gold)
    te_pred, te_conf = scores(te_rows, e_te)
    te_gold = np.array([lab for _, lab in te_rows])
    ins = te_gold != "oos"
    raw_acc = float((te_pred[ins] == te_gold[ins]).mean())
    pred = np.where(te_conf >= thr, te_pred, "oos")
    return PublicResult(
        name="CLINC150",
        metrics={
            "in_scope_accuracy": float((pred[ins] == te_gold[ins]).mean()),
            "oos_recall": float((pred[~ins] == "oos").mean()),
            "in_scope_accuracy_no_threshold": raw_acc,
            "threshold": thr,
            "blend_weight_ngram": model.weight,
            "encoder_c": model.encoder_c,
        },
        n_train=len(tr),
        n_test=len(te_rows),
        used_encoder=e_tr is not None,
        seconds=time.perf_counter() - t0,
    )


def run_banking77(encoder: Encoder | None, progress: Progress | None = None) -> PublicResult | None:
    root = shared_data_dir()
    folder = None if root is None else root / "intents" / "banking77"
    if folder is None or not (folder / "train.csv").is_file():
        return None
    t0 = time.perf_counter()

    def read(name: str) -> list[tuple[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as f:
            return [(r["text"], r["category"]) for r in csv.DictReader(f)]

    tr, te = read("train.csv"), read("test.csv")
    e_tr = _embed(encoder, [t for t, _ in tr], progress)
    e_te = _embed(encoder, [t for t, _ in te], progress)
    # no official val split: choose C and the blend weight on 10% of train, then refit on all of it
    rng = np.random.default_rng(0)
    is_val = rng.random(len(tr)) < 0.1
    fit_idx, val_idx = np.nonzero(~is_val)[0], np.nonzero(is_val)[0]
    c, w = _select_heads(
        [tr[i][0] for i in fit_idx],
        [tr[i][1] for i in fit_idx],
        None if e_tr is None else e_tr[fit_idx],
        [tr[i][0] for i in val_idx],
        [tr[i][1] for i in val_idx],
        None if e_tr is None else e_tr[val_idx],
    )
    model = EnsembleClassifier(encoder_c=c, weight=w).fit([t for t, _ in tr], [lab for _, lab in tr], e_tr)
    p = model.proba([t for t, _ in te], e_te)
    pred = np.array(model.classes)[p.argmax(1)]
    acc = float((pred == np.array([lab for _, lab in te])).mean())
    metrics = {"accuracy": acc, "blend_weight_ngram": model.weight, "encoder_c": model.encoder_c}
    if e_te is not None:
        p1 = model.ngram_proba([t for t, _ in te])
        metrics["ngram_only_accuracy"] = float(
            (np.array(model.classes)[p1.argmax(1)] == np.array([lab for _, lab in te])).mean()
        )
    return PublicResult(
        name="Banking77",
        metrics=metrics,
        n_train=len(tr),
        n_test=len(te),
        used_encoder=e_tr is not None,
        seconds=time.perf_counter() - t0,
    )
