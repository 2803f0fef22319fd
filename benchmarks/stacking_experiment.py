"""Stacking experiment: U-Net on [cleaned signal, HMM posteriors] vs the quality.py baselines.

    python benchmarks/stacking_experiment.py [--form proba|log] [--epochs 60] [--seed 0]
        [--crossfit [--loro]] [--train-samples N] [--test-samples N]
        [--cache features.npz] [--out result.json]

An experiment, not a library feature: results and conclusions are in docs/benchmarks.md.

Stage 1 (cached): fit the quality.py HMM pipeline (cleaning + HMMClassifier) on train, then
the cleaned signal and HMM predict_proba (per recording, via groups) on train and test.
Train posteriors are in-sample (the HMM has ~11 means/vars + 11x11 transitions).
Stage 2: SequenceUNetClassifier(**UNET_PARAMS, epochs=..., random_state=0) on
[signal, 11 posterior columns] (float32), scored with quality.py's _scores.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import sklearn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import _scores

from skion import SequenceUNetClassifier
from skion.datasets import REGIMES, make_ion_switching, oracle_proba
from skion.pipelines import UNET_PARAMS, make_baseline_pipelines


def log(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def fmt(name, s):
    regs = " ".join(f"{r}={s[r]:.4f}" for r in REGIMES if r in s)
    return f"{name}: macro={s['macro']:.4f} {regs}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--form", choices=["proba", "log"], default="proba")
    p.add_argument("--epochs", type=int, default=UNET_PARAMS["epochs"])
    p.add_argument("--train-samples", type=int, default=1_000_000)
    p.add_argument("--test-samples", type=int, default=500_000)
    p.add_argument("--cache", type=Path, default=None, help="reuse stage-1 features")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--loro",
        action="store_true",
        help="with --crossfit: leave-one-recording-out folds instead of halves",
    )
    p.add_argument(
        "--crossfit",
        action="store_true",
        help="train posteriors out-of-fold: 2 HMM fits on regime-balanced halves",
    )
    a = p.parse_args()
    started = time.perf_counter()

    X, y, groups, _ = make_ion_switching(a.train_samples, random_state=0, return_model=True)
    X_test, y_test, groups_test, recordings = make_ion_switching(
        a.test_samples, random_state=1, return_model=True
    )
    log(f"data: train {len(y):,}, test {len(y_test):,}")
    results = {}
    results["oracle"] = _scores(y_test, np.argmax(oracle_proba(X_test, recordings), 1), recordings)
    log(fmt("oracle", results["oracle"]))

    if a.cache is not None and a.cache.exists():
        c = np.load(a.cache)
        sig, P, sig_t, P_t = c["sig"], c["P"], c["sig_t"], c["P_t"]
        hmm_classes = c["classes"]
        log(f"loaded cached features {a.cache}")
    else:
        with sklearn.config_context(enable_metadata_routing=True):
            hmm_pipe = make_baseline_pipelines(random_state=0)["HMMClassifier"]
            tic = time.perf_counter()
            hmm_pipe.fit(X, y, groups=groups)
            log(f"HMM pipeline fit {time.perf_counter() - tic:.0f} s")
            clean, hmm = hmm_pipe[0], hmm_pipe[-1]
            tic = time.perf_counter()
            sig = clean.transform(X, groups=groups)
            sig_t = clean.transform(X_test, groups=groups_test)
            P = hmm.predict_proba(sig, groups=groups)
            P_t = hmm.predict_proba(sig_t, groups=groups_test)
            hmm_classes = hmm.classes_
            if a.crossfit:
                # folds with one recording of every regime each (train recordings: 1_slow,
                # 1_slow, 1_fast, 3, 10, 5, 1_fast, 3, 5, 10)
                fold_a = np.isin(groups, [0, 2, 3, 4, 5])
                P_in = P
                P = np.empty_like(P_in)
                folds = [groups != r for r in np.unique(groups)] if a.loro else [~fold_a, fold_a]
                for fit_rows in folds:
                    h = make_baseline_pipelines(random_state=0)["HMMClassifier"][-1]
                    h.fit(sig[fit_rows], y[fit_rows], groups=groups[fit_rows])
                    assert np.array_equal(h.classes_, hmm_classes)
                    P[~fit_rows] = h.predict_proba(sig[~fit_rows], groups=groups[~fit_rows])
                log(
                    f"cross-fit: mean |P_oof - P_in| {np.abs(P - P_in).mean():.5f}, "
                    f"argmax agreement {np.mean(P.argmax(1) == P_in.argmax(1)):.5f}, "
                    f"oof train macro "
                    f"{_scores(y, hmm_classes[P.argmax(1)], [])['macro']:.4f}"
                )
            log(f"clean + posteriors {time.perf_counter() - tic:.0f} s; sig shape {sig.shape}")
            # sanity: same predictions as the pipeline's own predict
            y_hmm_pipe = hmm_pipe.predict(X_test, groups=groups_test)
        log(
            f"pipeline predict == argmax(proba): "
            f"{np.mean(y_hmm_pipe == hmm_classes[P_t.argmax(1)]):.6f}"
        )
        if a.cache is not None:
            np.savez(a.cache, sig=sig, P=P, sig_t=sig_t, P_t=P_t, classes=hmm_classes)
    results["hmm"] = _scores(y_test, hmm_classes[P_t.argmax(1)], recordings)
    log(fmt("HMM (argmax posterior)", results["hmm"]))
    train_macro = _scores(y, hmm_classes[P.argmax(1)], [])["macro"]
    log(
        f"HMM train posteriors (in-sample, or out-of-fold with --crossfit): macro={train_macro:.4f}"
    )

    def feats(s, q):
        q = np.log(q + 1e-6) if a.form == "log" else q
        return np.hstack([s, q]).astype(np.float32)

    F, F_t = feats(sig, P), feats(sig_t, P_t)
    del P, sig
    log(f"features {F.shape} {F.dtype}, form={a.form}")

    params = {**UNET_PARAMS, "epochs": a.epochs}
    unet = SequenceUNetClassifier(**params, random_state=a.seed, verbose=2)
    tic = time.perf_counter()
    unet.fit(F, y, groups=groups)
    fit_s = time.perf_counter() - tic
    log(f"U-Net fit {fit_s:.0f} s ({unet.n_epochs_} epochs)")
    tic = time.perf_counter()
    y_pred = unet.predict(F_t, groups=groups_test)
    pred_s = time.perf_counter() - tic
    results["stack"] = _scores(y_test, y_pred, recordings)
    log(fmt(f"stacked U-Net ({a.form}, {a.epochs} ep)", results["stack"]))
    unet.set_params(tta_flip=False)
    results["stack_notta"] = _scores(y_test, unet.predict(F_t, groups=groups_test), recordings)
    log(fmt("stacked U-Net tta_flip=False", results["stack_notta"]))
    results["meta"] = {
        "form": a.form,
        "epochs": a.epochs,
        "fit_s": fit_s,
        "predict_s": pred_s,
        "total_s": time.perf_counter() - started,
        "val_macro_f1": unet.history_.get("val_macro_f1", [])[-5:],
    }
    results["meta"]["crossfit"] = a.crossfit
    cf = ("_crossfit" + ("_loro" if a.loro else "")) if a.crossfit else ""
    results["meta"]["loro"] = a.loro
    results["meta"]["seed"] = a.seed
    cf += f"_seed{a.seed}" if a.seed else ""
    text = json.dumps(results, indent=1, default=float)
    if a.out is not None:
        a.out.write_text(text)
    print(text)
    log(f"done ({a.form}{cf}), total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
