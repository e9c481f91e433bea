"""Cross-validation, coverage curve and reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.domain.errors import InputError
from paytriage.engines.classifier import TicketClassifier
from paytriage.engines.classifier.evaluation import (
    coverage_curve,
    cross_validate,
    score_predictions,
    threshold_for_accuracy,
    write_confusion_png,
    write_report_html,
)


def test_cross_validation_report(tmp_path: Path, corpus: tuple[list[str], list[str]]) -> None:
    texts, labels = corpus
    seen: list[tuple[int, int]] = []
    report = cross_validate(
        TicketClassifier(), texts, labels, folds=4, progress=lambda i, k: seen.append((i, k))
    )
    assert seen[-1] == (4, 4) and report.folds == 4 and report.n == len(texts)
    assert report.accuracy > 0.8
    assert sum(map(sum, report.confusion)) == len(texts)
    assert [c.support for c in report.per_class] == [8, 8, 8]
    write_confusion_png(report, tmp_path / "cm.png")
    assert (tmp_path / "cm.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    write_report_html(report, tmp_path / "r.html", image="cm.png")
    page = (tmp_path / "r.html").read_text()
    assert "refund_missing" in page and "cm.png" in page and "coverage" in page


def test_folds_shrink_to_smallest_class_and_need_two() -> None:
    texts = ["refund late", "refund gone", "card declined", "card refused", "card blocked"]
    labels = ["refund", "refund", "card", "card", "card"]
    assert cross_validate(TicketClassifier(), texts, labels, folds=5).folds == 2
    with pytest.raises(InputError, match="at least 2 examples"):
        cross_validate(TicketClassifier(), [*texts, "x"], [*labels, "lonely"])


def test_scores_known_predictions() -> None:
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.7, 0.3]])
    report = score_predictions(["a", "b", "b"], proba, ["a", "b"])
    assert report.accuracy == pytest.approx(2 / 3)
    assert report.confusion == [[1, 0], [1, 1]]
    by_label = {c.label: c for c in report.per_class}
    assert by_label["a"].precision == 0.5 and by_label["b"].recall == 0.5
    kept = {p.threshold: p for p in report.coverage}
    assert kept[0.8].coverage == pytest.approx(1 / 3) and kept[0.8].accuracy == 1.0
    best = threshold_for_accuracy(report.coverage, 1.0)
    assert best is not None and best.threshold == 0.8  # at 0.7 the wrong 0.7-confident row is kept


@settings(deadline=None)  # speed is not what this tests; the shared machine is sometimes slow
@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("abc"), st.floats(0, 1)), min_size=1, max_size=40
    )
)
def test_coverage_never_grows_with_threshold(rows: list[tuple[str, str, float]]) -> None:
    truth, pred, conf = zip(*rows, strict=True)
    points = coverage_curve(truth, pred, conf)
    covers = [p.coverage for p in points]
    assert covers == sorted(covers, reverse=True)
    assert points[0].coverage == 1.0
    assert all(0.0 <= p.accuracy <= 1.0 for p in points)
