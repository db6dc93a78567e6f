"""``storedesk assistant ...``: inspect, run, evaluate and train the offline NLU."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

app = typer.Typer(
    help="Offline assistant NLU: language, intent (with answer/suggest/handover decision) and entities.",
    no_args_is_help=True,
)

LanguagesOpt = Annotated[
    str | None,
    typer.Option(
        "--languages",
        "-l",
        help="Comma-separated shop languages (default: en,de,hu,nb,fr,sv,pl,es,da,nl,it).",
    ),
]
NoEncoderOpt = Annotated[
    bool, typer.Option("--no-encoder", help="Use the n-gram model alone (skip multilingual-e5-small).")
]


def _languages(value: str | None) -> list[str] | None:
    if not value:
        return None
    return [p.strip() for p in value.split(",") if p.strip()]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _bulk_threads() -> None:
    # training/evaluation embed thousands of texts: use every core unless told otherwise
    os.environ.setdefault("STOREDESK_ENCODER_THREADS", str(os.cpu_count() or 1))


@app.command()
def intents() -> None:
    """List the intent taxonomy with each intent's definition."""
    from storedesk.assistant.nlu.intents import INTENT_DEFS

    width = max(len(d.name) for d in INTENT_DEFS)
    for d in INTENT_DEFS:
        typer.echo(f"{d.name.ljust(width)}  {d.definition}")


