"""`paytriage connectors` commands: Zendesk import/comment/update and Jira check/escalate/sync.

Thin wrappers: parsing options, progress and one-line errors live here; the connectors do the work. Every
:class:`~paytriage.adapters.connectors.http.ConnectorError` becomes ``error: …`` and exit 1, without a
traceback and without credentials (the errors never carry them).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from paytriage.adapters.cli.output import EXIT_USAGE, JsonOption, emit, err_console, fail
from paytriage.adapters.connectors.http import ConnectorError
from paytriage.adapters.connectors.jira import JiraClient, JiraConfig, JiraCredentials, TicketLink
from paytriage.adapters.connectors.zendesk import (
    ImportState,
    TicketStatus,
    ZendeskClient,
    ZendeskCredentials,
    import_to_jsonl,
)
from paytriage.domain.errors import ConfigurationError

__all__ = ["register"]

connectors_app = typer.Typer(help="Jira Cloud and Zendesk connectors.", no_args_is_help=True)
zendesk_app = typer.Typer(
    help="Zendesk Support: import tickets, post notes and replies.", no_args_is_help=True
)
jira_app = typer.Typer(help="Jira Cloud: file escalations, sync status back.", no_args_is_help=True)
connectors_app.add_typer(zendesk_app, name="zendesk")
connectors_app.add_typer(jira_app, name="jira")

SecretsOption = Annotated[
    Path | None,
    typer.Option(
        "--secrets-file", help="YAML with PAYTRIAGE_* credentials (default: PAYTRIAGE_SECRETS_FILE)."
    ),
]
SubdomainOption = Annotated[
    str | None, typer.Option("--subdomain", help="Zendesk subdomain (default: PAYTRIAGE_ZENDESK_SUBDOMAIN).")
]
UrlOption = Annotated[
    str | None, typer.Option("--url", help="Zendesk base URL instead of a subdomain (e.g. a test server).")
]


def register(app: typer.Typer) -> None:
    """Attach ``paytriage connectors …`` to the root app."""
    app.add_typer(connectors_app, name="connectors")


def _zendesk(subdomain: str | None, url: str | None, secrets_file: Path | None) -> ZendeskClient:
    return ZendeskClient(
        ZendeskCredentials.load(subdomain=subdomain, base_url=url, secrets_file=secrets_file)
    )


@zendesk_app.command("import")
def zendesk_import(
    cursor_file: Annotated[
        Path, typer.Option("--cursor-file", help="Where the import position is kept; rerun to resume.")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="JSON-lines file of Zendesk ticket objects.")],
    subdomain: SubdomainOption = None,
    url: UrlOption = None,
    start_time: Annotated[
        int, typer.Option("--start-time", min=0, help="Unix time to start from on the first run.")
    ] = 0,
    per_page: Annotated[int, typer.Option("--per-page", min=1, max=1000, help="Tickets per page.")] = 1000,
    with_comments: Annotated[
        bool, typer.Option("--with-comments", help="Fetch each ticket's comments (one more call a ticket).")
    ] = False,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Import tickets changed since the cursor (incremental export) into OUT; resumable after a kill."""
    try:
        with (
            _zendesk(subdomain, url, secrets_file) as client,
            Progress(
                SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err_console
            ) as progress,
        ):
            task = progress.add_task("importing tickets", total=None)

            def on_page(state: ImportState, n: int) -> None:
                progress.update(task, description=f"imported {state.tickets:,} tickets ({state.pages} pages)")

            state = import_to_jsonl(
                client,
                cursor_file=cursor_file,
                out=out,
                start_time=start_time,
                per_page=per_page,
                with_comments=with_comments,
                on_page=on_page,
            )
    except ConnectorError as exc:
        fail(str(exc))
    emit(
        {
            "tickets_total": state.tickets,
            "pages": state.pages,
            "end_of_stream": state.end_of_stream,
            "out": str(out),
            "cursor_file": str(cursor_file),
        },
        json_output=json_output,
    )


