"""Latency, load time and memory of the assistant's triage (language + intent + entities).

Run from the repository root:  .venv/bin/python bench/assistant_latency.py [--n 1000] [--cores 0]

Pins itself to one core (``--cores``), runs the encoder single-threaded, makes sure the model cache
exists (training it first if needed, reported separately), then measures in a fresh interpreter:
model load time, per-message triage latency over the held-out messages (wall clock, and the
thread's CPU time, which does not grow when other processes compete for the core), and resident memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, os, sys, time, resource
t0 = time.perf_counter()
from storedesk.assistant.nlu import get_pipeline
from storedesk.assistant.nlu.data import heldout_examples
pipe = get_pipeline()
load_s = time.perf_counter() - t0
texts = [e.text for e in heldout_examples()]
n = int(sys.argv[1])
for t in texts[:20]:
    pipe.triage(t)  # warm-up
lat = []
cpu = []
for i in range(n):
    t = texts[i % len(texts)]
    s = time.perf_counter()
    c = time.thread_time()
    r = pipe.triage(t)
    cpu.append((time.thread_time() - c) * 1000)
    lat.append((time.perf_counter() - s) * 1000)
lat.sort()
cpu.sort()
def q(p, xs=lat): return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))]
import psutil
rss = psutil.Process().memory_info().rss / 2**20
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
gate = pipe.bundle.intent_model.gate
enc_share = sum(1 for t in texts if pipe.intent_scores(t).used_encoder) / len(texts)
print(json.dumps({
    "load_seconds": round(load_s, 3), "n": n, "p50_ms": round(q(0.5), 2), "p95_ms": round(q(0.95), 2),
    "p99_ms": round(q(0.99), 2), "max_ms": round(lat[-1], 2), "mean_ms": round(sum(lat) / len(lat), 2),
    "cpu_p50_ms": round(q(0.5, cpu), 2), "cpu_p99_ms": round(q(0.99, cpu), 2),
    "load_average": os.getloadavg()[0],
    "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1), "encoder": pipe.encoder_status,
    "encoder_share": round(enc_share, 3), "gate": gate,
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=1000, help="messages to time")
    ap.add_argument("--cores", default="0", help="comma-separated CPU ids to pin to")
    ap.add_argument("--no-encoder", action="store_true", help="measure the n-gram model alone")
    args = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1", STOREDESK_ENCODER_THREADS="1")
    if args.no_encoder:
        env["STOREDESK_ASSISTANT_ENCODER"] = "none"
    cores = {int(c) for c in args.cores.split(",")}
    t = time.perf_counter()
    # make sure the cached model exists (training uses every core)
    subprocess.run(
        [sys.executable, "-c", "from storedesk.assistant.nlu import get_pipeline; get_pipeline()"],
        check=True,
        env=dict(
            env, OMP_NUM_THREADS=str(os.cpu_count() or 1), STOREDESK_ENCODER_THREADS=str(os.cpu_count() or 1)
        ),
    )
    prep = time.perf_counter() - t
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.n)],
        check=True,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cores),
    )
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["prepare_seconds"] = round(prep, 1)
    res["cores"] = sorted(cores)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
