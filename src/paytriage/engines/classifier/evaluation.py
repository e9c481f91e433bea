"""Stratified cross-validation of the classifier and its reports (confusion matrix PNG and HTML).

Out-of-fold probabilities give honest per-class precision/recall/F1, the confusion matrix and
the accuracy-versus-coverage curve that sets the abstain threshold: a team picks how many
tickets may go to a person for the accuracy it needs on the rest.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.base import clone
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold

from paytriage.domain.errors import InputError
from paytriage.engines.classifier.model import TicketClassifier

__all__ = [
    "ClassScore",
    "CoveragePoint",
    "EvaluationReport",
    "coverage_curve",
    "cross_validate",
    "score_predictions",
    "threshold_for_accuracy",
    "write_confusion_png",
    "write_report_html",
]

FoldProgress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class ClassScore:
    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, slots=True)
class CoveragePoint:
    """Keeping tickets with confidence ≥ ``threshold`` covers ``coverage`` at ``accuracy``."""

    threshold: float
    coverage: float
    accuracy: float


@dataclass(slots=True)
class EvaluationReport:
    accuracy: float
    macro_f1: float
    n: int
    folds: int
    labels: list[str]
    per_class: list[ClassScore]
    confusion: list[list[int]]
    coverage: list[CoveragePoint] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Headline figures stored in the model manifest."""
        return {
            "accuracy": round(self.accuracy, 4),
            "macro_f1": round(self.macro_f1, 4),
            "n": self.n,
            "folds": self.folds,
            "coverage": [
                {"threshold": p.threshold, "coverage": round(p.coverage, 4), "accuracy": round(p.accuracy, 4)}
                for p in self.coverage
            ],
        }


def coverage_curve(
    y_true: Sequence[str], predicted: Sequence[str], confidence: Sequence[float], *, steps: int = 10
) -> list[CoveragePoint]:
    """Accuracy on the tickets kept at thresholds 0, 1/steps, …, (steps-1)/steps."""
    truth = np.asarray(y_true, dtype=object)
    pred = np.asarray(predicted, dtype=object)
    conf = np.asarray(confidence, dtype=float)
    points = []
    for i in range(steps):
        t = i / steps
        keep = conf >= t
        kept = int(keep.sum())
        acc = float((truth[keep] == pred[keep]).mean()) if kept else 1.0
        points.append(CoveragePoint(threshold=round(t, 3), coverage=kept / len(truth), accuracy=acc))
    return points


def threshold_for_accuracy(points: Sequence[CoveragePoint], target: float) -> CoveragePoint | None:
    """Lowest threshold whose kept tickets reach ``target`` accuracy (most coverage), if any."""
    for p in sorted(points, key=lambda p: p.threshold):
        if p.accuracy >= target and p.coverage > 0:
            return p
    return None


def score_predictions(
    y_true: Sequence[str], proba: NDArray[np.float64], classes: Sequence[str], *, folds: int = 0
) -> EvaluationReport:
    """Metrics from probabilities whose columns follow ``classes``."""
    cls = np.asarray(classes, dtype=object)
    pred = cls[proba.argmax(axis=1)]
    conf = proba.max(axis=1)
    labels = sorted({str(c) for c in cls} | {str(t) for t in y_true})
    p, r, f, s = precision_recall_fscore_support(y_true, pred, labels=labels, zero_division=0)
    per_class = [
        ClassScore(lab, float(pi), float(ri), float(fi), int(si))
        for lab, pi, ri, fi, si in zip(labels, p, r, f, s, strict=True)
    ]
    present = [c for c in per_class if c.support > 0]
    return EvaluationReport(
        accuracy=float((pred == np.asarray(y_true, dtype=object)).mean()),
        macro_f1=float(np.mean([c.f1 for c in present])) if present else 0.0,
        n=len(y_true),
        folds=folds,
        labels=labels,
        per_class=per_class,
        confusion=confusion_matrix(y_true, pred, labels=labels).tolist(),
        coverage=coverage_curve(y_true, pred, conf),
    )


