"""`paytriage model` commands: train, evaluate, predict and inspect the ticket classifier."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.domain.errors import InputError, PaytriageError
from paytriage.engines.classifier import (
    FEATURE_SETS,
    TicketClassifier,
    few_shot_classifier,
    load_model,
    save_model,
)
from paytriage.engines.classifier.dataset import read_table
from paytriage.engines.classifier.evaluation import (
    EvaluationReport,
    cross_validate,
    score_predictions,
    write_confusion_png,
    write_report_html,
)
from paytriage.engines.classifier.model import ProgressFn
from paytriage.engines.classifier.persistence import ModelInfo

__all__ = ["build_classifier", "register", "train_model"]

model_app = typer.Typer(help="Train, evaluate and use the ticket classifier.", no_args_is_help=True)

InputOpt = Annotated[Path, typer.Option("--input", "-i", help="CSV or JSONL file of tickets.")]
TextOpt = Annotated[str, typer.Option("--text-column", help="Column (or JSON key) holding the ticket text.")]
LabelOpt = Annotated[str, typer.Option("--label-column", help="Column (or JSON key) holding the category.")]
FeaturesOpt = Annotated[
    str,
    typer.Option(
        "--features",
        help="tfidf (default, no PyTorch), embeddings, combined, finetuned (TF-IDF blended with the "
        "encoder fine-tuned on your tickets, minutes of CPU) or ensemble (TF-IDF plus frozen MiniLM "
        "and MPNet encoders, each with its own linear model: most accurate); all but tfidf need "
        "paytriage[embeddings].",
    ),
]
FewShotOpt = Annotated[
    bool,
    typer.Option(
        "--few-shot", help="Settings for 5–10 labelled tickets per category (adds embeddings when installed)."
    ),
]


def _labelled_from_db() -> tuple[list[str], list[str]]:
    """Texts and categories of the cases people labelled (``paytriage cases update ID --category X``)."""
    from paytriage.adapters.cli.context import open_database
    from paytriage.adapters.storage.cases import CaseRepository

    db = open_database()
    with db.session() as s:
        pairs = list(CaseRepository(s).labelled_examples())
    db.dispose()
    if not pairs:
        raise InputError(
            "no human-labelled cases stored; label some with 'paytriage cases update ID --category X'"
        )
    return [t for t, _ in pairs], [c for _, c in pairs]


def _fail(message: str) -> NoReturn:
    """One-line error (``fail`` escapes Rich markup, so ``paytriage[embeddings]`` survives)."""
    fail(message)


def register(app: typer.Typer) -> None:
    """Attach ``paytriage model …`` to the root app."""
    app.add_typer(model_app, name="model")


@contextmanager
def _progress(label: str) -> Iterator[ProgressFn]:
    """A Rich bar per training stage, fed by the classifier's progress callback (on stderr)."""
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn(label + ": {task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def build_classifier(*, features: str, few_shot: bool, c: float | None, threshold: float) -> TicketClassifier:
    """The estimator the options describe (shared by train and evaluate)."""
    if features not in FEATURE_SETS:
        fail(f"--features must be one of {', '.join(FEATURE_SETS)}", code=EXIT_USAGE)
    params: dict[str, Any] = {"abstain_threshold": threshold}
    if c is not None:
        params["C"] = c
    if few_shot:
        return (
            few_shot_classifier(**params)
            if features == "tfidf"
            else few_shot_classifier(features=features, **params)
        )
    return TicketClassifier(features=features, **params)


def train_model(
    texts: Sequence[str], labels: Sequence[str], *, out: Path, estimator: TicketClassifier, cv: int = 3
) -> tuple[ModelInfo, EvaluationReport | None]:
    """Optionally cross-validate, fit on everything and save; ``--from-db`` feeds stored pairs here."""
    report = None
    if cv >= 2:
        with _progress("cross-validating") as update:
            report = cross_validate(
                estimator, texts, labels, folds=cv, progress=lambda i, k: update("folds", i, k)
            )
    with _progress("training") as update:
        estimator.fit(list(texts), list(labels), progress=update)
    info = save_model(
        estimator, out, texts=texts, labels=labels, metrics=report.summary() if report else None
    )
    return info, report


@model_app.command("train")
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")],
    input_path: Annotated[
        Path | None, typer.Option("--input", "-i", help="CSV or JSONL file of labelled tickets.")
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Train on stored cases whose category a person set.")
    ] = False,
    text_column: TextOpt = "text",
    label_column: LabelOpt = "category",
    features: FeaturesOpt = "tfidf",
    few_shot: FewShotOpt = False,
    c: Annotated[
        float | None, typer.Option("--c", help="Inverse regularisation of the linear model.")
    ] = None,
    abstain_threshold: Annotated[
        float,
        typer.Option(
            "--abstain-threshold",
            min=0.0,
            max=1.0,
            help="Under this confidence, predict leaves the ticket to a person.",
        ),
    ] = 0.0,
    cv: Annotated[
        int | None,
        typer.Option(
            "--cv",
            min=0,
            help="Folds of cross-validation for the stored metrics (0: skip; default 3, "
            "or 0 for finetuned, where each fold is another fine-tuning run).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Learn the categories in INPUT and save a model directory (manifest.json + model.skops)."""
    estimator = build_classifier(features=features, few_shot=few_shot, c=c, threshold=abstain_threshold)
    if from_db == (input_path is not None):
        fail("give either --input FILE or --from-db", code=EXIT_USAGE)
    try:
        if input_path is not None:
            table = read_table(input_path, text_column=text_column, label_column=label_column)
            assert table.labels is not None
            texts, labels = table.texts, table.labels
        else:
            texts, labels = _labelled_from_db()
        folds = cv if cv is not None else (0 if features in ("finetuned", "ensemble") else 3)
        info, _ = train_model(texts, labels, out=out, estimator=estimator, cv=folds)
    except PaytriageError as exc:
        _fail(f"{input_path or 'database'}: {exc}")
    emit(
        {
            "model": str(out),
            "classes": len(info.classes),
            "n_train": info.n_train,
            "features": info.params["features"],
            **{k: v for k, v in info.metrics.items() if k != "coverage"},
        },
        json_output=json_output,
        title="trained",
    )


@model_app.command("evaluate")
def evaluate(
    input_path: InputOpt,
    text_column: TextOpt = "text",
    label_column: LabelOpt = "category",
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            "-m",
            help="Score this saved model on INPUT (a held-out set) instead of cross-validating.",
        ),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Stratified cross-validation folds.")] = 5,
    features: FeaturesOpt = "tfidf",
    few_shot: FewShotOpt = False,
    c: Annotated[
        float | None, typer.Option("--c", help="Inverse regularisation of the linear model.")
    ] = None,
    report_dir: Annotated[
        Path | None,
        typer.Option("--report-dir", help="Write confusion.png, report.html and report.json here."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Per-class precision/recall/F1, confusion matrix and the accuracy-versus-coverage curve."""
    try:
        table = read_table(input_path, text_column=text_column, label_column=label_column)
        assert table.labels is not None
        if model is not None:
            clf, _ = load_model(model)
            with _progress("predicting") as update:
                proba = clf.predict_proba(table.texts, progress=update)
            report = score_predictions(table.labels, proba, [str(x) for x in clf.classes_])
        else:
            estimator = build_classifier(features=features, few_shot=few_shot, c=c, threshold=0.0)
            with _progress("cross-validating") as update:
                report = cross_validate(
                    estimator,
                    table.texts,
                    table.labels,
                    folds=folds,
                    progress=lambda i, k: update("folds", i, k),
                )
    except PaytriageError as exc:
        _fail(f"{input_path}: {exc}")
    if report_dir is not None:
        report_dir.mkdir(parents=True, exist_ok=True)
        write_confusion_png(report, report_dir / "confusion.png")
        write_report_html(report, report_dir / "report.html", image="confusion.png")
        (report_dir / "report.json").write_text(json.dumps(_report_json(report), indent=2) + "\n")
    if json_output:
        emit(_report_json(report), json_output=True)
        return
    emit(
        [
            {
                "label": s.label,
                "precision": f"{s.precision:.3f}",
                "recall": f"{s.recall:.3f}",
                "f1": f"{s.f1:.3f}",
                "support": s.support,
            }
            for s in report.per_class
        ],
        json_output=False,
        title="per class",
    )
    emit(
        [
            {"threshold": p.threshold, "coverage": f"{p.coverage:.3f}", "accuracy": f"{p.accuracy:.3f}"}
            for p in report.coverage
        ],
        json_output=False,
        title="accuracy versus coverage",
    )
    emit(
        {
            "accuracy": round(report.accuracy, 4),
            "macro_f1": round(report.macro_f1, 4),
            "n": report.n,
            "folds": report.folds or "held-out",
        },
        json_output=False,
        title="overall",
    )


def _report_json(report: EvaluationReport) -> dict[str, Any]:
    data = report.summary()
    data["per_class"] = [
        {
            "label": s.label,
            "precision": round(s.precision, 4),
            "recall": round(s.recall, 4),
            "f1": round(s.f1, 4),
            "support": s.support,
        }
        for s in report.per_class
    ]
    data["labels"] = report.labels
    data["confusion"] = report.confusion
    return data


@model_app.command("predict")
def predict(
    model: Annotated[
        Path, typer.Option("--model", "-m", help="Model directory from `paytriage model train`.")
    ],
    input_path: InputOpt,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="CSV to write: the input plus predicted, confidence.")
    ],
    text_column: TextOpt = "text",
    abstain_threshold: Annotated[
        float | None,
        typer.Option(
            "--abstain-threshold",
            min=0.0,
            max=1.0,
            help="Leave `predicted` empty under this confidence (default: the model's).",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Classify each ticket; `predicted` is empty when the model abstains (a person decides)."""
    try:
        clf, _ = load_model(model)
        table = read_table(input_path, text_column=text_column)
        results = clf.predict_or_abstain(table.texts, abstain_threshold)
    except PaytriageError as exc:
        _fail(str(exc))
    cols = [c for c in table.fieldnames if c not in ("predicted", "confidence", "best_guess")]
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(
            f, fieldnames=[*cols, "predicted", "confidence", "best_guess"], extrasaction="ignore"
        )
        writer.writeheader()
        for rec, res in zip(table.records, results, strict=True):
            writer.writerow(
                {
                    **rec,
                    "predicted": res.label or "",
                    "confidence": f"{res.confidence:.4f}",
                    "best_guess": res.best_guess,
                }
            )
    abstained = sum(r.abstained for r in results)
    emit(
        {"out": str(out), "rows": len(results), "abstained": abstained},
        json_output=json_output,
        title="predicted",
    )


@model_app.command("info")
def info(
    model: Annotated[Path, typer.Option("--model", "-m", help="Model directory to describe.")],
    json_output: JsonOption = False,
) -> None:
    """Format, labels, training-data hash, metrics and library versions of a saved model."""
    from paytriage.engines.classifier.persistence import read_info

    try:
        meta = read_info(model)
    except PaytriageError as exc:
        _fail(str(exc))
    data = {name: getattr(meta, name) for name in ModelInfo.__slots__}  # type: ignore[attr-defined]
    if not json_output:
        data["classes"] = (
            f"{len(meta.classes)}: {', '.join(meta.classes[:8])}{' …' if len(meta.classes) > 8 else ''}"
        )
    emit(data, json_output=json_output, title=str(model))
