"""Shared CLI output: one ``--json`` option, Rich tables for people, JSON for machines.

Every command that prints results takes ``json_output: JsonOption`` and calls :func:`emit`.
Errors go through :func:`fail` so bad input is a one-line message and exit code 1, never a traceback.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_OK",
    "EXIT_USAGE",
    "JsonOption",
    "console",
    "emit",
    "err_console",
    "fail",
    "to_jsonable",
]

EXIT_OK = 0
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2

JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of a table.")]

console = Console()
err_console = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums, datetimes, Decimals and Paths as plain JSON values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "model_dump"):
        return to_jsonable(value.model_dump())
    return value


def emit(
    data: Any, *, json_output: bool, columns: Sequence[str] | None = None, title: str | None = None
) -> None:
    """Print ``data`` as JSON, or as a table (list of dicts) / key-value table (dict) / text."""
    if json_output:
        sys.stdout.write(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2) + "\n")
        return
    plain = to_jsonable(data)
    if isinstance(plain, list) and (not plain or isinstance(plain[0], dict)):
        console.print(_table(plain, columns, title))
    elif isinstance(plain, dict):
        table = Table(title=title, show_header=False)
        table.add_column("field", style="bold")
        table.add_column("value")
        for k, v in plain.items():
            table.add_row(str(k), _cell(v))
        console.print(table)
    else:
        console.print(plain)


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False)
    return str(v)


def _table(rows: Iterable[dict[str, Any]], columns: Sequence[str] | None, title: str | None) -> Table:
    rows = list(rows)
    cols = list(columns) if columns else (list(rows[0].keys()) if rows else [])
    table = Table(title=title)
    for c in cols:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_cell(r.get(c)) for c in cols))
    return table


def fail(message: str, *, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)