@app.command()
def classify(
    languages: LanguagesOpt = None,
    no_encoder: NoEncoderOpt = False,
    alternatives: Annotated[bool, typer.Option(help="Include the runner-up intents.")] = False,
) -> None:
    """Classify JSON lines from stdin, one JSON result line per input.

    Input objects: "text", optional "languages", "catalogue", "order_pattern".
    Output objects: language, intent, confidence, decision, entities.
    """
    from storedesk.assistant.nlu import get_pipeline
    from storedesk.assistant.nlu.language import validate_languages

    default_langs = _languages(languages)
    try:
        validate_languages(default_langs)
    except ValueError as exc:
        raise _fail(f"error: {exc}") from None
    for n, raw in enumerate(sys.stdin, 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _fail(f"error: line {n}: not valid JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(row, dict) or not isinstance(row.get("text"), str):
            raise _fail(f'error: line {n}: expected a JSON object with a string "text" field')
        langs: Any = row.get("languages", default_langs)
        if langs is not None and (not isinstance(langs, list) or not all(isinstance(x, str) for x in langs)):
            raise _fail(f'error: line {n}: "languages" must be a list of language codes')
        catalogue = row.get("catalogue")
        if catalogue is not None and (
            not isinstance(catalogue, list) or not all(isinstance(x, str) for x in catalogue)
        ):
            raise _fail(f'error: line {n}: "catalogue" must be a list of product names')
        pattern = row.get("order_pattern")
        if pattern is not None and not isinstance(pattern, str):
            raise _fail(f'error: line {n}: "order_pattern" must be a string')
        try:
            pipe = get_pipeline(langs, use_encoder=not no_encoder)
        except ValueError as exc:
            raise _fail(f"error: line {n}: {exc}") from None
        try:
            t = pipe.triage(row["text"], catalogue=catalogue, order_pattern=pattern)
        except Exception as exc:  # e.g. an invalid order_pattern regex
            raise _fail(f"error: line {n}: {type(exc).__name__}: {exc}") from None
        out: dict[str, Any] = {
            "language": t.language,
            "intent": t.intent,
            "confidence": round(t.confidence, 4),
            "decision": t.decision,
            "entities": t.entities,
        }
        if alternatives:
            out["alternatives"] = [[a, round(p, 4)] for a, p in t.alternatives]
        typer.echo(json.dumps(out, ensure_ascii=False))


@app.command()
def train(
    no_encoder: NoEncoderOpt = False,
    with_bitext: Annotated[
        bool,
        typer.Option("--with-bitext", help="Add mapped English rows from ../shared/data Bitext if present."),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Retrain even if a cached model exists.")] = False,
) -> None:
    """Train (or load from cache) the NLU model and report how it was fitted."""
    from storedesk.assistant.nlu.bundle import bundle_path, cached_encoder, load_or_train
    from storedesk.assistant.nlu.encoder import load_default_encoder

    _bulk_threads()
    console = Console()
    encoder = None
    status = "encoder disabled (--no-encoder)"
    if not no_encoder:
        encoder, status = load_default_encoder(num_threads=int(os.environ["STOREDESK_ENCODER_THREADS"]))
    console.print(f"encoder: {status}")
    t0 = time.perf_counter()
    with console.status("training…") as spinner:
        bundle, trained = load_or_train(
            cached_encoder(encoder) if encoder is not None else None,
            with_bitext=with_bitext,
            retrain=force,
            progress=lambda m: spinner.update(m),
        )
    m = bundle.intent_model
    answerable = sum(1 for v in m.calibration.answer.values() if v != float("inf"))
    console.print(f"{'trained' if trained else 'loaded cached model'} in {time.perf_counter() - t0:.1f} s")
    console.print(f"model: {bundle_path(bundle.key)}")
    console.print(f"training rows: {bundle.n_train} (bitext: {'yes' if bundle.with_bitext else 'no'})")
    console.print(
        f"out-of-fold accuracy: ensemble {m.oof_accuracy:.3f}, n-gram head {m.oof_ngram_accuracy:.3f}; "
        f"blend weight (n-gram) {m.ensemble.weight:.2f}; encoder gate {m.gate:.3f}"
    )
    console.print(
        f"calibration: {answerable}/{len(m.calibration.answer)} intents can 'answer' at precision "
        f">= {m.calibration.target:.0%}; handover below {m.calibration.handover:.3f}"
    )


@app.command("eval")
def eval_cmd(
    languages: LanguagesOpt = None,
    no_encoder: NoEncoderOpt = False,
    public: Annotated[bool, typer.Option("--public", help="Also run CLINC150 and Banking77 (slow).")] = False,
    errors: Annotated[int, typer.Option(help="Show up to this many misclassified held-out rows.")] = 0,
    limit: Annotated[
        int | None, typer.Option(help="Quick check: only the first N held-out rows per language.")
    ] = None,
    scenarios: Annotated[
        bool,
        typer.Option(
            "--scenarios",
            help="Run the scripted conversations against a freshly seeded demo shop (temporary SQLite) "
            "instead of the NLU sets.",
        ),
    ] = False,
    only: Annotated[str | None, typer.Option(help="--scenarios: only ids containing this text.")] = None,
) -> None:
    """Evaluate on the held-out set, the smoke set and (with --public) CLINC150/Banking77.

    Prints accuracy per language and per intent, language-id accuracy,
    precision and coverage of 'answer' decisions. With --scenarios: wrong automated answers and the
    share of routine requests resolved with no agent (see docs/assistant.md).
    """
    if scenarios:
        _eval_scenarios(errors, only)
        return
    from storedesk.assistant.nlu import get_pipeline
    from storedesk.assistant.nlu.data import heldout_examples, smoke_examples
    from storedesk.assistant.nlu.eval import evaluate, public_sizes, run_banking77, run_clinc150

    _bulk_threads()
    console = Console()
    with console.status("loading model (training it if the cache is missing)…") as spinner:
        pipe = get_pipeline(_languages(languages), use_encoder=not no_encoder, progress=spinner.update)
    if pipe.uses_encoder:
        console.print(f"model: n-gram TF-IDF + {pipe.encoder_status}")
    else:
        console.print(f"[yellow]model: n-gram TF-IDF only — {pipe.encoder_status}[/yellow]")
    console.print(f"languages: {', '.join(pipe.languages)}")

    def run(examples: list[Any], label: str) -> Any:
        with _progress(console) as prog:
            task = prog.add_task(label, total=len(examples))
            return evaluate(pipe, examples, progress=lambda k: prog.advance(task, k))

    held = heldout_examples()
    if limit is not None:
        seen: dict[str, int] = {}
        kept = []
        for e in held:
            seen[e.language] = seen.get(e.language, 0) + 1
            if seen[e.language] <= limit:
                kept.append(e)
        held = kept
    rep = run(held, "held-out set")
    _report(console, "Held-out set", rep)
    for lang, intent, pred, text in rep.confusions[:errors]:
        console.print(f"  [{lang}] {intent} -> {pred}: {text}")

    smoke = smoke_examples()
    if smoke:
        srep = run(smoke, "multilingual smoke set")
        table = Table(title="Multilingual smoke set (Bitext labels mapped to our taxonomy)")
        table.add_column("language")
        table.add_column("n", justify="right")
        table.add_column("intent acc", justify="right")
        table.add_column("lang-id acc", justify="right")
        for lang, b in sorted(srep.per_language.items()):
            lid = srep.language_id.get(lang)
            table.add_row(lang, str(b.n), f"{b.accuracy:.3f}", f"{lid.accuracy:.3f}" if lid else "-")
        table.add_row("all", str(srep.n), f"{srep.accuracy:.3f}", f"{srep.language_id_accuracy:.3f}")
        console.print(table)
    else:
        console.print("multilingual smoke set: skipped (../shared/data not found)")

    if public:
        sizes = public_sizes()
        if not sizes:
            console.print("public anchors: skipped (../shared/data not found)")
        enc = pipe.encoder
        for name, runner in (("clinc150", run_clinc150), ("banking77", run_banking77)):
            if name not in sizes:
                continue
            with _progress(console) as prog:
                task = prog.add_task(f"{name}: embedding + training", total=sizes[name] if enc else None)
                res = runner(enc, lambda k, t=task: prog.advance(t, k))  # type: ignore[misc]
            if res is None:
                continue
            metrics = ", ".join(f"{k} {v:.4f}" for k, v in res.metrics.items())
            console.print(
                f"{res.name}: {metrics} (train {res.n_train}, test {res.n_test}, "
                f"{'n-gram + e5' if res.used_encoder else 'n-gram only'}, {res.seconds:.0f} s)"
            )


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def _report(console: Console, title: str, rep: Any) -> None:
    table = Table(title=f"{title}: accuracy per language")
    table.add_column("language")
    table.add_column("n", justify="right")
    table.add_column("intent acc", justify="right")
    table.add_column("lang-id acc", justify="right")
    for lang, b in sorted(rep.per_language.items()):
        lid = rep.language_id.get(lang)
        table.add_row(lang, str(b.n), f"{b.accuracy:.3f}", f"{lid.accuracy:.3f}" if lid else "-")
    table.add_row("all", str(rep.n), f"{rep.accuracy:.3f}", f"{rep.language_id_accuracy:.3f}")
    console.print(table)
    t2 = Table(title=f"{title}: accuracy per intent")
    t2.add_column("intent")
    t2.add_column("n", justify="right")
    t2.add_column("acc", justify="right")
    for intent, b in sorted(rep.per_intent.items()):
        t2.add_row(intent, str(b.n), f"{b.accuracy:.3f}")
    console.print(t2)
    console.print(
        f"intent accuracy {rep.accuracy:.4f} | language-id accuracy {rep.language_id_accuracy:.4f} | "
        f"'answer' precision {rep.answer_precision:.4f} at coverage {rep.answer_coverage:.4f} | "
        f"suggest {rep.suggest_share:.4f} | handover {rep.handover_share:.4f} | "
        f"encoder used on {rep.encoder_share:.2%}"
    )


@app.command("export-corrections")
def export_corrections(
    shop: Annotated[str | None, typer.Option(help="Only this shop (slug); default: every shop.")] = None,
    out: Annotated[
        str | None,
        typer.Option(
            help="Output JSONL file; default $STOREDESK_DATA_DIR/corrections.jsonl (read by train)."
        ),
    ] = None,
) -> None:
    """Write agents' intent corrections as training rows; the next `train` includes them."""
    import asyncio
    from pathlib import Path

    from sqlalchemy import select

    from storedesk.assistant.nlu.bundle import corrections_file
    from storedesk.assistant.service import corrections
    from storedesk.config import get_settings
    from storedesk.db.session import Database
    from storedesk.shops.models import Shop

    async def collect() -> list[dict[str, Any]]:
        db = Database(get_settings().resolved_database_url)
        try:
            async with db.transaction() as session:
                stmt = select(Shop.id).order_by(Shop.id)
                if shop:
                    stmt = stmt.where(Shop.slug == shop)
                ids = list((await session.execute(stmt)).scalars())
                if shop and not ids:
                    raise _fail(f"error: no shop {shop!r}")
                rows: list[dict[str, Any]] = []
                for shop_id in ids:
                    rows += await corrections(session, shop_id=shop_id)
                return rows
        finally:
            await db.dispose()

    rows = asyncio.run(collect())
    path = Path(out) if out else corrections_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    typer.echo(f"{len(rows)} correction(s) written to {path}; run `storedesk assistant train` to use them")


def _eval_scenarios(errors: int, only: str | None) -> None:
    import asyncio
    import tempfile
    from pathlib import Path

    from storedesk.assistant.scenarios import runner
    from storedesk.assistant.service import warm
    from storedesk.db.migrate import upgrade
    from storedesk.db.session import Database
    from storedesk.demo.seed import seed_demo

    console = Console()
    rows = [r for r in runner.load() if not only or only in r["id"]]
    tmp = Path(tempfile.mkdtemp(prefix="storedesk-scenarios-"))
    url = f"sqlite+aiosqlite:///{tmp / 'scenarios.db'}"
    with console.status("migrating and seeding the demo shop…"):
        upgrade(url)
        warm()

    async def go() -> runner.Report:
        db = Database(url)
        try:
            await seed_demo(db, seed=1, box_secrets=["scenario-suite"], progress=False, force=False)
            with _progress(console) as prog:
                task = prog.add_task("scenarios", total=len(rows))
                return await runner.run(
                    db, rows, progress=lambda done, total: prog.update(task, completed=done)
                )
        finally:
            await db.dispose()

    t0 = time.perf_counter()
    report = asyncio.run(go())
    summary = report.summary()
    table = Table(
        title=f"scenario suite: {summary['scenarios']} conversations, {summary['messages']} messages"
    )
    for col in ("language", "scenarios", "automated", "wrong", "routine", "resolved w/o agent"):
        table.add_column(col, justify="right")
    for lang, row in summary["by_language"].items():
        table.add_row(
            lang,
            *(str(row[k]) for k in ("scenarios", "automated", "wrong", "routine")),
            f"{row['resolved_without_agent']} ({row['resolved_without_agent'] / max(1, row['routine']):.0%})",
        )
    console.print(table)
    exp = Table(title="per expected step")
    for col in ("expected", "n", "correct", "automated", "wrong"):
        exp.add_column(col, justify="right")
    for key, row in sorted(runner.by_expectation(report).items()):
        exp.add_row(key, *(str(row[k]) for k in ("n", "correct", "automated", "wrong")))
    console.print(exp)
    console.print(
        f"wrong automated answers/actions: {summary['wrong_automated']} of {summary['automated']} "
        f"({summary['wrong_rate']:.2%}; target <= 1%)"
    )
    console.print(
        f"routine requests resolved with no agent: {summary['resolved_without_agent']} of {summary['routine']} "
        f"({summary['automation_rate']:.1%}; target >= 70%)"
    )
    console.print(
        f"hand-overs where expected: {summary['handover_correct']} of {summary['handover_expected']}; "
        f"outcomes: {summary['outcomes']}; {time.perf_counter() - t0:.0f} s"
    )
    console.print(
        f"customer message -> assistant reply (ingest, job, reply, delivery): p50 {summary['seconds_p50']:.2f} s, "
        f"p95 {summary['seconds_p95']:.2f} s"
    )
    shown = 0
    for r in report.results:
        for t in r.turns:
            if shown < errors and not t.correct:
                shown += 1
                console.print(
                    f"[red]{t.scenario}[/red] expected {t.expect}, got {t.outcome}/{t.template} "
                    f"(intent {t.intent}): {t.text!r} -> {t.problem}"
                )
