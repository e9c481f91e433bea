"""Jira Cloud connector (REST v3): file an escalation as an issue, or comment on the open defect it repeats.

Why httpx rather than the ``jira`` package: that client targets the v2 API shapes and plain-text bodies,
still calls the deprecated ``/rest/api/{2,3}/search`` and has no hook for our retry rule (a write is
repeated only when it provably did not happen). The handful of v3 endpoints used here are simpler to call
directly through :class:`~paytriage.adapters.connectors.http.RetryingTransport`, and every request they send
is checked against Atlassian's OpenAPI document by the contract tests.

Flow of :meth:`JiraClient.escalate`: search open defects (``POST /rest/api/3/search/jql``) and score them
with rapidfuzz; above the threshold, comment on the best match; otherwise create an issue with an ADF
description, labels, components and mapped priority, then add remote links to the tickets and attach the
evidence files. :meth:`JiraClient.sync_status` reads back status and resolution for known keys.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import mimetypes
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr
from rapidfuzz import fuzz

from paytriage.adapters.connectors import adf
from paytriage.adapters.connectors.http import (
    ConnectorError,
    CredentialsError,
    RetryingTransport,
    RetryPolicy,
    read_secret_values,
)
from paytriage.domain.defect import DefectStatus
from paytriage.domain.errors import ConfigurationError

__all__ = [
    "DuplicateMatch",
    "EscalationAction",
    "EscalationOutcome",
    "IssueRef",
    "IssueState",
    "JiraClient",
    "JiraConfig",
    "JiraCredentials",
    "TicketLink",
    "defect_status",
    "issue_fields",
]

logger = logging.getLogger("paytriage.connectors.jira")
_SERVICE = "jira"
_PRIORITIES = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True)
class JiraCredentials:
    """Site URL, account e-mail and API token; the token is a ``SecretStr`` so no repr shows it."""

    url: str
    email: str
    token: SecretStr

    @classmethod
    def load(cls, secrets_file: Path | None = None) -> JiraCredentials:
        values = read_secret_values(
            {"url": "PAYTRIAGE_JIRA_URL", "email": "PAYTRIAGE_JIRA_EMAIL", "token": "PAYTRIAGE_JIRA_TOKEN"},
            service=_SERVICE,
            secrets_file=secrets_file,
        )
        url = values["url"].get_secret_value().rstrip("/")
        if not re.match(r"^https?://", url):
            raise CredentialsError("PAYTRIAGE_JIRA_URL must start with https://", service=_SERVICE)
        return cls(url=url, email=values["email"].get_secret_value(), token=values["token"])


@dataclass(frozen=True)
class JiraConfig:
    """``config/jira.yaml``: project, issue type, labels, components, priority and field mapping."""

    project_key: str = "PAY"
    issue_type: str = "Bug"
    labels: tuple[str, ...] = ("paytriage",)
    components: tuple[str, ...] = ()
    component_from_package: bool = True
    allowed_components: tuple[str, ...] = ()
    priority_map: Mapping[str, str] = field(
        default_factory=lambda: {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"}
    )
    fields: Mapping[str, str] = field(default_factory=dict)
    duplicate_jql: str = 'project = "{project}" AND statusCategory != Done ORDER BY updated DESC'
    max_candidates: int = 100
    min_similarity: float = 80.0
    application_name: str = "paytriage"
    relationship: str = "escalated from"

    @classmethod
    def load(cls, path: Path | None = None) -> JiraConfig:
        """Read and validate the YAML; errors name the key (``ConfigurationError``)."""
        try:
            raw = (
                path.read_text(encoding="utf-8")
                if path is not None
                else resources.files("paytriage").joinpath("config", "jira.yaml").read_text("utf-8")
            )
            data = yaml.safe_load(raw) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"jira config {path}: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigurationError("jira config: top level must be a mapping")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JiraConfig:
        def need_str(key: str, value: Any) -> str:
            if not isinstance(value, str) or not value.strip():
                raise ConfigurationError(f"jira config: '{key}' must be a non-empty string")
            return value.strip()

        def str_list(key: str) -> tuple[str, ...]:
            v = data.get(key) or []
            if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                raise ConfigurationError(f"jira config: '{key}' must be a list of strings")
            return tuple(v)

        pmap = data.get("priority_map", {"P1": "Highest", "P2": "High", "P3": "Medium", "P4": "Low"})
        if not isinstance(pmap, dict) or set(pmap) != set(_PRIORITIES):
            raise ConfigurationError("jira config: 'priority_map' must map exactly P1, P2, P3 and P4")
        fields_map = data.get("fields") or {}
        if not isinstance(fields_map, dict):
            raise ConfigurationError("jira config: 'fields' must map package keys to Jira field ids")
        dup = data.get("duplicate_search") or {}
        link = data.get("remote_link") or {}
        try:
            min_sim = float(dup.get("min_similarity", 80))
            max_cand = int(dup.get("max_candidates", 100))
        except (TypeError, ValueError):
            raise ConfigurationError("jira config: duplicate_search numbers must be numbers") from None
        if not 0 <= min_sim <= 100:
            raise ConfigurationError("jira config: 'duplicate_search.min_similarity' must be 0-100")
        if not 1 <= max_cand <= 5000:
            raise ConfigurationError("jira config: 'duplicate_search.max_candidates' must be 1-5000")
        return cls(
            project_key=need_str("project_key", data.get("project_key", "PAY")),
            issue_type=need_str("issue_type", data.get("issue_type", "Bug")),
            labels=str_list("labels"),
            components=str_list("components"),
            component_from_package=bool(data.get("component_from_package", True)),
            allowed_components=str_list("allowed_components"),
            priority_map={k: need_str(f"priority_map.{k}", v) for k, v in pmap.items()},
            fields={str(k): need_str(f"fields.{k}", v) for k, v in fields_map.items()},
            duplicate_jql=need_str("duplicate_search.jql", dup.get("jql", cls.duplicate_jql)),
            max_candidates=max_cand,
            min_similarity=min_sim,
            application_name=need_str(
                "remote_link.application_name", link.get("application_name", "paytriage")
            ),
            relationship=need_str("remote_link.relationship", link.get("relationship", "escalated from")),
        )


class EscalationAction(enum.StrEnum):
    CREATED = "created"
    COMMENTED = "commented"
    DRY_RUN = "dry_run"


@dataclass(frozen=True)
class IssueRef:
    key: str
    id: str
    url: str


@dataclass(frozen=True)
class DuplicateMatch:
    key: str
    summary: str
    score: float


@dataclass(frozen=True)
class IssueState:
    """What :meth:`JiraClient.sync_status` reads back; ``resolution`` is None while unresolved."""

    key: str
    status: str
    status_category: str
    resolution: str | None
    resolved_at: str | None


@dataclass(frozen=True)
class TicketLink:
    """A ticket the issue should link back to (a remote link), e.g. a Zendesk ticket or paytriage case."""

    url: str
    title: str
    summary: str = ""


@dataclass
class EscalationOutcome:
    action: EscalationAction
    key: str | None
    url: str | None
    duplicate_score: float | None = None
    remote_links: int = 0
    attachments: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)


def package_label(package: Mapping[str, Any]) -> str | None:
    """``paytriage-<id>`` (Jira labels cannot hold spaces), or None when the package has no id."""
    pid = package.get("id")
    if pid in (None, ""):
        return None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(pid)).strip("-")
    return f"paytriage-{slug}"[:255]


def issue_fields(
    cfg: JiraConfig, package: Mapping[str, Any], *, priority: str | None = None
) -> dict[str, Any]:
    """The ``fields`` of the create request for ``package`` under ``cfg``: pure, needs no credentials,
    so a preview can be shown where Jira is not configured."""
    title = str(package.get("title") or "").strip()
    if not title:
        raise ConnectorError("the escalation package has no title", service=_SERVICE)
    labels = list(cfg.labels)
    own = package_label(package)
    if own:
        labels.append(own)
    components = list(cfg.components)
    suspected = package.get("suspected_component")
    if cfg.component_from_package and isinstance(suspected, str) and suspected in cfg.allowed_components:
        components.append(suspected)
    fields: dict[str, Any] = {
        "project": {"key": cfg.project_key},
        "issuetype": {"name": cfg.issue_type},
        "summary": _one_line(title)[:254],
        "description": adf.escalation_to_adf(package, links=_package_links(package)),
        "labels": sorted(set(labels)),
    }
    if components:
        fields["components"] = [{"name": c} for c in dict.fromkeys(components)]
    prio = priority or package.get("priority")
    if prio is not None:
        if str(prio) not in cfg.priority_map:
            raise ConnectorError(f"priority must be one of {', '.join(_PRIORITIES)}", service=_SERVICE)
        fields["priority"] = {"name": cfg.priority_map[str(prio)]}
    for key, field_id in cfg.fields.items():
        if package.get(key) not in (None, "", [], {}):
            value = package[key]
            fields[field_id] = (
                value
                if isinstance(value, str | int | float)
                else adf.plain_text(adf.doc(adf.section(key, value)))
            )
    return fields


class JiraClient:
    """One Jira Cloud site. Pass ``transport`` (an httpx transport) or ``sleep`` in tests."""

    def __init__(
        self,
        credentials: JiraCredentials,
        *,
        config: JiraConfig | None = None,
        policy: RetryPolicy | None = None,
        timeout: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config or JiraConfig.load()
        self.base_url = credentials.url
        client = httpx.Client(
            base_url=credentials.url,
            auth=httpx.BasicAuth(credentials.email, credentials.token.get_secret_value()),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={"Accept": "application/json", "User-Agent": "paytriage-jira"},
            transport=transport,
        )
        self.http = RetryingTransport(client, service=_SERVICE, policy=policy, sleep=sleep)

    def __repr__(self) -> str:
        return f"JiraClient(url={self.base_url!r}, project={self.config.project_key!r})"

    def close(self) -> None:
        self.http.client.close()

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def browse_url(self, key: str) -> str:
        return f"{self.base_url}/browse/{key}"

    # --- reads -----------------------------------------------------------------------------------------
    def myself(self) -> dict[str, Any]:
        """``GET /rest/api/3/myself``: checks the credentials (401 → AuthError)."""
        data: dict[str, Any] = self.http.request("GET", "/rest/api/3/myself").json()
        return data

    def search(self, jql: str, *, fields: Sequence[str], limit: int) -> list[dict[str, Any]]:
        """``POST /rest/api/3/search/jql`` (the enhanced search; ``/search`` is being removed), paged."""
        issues: list[dict[str, Any]] = []
        token: str | None = None
        while len(issues) < limit:
            body: dict[str, Any] = {
                "jql": jql,
                "fields": list(fields),
                "maxResults": min(100, limit - len(issues)),
            }
            if token:
                body["nextPageToken"] = token
            page = self.http.request("POST", "/rest/api/3/search/jql", json=body).json()
            issues.extend(page.get("issues") or [])
            token = page.get("nextPageToken")
            if page.get("isLast", True) or not token:
                break
        return issues[:limit]

    def find_duplicate(self, package: Mapping[str, Any]) -> DuplicateMatch | None:
        """The open defect most like ``package`` when it scores at least ``min_similarity``."""
        cfg = self.config
        jql = cfg.duplicate_jql.format(project=cfg.project_key, issue_type=cfg.issue_type)
        candidates = self.search(jql, fields=["summary", "description", "status"], limit=cfg.max_candidates)
        title = str(package.get("title") or "")
        body = _package_text(package)
        best: DuplicateMatch | None = None
        for issue in candidates:
            f = issue.get("fields") or {}
            summary = str(f.get("summary") or "")
            desc = adf.plain_text(f.get("description"))[:4000]
            score = fuzz.token_set_ratio(title, summary)
            if desc.strip():  # an issue filed without a description is judged on its title alone
                score = 0.7 * score + 0.3 * fuzz.token_set_ratio(body, desc)
            if best is None or score > best.score:
                best = DuplicateMatch(key=str(issue.get("key")), summary=summary, score=round(score, 1))
        if best is not None and best.score >= cfg.min_similarity:
            return best
        return None

    def sync_status(self, keys: Iterable[str]) -> dict[str, IssueState]:
        """Current status/resolution of known keys; keys that no longer exist (or are hidden) are absent.

        One JQL ``key in (…)`` per 100 keys; Jira answers 400 when a key in the list does not exist, so
        that chunk falls back to one ``GET /issue/{key}`` each (404 → absent).
        """
        wanted = list(dict.fromkeys(k.strip().upper() for k in keys if k and k.strip()))
        out: dict[str, IssueState] = {}
        fields = ["status", "resolution", "resolutiondate"]
        for i in range(0, len(wanted), 100):
            chunk = wanted[i : i + 100]
            for k in chunk:
                if not re.fullmatch(r"[A-Z][A-Z0-9_]+-\d+", k):
                    raise ConnectorError(f"not a Jira issue key: {k!r}", service=_SERVICE)
            try:
                issues = self.search(f"key in ({', '.join(chunk)})", fields=fields, limit=len(chunk))
            except ConnectorError as exc:
                if exc.status != 400:
                    raise
                issues = []
                for k in chunk:
                    try:
                        issues.append(
                            self.http.request(
                                "GET", f"/rest/api/3/issue/{k}", params={"fields": ",".join(fields)}
                            ).json()
                        )
                    except ConnectorError as inner:
                        if inner.status != 404:
                            raise
            for issue in issues:
                state = _issue_state(issue)
                out[state.key] = state
        return out

    # --- writes ----------------------------------------------------------------------------------------
    def build_fields(self, package: Mapping[str, Any], *, priority: str | None = None) -> dict[str, Any]:
        """The ``fields`` of the create request (pure: used by ``--dry-run`` and by :meth:`create_issue`)."""
        return issue_fields(self.config, package, priority=priority)

    def create_issue(self, package: Mapping[str, Any], *, priority: str | None = None) -> IssueRef:
        """``POST /rest/api/3/issue``. After a timeout or 5xx the package label is searched before retrying,
        so a create that did land is not made twice."""
        fields = self.build_fields(package, priority=priority)
        label = package_label(package)

        def existing() -> dict[str, Any] | None:
            if not label:
                return None
            found = self.search(
                f'project = "{self.config.project_key}" AND labels = "{label}" ORDER BY created DESC',
                fields=["summary"],
                limit=1,
            )
            return found[0] if found else None

        response = self.http.request_effect(
            "POST",
            "/rest/api/3/issue",
            json={"fields": fields},
            already_applied=lambda: existing() is not None,
        )
        data = response.json() if response is not None else existing()
        if not data:
            raise ConnectorError("issue creation could not be confirmed", service=_SERVICE)
        key = str(data["key"])
        logger.info("jira: created %s", key)
        return IssueRef(key=key, id=str(data.get("id", "")), url=self.browse_url(key))

    def add_comment(self, key: str, body: dict[str, Any], *, idempotency_key: str) -> str:
        """``POST …/comment`` with a ``paytriage.idempotency`` comment property; before a retry the issue's
        comments are read and the post is skipped when one carries the same key. Returns the comment id."""
        prop = {"key": "paytriage.idempotency", "value": {"key": idempotency_key}}
        path = f"/rest/api/3/issue/{key}/comment"

        def find() -> str | None:
            page = self.http.request("GET", path, params={"expand": "properties", "maxResults": 100}).json()
            for c in page.get("comments") or []:
                for p in c.get("properties") or []:
                    if p.get("key") == prop["key"] and (p.get("value") or {}).get("key") == idempotency_key:
                        return str(c.get("id"))
            return None

        response = self.http.request_effect(
            "POST",
            path,
            json={"body": body, "properties": [prop]},
            already_applied=lambda: find() is not None,
        )
        if response is not None:
            return str(response.json().get("id"))
        found = find()
        if found is None:
            raise ConnectorError("comment could not be confirmed", service=_SERVICE)
        return found

    def add_remote_link(self, key: str, link: TicketLink) -> int:
        """``POST …/remotelink`` keyed by ``globalId`` (= the URL), which Jira upserts: safe to repeat."""
        body = {
            "globalId": f"paytriage:{hashlib.sha256(link.url.encode()).hexdigest()[:32]}",
            "application": {"name": self.config.application_name, "type": "paytriage"},
            "relationship": self.config.relationship,
            "object": {"url": link.url, "title": link.title[:255] or link.url, "summary": link.summary[:255]},
        }
        data = self.http.request("POST", f"/rest/api/3/issue/{key}/remotelink", json=body).json()
        return int(data.get("id", 0))

    def add_attachment(self, key: str, path: Path) -> str:
        """``POST …/attachments`` (multipart, ``X-Atlassian-Token: no-check``); skipped when the issue
        already has a file of the same name and size, so a retried upload does not duplicate it."""
        content = path.read_bytes()
        size = len(content)

        def present() -> bool:
            issue = self.http.request(
                "GET", f"/rest/api/3/issue/{key}", params={"fields": "attachment"}
            ).json()
            return any(
                a.get("filename") == path.name and int(a.get("size", -1)) == size
                for a in (issue.get("fields") or {}).get("attachment") or []
            )

        if present():
            return path.name
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        self.http.request_effect(
            "POST",
            f"/rest/api/3/issue/{key}/attachments",
            files={"file": (path.name, content, ctype)},
            headers={"X-Atlassian-Token": "no-check"},
            already_applied=present,
        )
        return path.name

    def escalate(
        self,
        package: Mapping[str, Any],
        *,
        tickets: Sequence[TicketLink] = (),
        attachments: Sequence[Path] = (),
        priority: str | None = None,
        dry_run: bool = False,
    ) -> EscalationOutcome:
        """File ``package`` or comment on its open duplicate; link tickets and attach evidence either way."""
        for p in attachments:
            if not p.is_file():
                raise ConnectorError(f"attachment {p}: no such file", service=_SERVICE)
        fields = self.build_fields(package, priority=priority)
        match = self.find_duplicate(package)
        if dry_run:
            return EscalationOutcome(
                action=EscalationAction.DRY_RUN,
                key=match.key if match else None,
                url=self.browse_url(match.key) if match else None,
                duplicate_score=match.score if match else None,
                fields=fields,
            )
        if match is not None:
            key = match.key
            action = EscalationAction.COMMENTED
            ident = (
                package_label(package) or hashlib.sha256(repr(sorted(package.items())).encode()).hexdigest()
            )
            self.add_comment(key, _duplicate_comment(package, match), idempotency_key=ident)
        else:
            key = self.create_issue(package, priority=priority).key
            action = EscalationAction.CREATED
        links = sum(1 for t in tickets if self.add_remote_link(key, t))
        names = [self.add_attachment(key, p) for p in attachments]
        return EscalationOutcome(
            action=action,
            key=key,
            url=self.browse_url(key),
            duplicate_score=match.score if match else None,
            remote_links=links,
            attachments=names,
        )


def _one_line(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def _package_text(package: Mapping[str, Any]) -> str:
    summary = package.get("summary")
    return " ".join(str(v) for v in (package.get("title"), summary if isinstance(summary, str) else "") if v)


def _package_links(package: Mapping[str, Any]) -> dict[str, str]:
    links = package.get("links")
    if isinstance(links, dict):
        return {str(k): str(v) for k, v in links.items() if isinstance(v, str) and v.startswith("http")}
    return {}


def _duplicate_comment(package: Mapping[str, Any], match: DuplicateMatch) -> dict[str, Any]:
    """A short ADF comment: why paytriage thinks this is the same defect, then the new package."""
    intro = adf.paragraph(
        adf.text("paytriage: ", strong=True),
        f"a new escalation matches this issue (similarity {match.score:.0f}/100); "
        "new evidence below instead of a duplicate issue.",
    )
    body = adf.escalation_to_adf(package, links=_package_links(package))
    return adf.doc([intro, adf.heading(str(package.get("title") or "Escalation"), 3), *body["content"]])


def _issue_state(issue: Mapping[str, Any]) -> IssueState:
    f = issue.get("fields") or {}
    status = f.get("status") or {}
    resolution = f.get("resolution") or {}
    return IssueState(
        key=str(issue.get("key")),
        status=str(status.get("name") or "unknown"),
        status_category=str((status.get("statusCategory") or {}).get("key") or "unknown"),
        resolution=resolution.get("name") if isinstance(resolution, dict) else None,
        resolved_at=f.get("resolutiondate"),
    )


_WONT_FIX = re.compile(r"won'?t (?:do|fix)|duplicate|cannot reproduce|not a (?:bug|defect)|declined", re.I)


def defect_status(state: IssueState) -> tuple[DefectStatus, datetime | None]:
    """The hook for resolution sync: a Jira state as paytriage's defect status and resolution time.

    Done with a fixing resolution → resolved; done as won't-fix/duplicate/cannot-reproduce → wont_fix
    (no customer is told it was fixed); in progress → in_progress; anything else → open.
    """
    resolved_at = None
    if state.resolved_at:
        try:
            resolved_at = datetime.strptime(state.resolved_at, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(state.resolved_at)
                resolved_at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
            except ValueError:
                resolved_at = None
    if state.status_category == "done" or state.resolution:
        if state.resolution and _WONT_FIX.search(state.resolution):
            return DefectStatus.WONT_FIX, resolved_at
        return DefectStatus.RESOLVED, resolved_at
    if state.status_category == "indeterminate":
        return DefectStatus.IN_PROGRESS, None
    return DefectStatus.OPEN, None
