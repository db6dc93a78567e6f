"""Parse the shared mail corpus N times; report messages/s and the corpus expectation pass rate.

    .venv/bin/python bench/email_parse.py [--rounds 20]

Reads ../shared/data/mail (relative to the repository root).  The first round is reported separately: it runs
with cold caches (module import, the header-parse memo).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from storedesk.channels.email.parser import parse_email  # noqa: E402


def _corpus_check() -> object:
    path = REPO / "tests" / "channels" / "email" / "email_corpus_check.py"
    spec = importlib.util.spec_from_file_location("email_corpus_check", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["email_corpus_check"] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    check = _corpus_check()
    if not check.corpus_available():  # type: ignore[attr-defined]
        print(f"corpus not found at {check.CORPUS}", file=sys.stderr)  # type: ignore[attr-defined]
        return 1
    files = check.mail_files()  # type: ignore[attr-defined]
    raws = [path.read_bytes() for path in files]
    total_bytes = sum(len(raw) for raw in raws)

    timings: list[float] = []
    for _ in range(max(1, args.rounds)):
        start = time.perf_counter()
        for raw in raws:
            parse_email(raw)
        timings.append(time.perf_counter() - start)
    cold, warm = timings[0], timings[1:] or timings
    median = statistics.median(warm)

    rate, failures = check.pass_rate()  # type: ignore[attr-defined]
    deviations = check.KNOWN_DEVIATIONS  # type: ignore[attr-defined]
    unexpected = [f for f in failures if (f.file, f.check) not in deviations]

    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    print(f"corpus: {len(raws)} files, {total_bytes / 1024:.0f} KiB")
    print(f"first round (cold): {len(raws) / cold:,.0f} messages/s")
    print(
        f"steady state: {len(raws) / median:,.0f} messages/s, {total_bytes / median / 1e6:.1f} MB/s "
        f"(median of {len(warm)} rounds)"
    )
    print(
        f"expectations: {rate.checks_passed}/{rate.checks_total} checks pass ({rate.check_rate:.1%}), "
        f"{rate.records_passed}/{rate.records_total} records fully ({rate.record_rate:.1%}); "
        f"{len(deviations)} documented deviations, {len(unexpected)} unexpected failures"
    )
    for failure in unexpected:
        print(f"  UNEXPECTED {failure.file} {failure.check}: {failure.detail[:200]}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