def cross_validate(
    estimator: TicketClassifier,
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    random_state: int = 0,
    progress: FoldProgress | None = None,
) -> EvaluationReport:
    """Stratified k-fold; every text is scored by a model that never saw it."""
    counts = Counter(labels)
    smallest = min(counts.values()) if counts else 0
    if smallest < 2:
        rare = sorted(k for k, v in counts.items() if v < 2)[:5]
        raise InputError(f"every label needs at least 2 examples for cross-validation; too few: {rare}")
    k = min(folds, smallest)
    x = np.asarray(texts, dtype=object)
    y = np.asarray(labels, dtype=object)
    classes = sorted(counts)
    oof = np.zeros((len(x), len(classes)))
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=random_state)
    for i, (tr, te) in enumerate(splitter.split(x, y)):
        model = clone(estimator).fit(list(x[tr]), list(y[tr]))
        cols = [classes.index(str(c)) for c in model.classes_]
        oof[np.ix_(te, cols)] = model.predict_proba(list(x[te]))
        if progress is not None:
            progress(i + 1, k)
    return score_predictions(list(y), oof, classes, folds=k)


def write_confusion_png(report: EvaluationReport, path: Path) -> None:
    """Row-normalised confusion matrix as an image (matplotlib, no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(report.confusion, dtype=float)
    rows = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    n = len(report.labels)
    size = max(6.0, 0.18 * n + 3)
    fig, ax = plt.subplots(figsize=(size, size))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n), report.labels, rotation=90, fontsize=max(4, 10 - n // 12))
    ax.set_yticks(range(n), report.labels, fontsize=max(4, 10 - n // 12))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f} ({report.folds}-fold CV)")
    fig.colorbar(im, ax=ax, fraction=0.03)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_report_html(report: EvaluationReport, path: Path, *, image: str | None = None) -> None:
    """A standalone page: headline, coverage curve, per-class table, confusion matrix."""
    esc = html.escape
    parts = [
        "<!doctype html><meta charset='utf-8'><title>paytriage classifier evaluation</title>",
        "<style>body{font-family:sans-serif}td,th{padding:2px 6px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}table{border-collapse:collapse}"
        ".cm td{font-size:10px;min-width:14px}</style>",
        f"<h1>Classifier evaluation</h1><p>{report.n} tickets, {report.folds}-fold stratified CV: "
        f"accuracy <b>{report.accuracy:.3f}</b>, macro-F1 <b>{report.macro_f1:.3f}</b></p>",
        "<h2>Accuracy versus coverage</h2>",
        "<table><tr><th>threshold</th><th>coverage</th><th>accuracy</th></tr>",
    ]
    parts += [
        f"<tr><td>{p.threshold:.2f}</td><td>{p.coverage:.3f}</td><td>{p.accuracy:.3f}</td></tr>"
        for p in report.coverage
    ]
    parts.append("</table><h2>Per class</h2><table><tr><th>label</th><th>precision</th>")
    parts.append("<th>recall</th><th>F1</th><th>support</th></tr>")
    parts += [
        f"<tr><td>{esc(c.label)}</td><td>{c.precision:.3f}</td><td>{c.recall:.3f}</td>"
        f"<td>{c.f1:.3f}</td><td>{c.support}</td></tr>"
        for c in report.per_class
    ]
    parts.append("</table><h2>Confusion matrix</h2>")
    if image:
        parts.append(f"<img src='{esc(image)}' alt='confusion matrix'>")
    parts.append("<table class='cm'><tr><th>true \\ predicted</th>")
    parts += [f"<th title='{esc(lab)}'>{i}</th>" for i, lab in enumerate(report.labels)]
    parts.append("</tr>")
    for i, (lab, row) in enumerate(zip(report.labels, report.confusion, strict=True)):
        cells = "".join(
            f"<td style='background:{'#9cf' if j == i else '#fcc'}'>{v}</td>" if v else "<td></td>"
            for j, v in enumerate(row)
        )
        parts.append(f"<tr><td>{i} {esc(lab)}</td>{cells}</tr>")
    parts.append("</table>")
    path.write_text("\n".join(parts), encoding="utf-8")
