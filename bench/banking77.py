"""BANKING77 benchmark for the ticket classifier; prints JSON.

    python bench/banking77.py --data /work/shared/data/banking77 [--shots-seeds 3] [--no-embeddings]
        [--variants tfidf_svm,tfidf_plus_finetuned] [--torch-threads 1] [--few-shot-finetune]
        [--no-mpnet] [--dense-shares 0.5,0.67,0.8]

Holds out a stratified 20 % of ``train.csv`` (seed 0) as the dev split and compares, in one run:
TF-IDF word+char n-grams with a calibrated linear SVM (the torch-free default), frozen
all-MiniLM-L6-v2 embeddings + logistic regression, both feature sets together, an ensemble of the
last two, frozen all-mpnet-base-v2 + LR, the ``ensemble`` feature set (TF-IDF SVM plus one
logistic regression per frozen encoder, probabilities blended), and TF-IDF blended with MiniLM
fine-tuned end to end (``features="finetuned"``, trained
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
from paytriage.engines.classifier.encoder import DEFAULT_ENCODER, SentenceEncoder
from paytriage.engines.classifier.packaged import PACKAGED_MODELS

MPNET = "all-mpnet-base-v2"

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

    def __init__(self, table: dict[str, NDArray[np.float32]], name: str = "all-MiniLM-L6-v2") -> None:
        self.table = table
        self.name = name

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
    mpnet: CachedEncoder | None = None
    # per encoder: train-split and dev-split encoding (wall, CPU) seconds and size on disk
    costs: dict[str, dict[str, float]] = {}

    def encode_all(name: str) -> CachedEncoder:
        encoder = SentenceEncoder(name, threads=args.torch_threads)
        t, c = time.perf_counter(), time.process_time()
        encoder.encode(x_tr[:8])  # loads (and on first use unpacks) the model outside the timing
        load_s = time.perf_counter() - t
        t, c = time.perf_counter(), time.process_time()
        e_tr = encoder.encode(x_tr)
        tr_s, tr_cpu = time.perf_counter() - t, time.process_time() - c
        t, c = time.perf_counter(), time.process_time()
        e_dev = encoder.encode(x_dev)
        dev_s, dev_cpu = time.perf_counter() - t, time.process_time() - c
        size = _dir_mb(PACKAGED_MODELS[name].path())
        costs[name] = {"train_s": tr_s, "train_cpu": tr_cpu, "dev_s": dev_s, "dev_cpu": dev_cpu, "mb": size}
        result["encoders"][name] = {
            "load_s": round(load_s, 1),
            "encode_train_s": round(tr_s, 1),
            "encode_train_cpu_s": round(tr_cpu, 1),
            "encode_queries_per_s": round(len(x_dev) / dev_s, 1),
            "encode_queries_per_cpu_s": round(len(x_dev) / dev_cpu, 1),
            "torch_threads": args.torch_threads or "default",
            "size_mb": size,
        }
        print(f"[bench] encoder {name}: {result['encoders'][name]}", file=sys.stderr)
        table = dict(zip(x_tr, e_tr, strict=True)) | dict(zip(x_dev, e_dev, strict=True))
        return CachedEncoder(table, name)

    result["encoders"] = {}
    if use_dense:
        cached = encode_all(DEFAULT_ENCODER)
        if not args.no_mpnet and embeddings_available(MPNET):
            mpnet = encode_all(MPNET)
    else:
        result["encoders"] = "skipped (paytriage[embeddings] not installed or --no-embeddings)"

    def cost(names: Sequence[str], key: str) -> float:
        return sum(costs[n][key] for n in names)

    def variants(few_shot: bool = False) -> dict[str, tuple[Callable[[], Any], tuple[str, ...]]]:
        """name -> (factory, encoders whose cached embeddings it uses)."""
        out: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
            "tfidf_svm": (lambda: TicketClassifier(), ())
        }
        if use_dense and (not few_shot or args.few_shot_finetune):
            out["tfidf_plus_finetuned"] = (lambda: TicketClassifier(features="finetuned"), ())
        if cached is not None:
            c = cached
            mini = (DEFAULT_ENCODER,)
            out["minilm_frozen_lr"] = (lambda: EmbeddingLR(c), mini)
            out["tfidf_plus_minilm_svm"] = (lambda: TicketClassifier(features="combined", encoder=c), mini)
            out["ensemble_combined_and_lr"] = (
                lambda: Ensemble([TicketClassifier(features="combined", encoder=c), EmbeddingLR(c)]),
                mini,
            )
            out["ensemble_tfidf_minilm"] = (
                lambda: TicketClassifier(features="ensemble", ensemble_encoders=[c], dense_share=0.5),
                mini,
            )
        if cached is not None and mpnet is not None:
            c, m = cached, mpnet
            both = (DEFAULT_ENCODER, MPNET)
            out["mpnet_frozen_lr"] = (lambda: EmbeddingLR(m), (MPNET,))

            def ensemble(share: float) -> Callable[[], Any]:
                return lambda: TicketClassifier(
                    features="ensemble", ensemble_encoders=[c, m], dense_share=share
                )

            for share in args.dense_shares:
                out[f"ensemble_tfidf_minilm_mpnet_{share:g}"] = (ensemble(share), both)
        return {k: v for k, v in out.items() if not args.variants or k in args.variants.split(",")}

    for name, (make, dense) in variants().items():
        print(f"[bench] {name} full data", file=sys.stderr)
        with peak_rss() as mem:
            t, c = time.perf_counter(), time.process_time()
            model = make().fit(x_tr, y_tr)
            train_s = time.perf_counter() - t + cost(dense, "train_s")
            train_cpu = time.process_time() - c + cost(dense, "train_cpu")
            t, c = time.perf_counter(), time.process_time()
            pred = _predict(model, x_dev)
            pred_s = time.perf_counter() - t + cost(dense, "dev_s")
            pred_cpu = time.process_time() - c + cost(dense, "dev_cpu")
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
                model.encoder = DEFAULT_ENCODER
                model.ensemble_encoders = ",".join(dense) or DEFAULT_ENCODER
                save_model(model, Path(tmp), texts=x_tr, labels=y_tr)
                base = cost(dense or ((DEFAULT_ENCODER,) if model.features == "finetuned" else ()), "mb")
                row["model_size_mb"] = round(_dir_mb(Path(tmp)) + base, 2)
        else:
            row["model_size_mb"] = f"~{cost(dense, 'mb')} (encoder) + LR"
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
    parser.add_argument("--no-mpnet", action="store_true", help="skip the all-mpnet-base-v2 encoder")
    parser.add_argument(
        "--dense-shares",
        type=lambda v: [float(x) for x in v.split(",")],
        default=[0.8],
        help="encoders' share(s) of the ensemble blend to compare, e.g. 0.5,0.67,0.8",
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