@zendesk_app.command("comment")
def zendesk_comment(
    ticket_id: Annotated[int, typer.Argument(help="Zendesk ticket id.")],
    body: Annotated[str | None, typer.Option("--body", help="Comment text.")] = None,
    body_file: Annotated[
        Path | None, typer.Option("--body-file", help="Read the comment text from a file.")
    ] = None,
    public: Annotated[
        bool, typer.Option("--public/--internal", help="Public reply or internal note (default).")
    ] = False,
    status: Annotated[TicketStatus | None, typer.Option("--status", help="Also set the status.")] = None,
    subdomain: SubdomainOption = None,
    url: UrlOption = None,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Post an internal note or a public reply once (a retried post is never doubled)."""
    if (body is None) == (body_file is None):
        fail("give exactly one of --body or --body-file", code=EXIT_USAGE)
    try:
        text = body if body is not None else body_file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    except OSError as exc:
        fail(f"--body-file {body_file}: {exc.strerror}")
    try:
        with _zendesk(subdomain, url, secrets_file) as client:
            posted = client.add_comment(ticket_id, text, public=public, status=status)
    except ConnectorError as exc:
        fail(str(exc))
    emit({"ticket": ticket_id, "public": public, "posted": posted}, json_output=json_output)


@zendesk_app.command("update")
def zendesk_update(
    ticket_id: Annotated[int, typer.Argument(help="Zendesk ticket id.")],
    status: Annotated[TicketStatus | None, typer.Option("--status", help="New status.")] = None,
    tags: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag (repeat); replaces the tag list.")
    ] = None,
    subdomain: SubdomainOption = None,
    url: UrlOption = None,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Set a ticket's status and/or tags."""
    if status is None and tags is None:
        fail("give --status and/or --tag", code=EXIT_USAGE)
    try:
        with _zendesk(subdomain, url, secrets_file) as client:
            ticket = client.update_ticket(ticket_id, status=status, tags=tags)
    except ConnectorError as exc:
        fail(str(exc))
    emit(
        {"ticket": ticket_id, "status": ticket.get("status"), "tags": ticket.get("tags")},
        json_output=json_output,
    )


def _jira(config: Path | None, secrets_file: Path | None) -> JiraClient:
    try:
        cfg = JiraConfig.load(config)
    except ConfigurationError as exc:
        fail(str(exc))
    return JiraClient(JiraCredentials.load(secrets_file), config=cfg)


ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Jira mapping YAML (default: packaged config/jira.yaml).")
]


@jira_app.command("check")
def jira_check(
    config: ConfigOption = None, secrets_file: SecretsOption = None, json_output: JsonOption = False
) -> None:
    """Check the Jira credentials (GET /rest/api/3/myself)."""
    try:
        with _jira(config, secrets_file) as client:
            me = client.myself()
    except ConnectorError as exc:
        fail(str(exc))
    emit({"account": me.get("displayName"), "account_id": me.get("accountId")}, json_output=json_output)


@jira_app.command("escalate")
def jira_escalate(
    package: Annotated[Path, typer.Argument(help="Escalation package JSON (title, summary, impact, …).")],
    ticket_urls: Annotated[
        list[str] | None, typer.Option("--ticket-url", help="Ticket to link back to (repeat).")
    ] = None,
    attach: Annotated[
        list[Path] | None, typer.Option("--attach", help="Evidence file to attach (repeat).")
    ] = None,
    priority: Annotated[
        str | None, typer.Option("--priority", help="P1-P4 (default: the package's).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the fields and any duplicate; file nothing.")
    ] = False,
    config: ConfigOption = None,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """File PACKAGE in Jira, or comment on the open defect it duplicates."""
    try:
        data: Any = json.loads(package.read_text(encoding="utf-8"))
    except OSError as exc:
        fail(f"{package}: {exc.strerror}")
    except json.JSONDecodeError as exc:
        fail(f"{package}: line {exc.lineno}: not JSON ({exc.msg})")
    if not isinstance(data, dict):
        fail(f"{package}: must be a JSON object")
    links = [TicketLink(url=u, title=u.rstrip("/").rsplit("/", 1)[-1]) for u in ticket_urls or []]
    try:
        with _jira(config, secrets_file) as client:
            outcome = client.escalate(
                data, tickets=links, attachments=list(attach or []), priority=priority, dry_run=dry_run
            )
    except ConnectorError as exc:
        fail(str(exc))
    emit(outcome, json_output=json_output)


@jira_app.command("sync")
def jira_sync(
    keys: Annotated[list[str], typer.Argument(help="Issue keys, e.g. PAY-12 PAY-40.")],
    config: ConfigOption = None,
    secrets_file: SecretsOption = None,
    json_output: JsonOption = False,
) -> None:
    """Current status and resolution of KEYS (missing keys are listed as such)."""
    try:
        with _jira(config, secrets_file) as client:
            states = client.sync_status(keys)
    except ConnectorError as exc:
        fail(str(exc))
    rows = [
        {"key": k, "status": s.status, "category": s.status_category, "resolution": s.resolution}
        if (s := states.get(k.strip().upper()))
        else {"key": k, "status": "missing", "category": None, "resolution": None}
        for k in keys
    ]
    emit(rows, json_output=json_output)
