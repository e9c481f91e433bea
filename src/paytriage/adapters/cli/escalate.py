"""`paytriage escalate CASE_ID|P<problem>` (the package, optionally filed in Jira) and `paytriage backlog`."""

from __future__ import annotations

import enum
import json
import re
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from paytriage.adapters.cli.connectors import ConfigOption, SecretsOption
from paytriage.adapters.cli.context import open_database
from paytriage.adapters.cli.investigate import default_templates_path
from paytriage.adapters.cli.output import JsonOption, console, emit, fail
from paytriage.adapters.connectors.http import ConnectorError
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials
from paytriage.domain import NotFoundError
from paytriage.domain.errors import ConfigurationError
from paytriage.engines.escalate.render import to_json, to_markdown
from paytriage.engines.investigate.investigator import Investigator
from paytriage.services.backlog import backlog as rank_backlog
from paytriage.services.backlog import write_csv
from paytriage.services.escalation import escalate_case
from paytriage.services.investigation import load_miner
from paytriage.services.problem_escalation import escalate_problem

__all__ = ["Target", "backlog", "escalate", "register"]


class Target(enum.StrEnum):
    JIRA = "jira"


def escalate(
    target: Annotated[
        str | None, typer.Argument(help="Case id (12) or problem id (P12).", show_default=False)
    ] = None,
    problem: Annotated[int | None, typer.Option("--problem", help="Problem id (same as P<id>).")] = None,
    to: Annotated[Target | None, typer.Option("--to", help="File the package in this tracker.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="With --to: show the fields and any duplicate; file nothing.")
    ] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the package as Markdown.")] = False,
    ticket_url: Annotated[
        str | None,
        typer.Option(help="Link template for the tickets in Jira, e.g. https://help.example/t/{id}."),
    ] = None,
    config: ConfigOption = None,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Build the escalation package of a case or a problem (P12): impact, severity, environment,
    reproduction, logs, timeline, suspected component and release, what Tier 2 ruled out, the Tier 2
    vs Engineering decision and a completeness score. With --to jira, file it (or comment on its open
    duplicate); a filed problem links every one of its cases to the defect."""
    if json_output and markdown:
        fail("--json and --markdown are exclusive", code=2)
    kind, subject_id = _target(target, problem)
    if dry_run and to is None:
        fail("--dry-run needs --to jira", code=2)
    db = open_database()
    try:
        investigator = Investigator(miner=load_miner(default_templates_path()))
        jira = _jira(config, secrets_file) if to == Target.JIRA else None
        try:
            run = escalate_problem if kind == "problem" else escalate_case
            result = run(
                db, subject_id, investigator=investigator, jira=jira, dry_run=dry_run, ticket_url=ticket_url
            )
        finally:
            if jira is not None:
                jira.close()
    except (NotFoundError, ConnectorError) as exc:
        fail(str(exc))
    finally:
        db.dispose()
    if json_output:
        typer.echo(to_json(result.package) if result.outcome is None else _json(result.to_dict()))
        return
    if markdown or result.outcome is None:
        typer.echo(to_markdown(result.package))
    if result.outcome is not None:
        o = result.outcome
        line = f"jira: {o.action.value}" + (f" {o.key} {o.url}" if o.key else "")
        if o.duplicate_score is not None:
            line += f" (duplicate score {o.duplicate_score:.0f})"
        if result.defect_id is not None:
            line += f"; defect {result.defect_id} recorded"
        console.print(line, markup=False)


def _target(target: str | None, problem: int | None) -> tuple[str, int]:
    """``12`` → a case, ``P12``/``p12`` or ``--problem 12`` → a problem."""
    if problem is not None:
        if target is not None:
            fail("give a case id or --problem, not both", code=2)
        return "problem", problem
    if target is None:
        fail("give a case id (12) or a problem id (P12)", code=2)
    m = re.fullmatch(r"\s*([Pp])?([0-9]{1,18})\s*", target)
    if m is None:
        fail(f"not a case or problem id: {target!r} (use 12 for a case, P12 for a problem)", code=2)
    return ("problem" if m.group(1) else "case"), int(m.group(2))


def _jira(config: Path | None, secrets_file: Path | None) -> JiraClient:
    try:
        cfg = JiraConfig.load(config)
    except ConfigurationError as exc:
        fail(str(exc))
    return JiraClient(JiraCredentials.load(secrets_file), config=cfg)


def _json(data: object) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def backlog(
    csv_path: Annotated[
        Path | None, typer.Option("--csv", help="Also write the ranking to this CSV file.")
    ] = None,
    include_resolved: Annotated[bool, typer.Option("--all", help="Include resolved defects.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Defects ranked by customer impact: tickets, merchants, money, SLA risk, trend."""
    db = open_database()
    try:
        with db.session() as s:
            items = rank_backlog(s, include_resolved=include_resolved)
    finally:
        db.dispose()
    if csv_path is not None:
        try:
            write_csv(items, csv_path)
        except OSError as exc:
            fail(f"{csv_path}: {exc.strerror}")
    if json_output:
        emit([i.to_dict() for i in items], json_output=True)
        return
    table = Table(title=f"defect backlog ({len(items)})")
    for col in ("#", "defect", "title", "score", "tickets", "merchants", "money", "SLA risk", "trend"):
        table.add_column(col)
    for n, i in enumerate(items, start=1):
        money = ", ".join(f"{c} {v:,.2f}" for c, v in sorted(i.money.items())) or "-"
        table.add_row(
            str(n), i.key or str(i.defect_id), i.title[:60], f"{i.score:.1f}", str(i.tickets),
            str(i.merchants), money, str(i.sla_risk), i.trend,
        )  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``paytriage escalate`` and ``paytriage backlog`` to the root app."""
    app.command("escalate")(escalate)
    app.command("backlog")(backlog)
