"""Training the NLU models from the shipped data and caching the fitted bundle on disk."""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import sklearn

from storedesk.assistant.nlu.data import (
    PACKAGE_DATA,
    Example,
    bitext_examples,
    data_dir,
    embeddings_dir,
    fingerprint,
    load_jsonl,
    models_dir,
    train_examples,
)
from storedesk.assistant.nlu.encoder import CachedEncoder, Encoder
from storedesk.assistant.nlu.language import CharLanguageModel, fit_language_model
from storedesk.assistant.nlu.model import IntentModel, fit_intent_model

# bump when the model code changes in a way that invalidates cached bundles
MODEL_VERSION = "nlu-11"
ENCODER_SEED = PACKAGE_DATA / "encoder_seed.npz"


@dataclass
class NluBundle:
    intent_model: IntentModel
    language_model: CharLanguageModel | None
    key: str
    encoder_name: str | None
    n_train: int
    train_seconds: float
    with_bitext: bool


def cache_key(examples: Sequence[Example], encoder_name: str | None, with_bitext: bool) -> str:
    h = hashlib.sha256()
    for part in (
        MODEL_VERSION,
        sklearn.__version__,
        np.__version__,
        encoder_name or "no-encoder",
        "bitext" if with_bitext else "",
        fingerprint(examples),
    ):
        h.update(part.encode())
        h.update(b"\x00")
    return h.hexdigest()[:20]


def bundle_path(key: str, directory: Path | None = None) -> Path:
    return (directory or models_dir()) / f"nlu-{key}.joblib"


def cached_encoder(encoder: Encoder) -> CachedEncoder:
    if isinstance(encoder, CachedEncoder):
        return encoder
    seeds = [ENCODER_SEED] if ENCODER_SEED.is_file() else []
    return CachedEncoder(encoder, embeddings_dir() / _safe(encoder.name), seed_files=seeds)


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)


def corrections_file() -> Path:
    """Agents' intent corrections, written by ``storedesk assistant export-corrections``."""
    return data_dir() / "corrections.jsonl"


def correction_examples() -> list[Example]:
    path = corrections_file()
    return load_jsonl(path) if path.is_file() else []


def training_set(with_bitext: bool) -> list[Example]:
    """The shipped training rows, agents' exported corrections (if any), and optionally Bitext."""
    examples = train_examples() + correction_examples()
    if with_bitext:
        examples += bitext_examples()
    return examples


def train_bundle(
    examples: Sequence[Example],
    encoder: Encoder | None,
    *,
    with_bitext: bool = False,
    progress: Callable[[str], None] | None = None,
) -> NluBundle:
    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    texts = [e.text for e in examples]
    embeddings = None
    enc_name = None
    if encoder is not None:
        enc = cached_encoder(encoder)
        missing = enc.missing_count(texts)
        say(f"embedding {len(texts)} texts ({missing} not cached) with {enc.name}")
        embeddings = enc.encode(texts).astype(np.float64)
        enc_name = enc.name
    model = fit_intent_model(
        texts,
        [e.intent for e in examples],
        [e.language for e in examples],
        [e.group for e in examples],
        embeddings,
        encoder_name=enc_name,
        progress=say,
    )
    say("fitting the language model")
    langs = [e.language for e in examples]
    lang_model = (
        fit_language_model(texts, langs, [e.group for e in examples]) if len(set(langs)) > 1 else None
    )
    return NluBundle(
        intent_model=model,
        language_model=lang_model,
        key=cache_key(examples, enc_name, with_bitext),
        encoder_name=enc_name,
        n_train=len(examples),
        train_seconds=time.perf_counter() - t0,
        with_bitext=with_bitext,
    )


def save_bundle(bundle: NluBundle, directory: Path | None = None) -> Path:
    path = bundle_path(bundle.key, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    joblib.dump(bundle, tmp, compress=3)
    os.replace(tmp, path)
    _prune(path.parent, keep=path)
    return path


def _prune(directory: Path, keep: Path, max_files: int = 3) -> None:
    """Remove all but the newest ``max_files`` cached bundles (each retrain gets a new key)."""
    try:
        files = sorted(directory.glob("nlu-*.joblib"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[max_files:]:
            if old != keep:
                old.unlink(missing_ok=True)
    except OSError:
        pass


def load_bundle(path: Path) -> NluBundle | None:
    try:
        obj = joblib.load(path)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, ValueError):
        return None
    return obj if isinstance(obj, NluBundle) else None


def load_or_train(
    encoder: Encoder | None,
    *,
    with_bitext: bool = False,
    retrain: bool = False,
    directory: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[NluBundle, bool]:
    """The cached bundle for the current data/code/encoder, training it first if needed.

    Returns ``(bundle, trained_now)``."""
    examples = training_set(with_bitext)
    enc_name = encoder.name if encoder is not None else None
    key = cache_key(examples, enc_name, with_bitext)
    path = bundle_path(key, directory)
    if not retrain and path.is_file():
        bundle = load_bundle(path)
        if bundle is not None and bundle.key == key:
            return bundle, False
    bundle = train_bundle(examples, encoder, with_bitext=with_bitext, progress=progress)
    try:
        save_bundle(bundle, directory)
    except OSError:
        pass  # read-only data dir: keep the in-memory model
    return bundle, True
