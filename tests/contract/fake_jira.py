"""An in-memory Jira Cloud site behind :class:`~tests.contract.server.ContractServer`.

Implements the REST v3 calls the connector makes: myself, create/get issue, enhanced JQL search (a tiny
JQL subset: ``key in (…)``, ``project =``, ``labels =``, ``statusCategory != Done``), comments with
properties, remote links upserted by ``globalId``, and multipart attachments. Like Jira, a ``key in (…)``
naming a missing issue is a 400.
"""

from __future__ import annotations

import base64
import re
import threading
from typing import Any

from werkzeug.wrappers import Request, Response

from tests.contract.server import json_response

__all__ = ["JiraFake"]

_STATUS = {
    "To Do": {"name": "To Do", "statusCategory": {"key": "new", "name": "To Do"}},
    "In Progress": {"name": "In Progress", "statusCategory": {"key": "indeterminate", "name": "In Progress"}},
    "Done": {"name": "Done", "statusCategory": {"key": "done", "name": "Done"}},
}


class JiraFake:
    def __init__(self, *, email: str = "bot@example.com", token: str = "jira-secret-token-123") -> None:
        self._auth = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode()
        self._lock = threading.Lock()
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.remote_links: dict[str, dict[str, dict[str, Any]]] = {}
        self.attachments: dict[str, list[dict[str, Any]]] = {}
        self.create_requests: list[dict[str, Any]] = []
        self._seq = 0

    def add_issue(
        self, summary: str, description: Any = None, *, status: str = "To Do", project: str = "PAY"
    ) -> str:
        """Seed an existing issue; returns its key."""
        with self._lock:
            return self._new_issue(
                {
                    "project": {"key": project},
                    "summary": summary,
                    "description": description,
                    "labels": [],
                    "issuetype": {"name": "Bug"},
                },
                status,
            )

    def resolve(self, key: str, resolution: str = "Fixed") -> None:
        with self._lock:
            f = self.issues[key]["fields"]
            f["status"] = _STATUS["Done"]
            f["resolution"] = {"name": resolution}
            f["resolutiondate"] = "2026-02-01T10:00:00.000+00:00"

    def _new_issue(self, fields: dict[str, Any], status: str = "To Do") -> str:
        self._seq += 1
        project = (fields.get("project") or {}).get("key", "PAY")
        key = f"{project}-{self._seq}"
        self.issues[key] = {
            "id": str(10000 + self._seq),
            "key": key,
            "self": f"http://jira.local/rest/api/3/issue/{10000 + self._seq}",
            "fields": {
                **fields,
                "status": _STATUS[status],
                "resolution": None,
                "resolutiondate": None,
                "attachment": [],
            },
        }
        return key

    # --- HTTP ----------------------------------------------------------------------------------------
    def __call__(self, request: Request) -> Response:
        if request.headers.get("Authorization") != self._auth:
            return json_response(
                {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}},
                401,
            )
        p, m = request.path, request.method
        if p == "/rest/api/3/myself" and m == "GET":
            return json_response(
                {"accountId": "5b10a2844c20165700ede21g", "displayName": "paytriage bot", "active": True}
            )
        if p == "/rest/api/3/issue" and m == "POST":
            return self._create(request)
        if p == "/rest/api/3/search/jql" and m == "POST":
            return self._search(request.get_json() or {})
        mm = re.fullmatch(r"/rest/api/3/issue/([^/]+)(?:/(comment|remotelink|attachments))?", p)
        if mm:
            key, sub = mm.group(1), mm.group(2)
            with self._lock:
                if key not in self.issues:
                    return json_response(
                        {
                            "errorMessages": [
                                "Issue does not exist or you do not have permission to see it."
                            ],
                            "errors": {},
                        },
                        404,
                    )
            if sub is None and m == "GET":
                return self._get(request, key)
            if sub == "comment":
                return self._comment(request, key)
            if sub == "remotelink" and m == "POST":
                return self._remote_link(request, key)
            if sub == "attachments" and m == "POST":
                return self._attach(request, key)
        return json_response({"errorMessages": ["not found"], "errors": {}}, 404)

    def _create(self, request: Request) -> Response:
        body = request.get_json() or {}
        fields = body.get("fields") or {}
        errors = {}
        for required in ("project", "summary", "issuetype"):
            if not fields.get(required):
                errors[required] = f"{required} is required."
        if errors:
            return json_response({"errorMessages": [], "errors": errors}, 400)
        with self._lock:
            self.create_requests.append(body)
            key = self._new_issue(dict(fields))
            issue = self.issues[key]
        return json_response({"id": issue["id"], "key": key, "self": issue["self"]}, 201)

    def _pick(self, issue: dict[str, Any], fields: list[str] | None) -> dict[str, Any]:
        f = issue["fields"]
        chosen = f if not fields else {k: f.get(k) for k in fields if k in f}
        return {"id": issue["id"], "key": issue["key"], "self": issue["self"], "fields": chosen}

    def _search(self, body: dict[str, Any]) -> Response:
        jql = str(body.get("jql") or "")
        fields = body.get("fields")
        with self._lock:
            issues = list(self.issues.values())
            keys = re.search(r"key in \(([^)]*)\)", jql)
            if keys:
                wanted = [k.strip() for k in keys.group(1).split(",") if k.strip()]
                missing = [k for k in wanted if k not in self.issues]
                if missing:
                    return json_response(
                        {
                            "errorMessages": [
                                f"An issue with key '{missing[0]}' does not exist for field 'key'."
                            ],
                            "errors": {},
                        },
                        400,
                    )
                issues = [self.issues[k] for k in wanted]
            if m := re.search(r'project = "?([A-Z0-9_]+)"?', jql):
                issues = [i for i in issues if i["key"].startswith(m.group(1) + "-")]
            if m := re.search(r'labels = "([^"]+)"', jql):
                issues = [i for i in issues if m.group(1) in (i["fields"].get("labels") or [])]
            if "statusCategory != Done" in jql:
                issues = [i for i in issues if i["fields"]["status"]["statusCategory"]["key"] != "done"]
            start = int(body.get("nextPageToken") or 0)
            size = int(body.get("maxResults") or 50)
            page = issues[start : start + size]
            out: dict[str, Any] = {
                "issues": [self._pick(i, fields) for i in page],
                "isLast": start + size >= len(issues),
            }
            if not out["isLast"]:
                out["nextPageToken"] = str(start + size)
        return json_response(out)

    def _get(self, request: Request, key: str) -> Response:
        fields = [f for v in request.args.getlist("fields") for f in v.split(",") if f]
        with self._lock:
            return json_response(self._pick(self.issues[key], fields or None))

    def _comment(self, request: Request, key: str) -> Response:
        with self._lock:
            if request.method == "GET":
                cs = self.comments.get(key, [])
                expand = "properties" in (request.args.get("expand") or "")
                shown = [c if expand else {k: v for k, v in c.items() if k != "properties"} for c in cs]
                return json_response({"comments": shown, "startAt": 0, "maxResults": 100, "total": len(cs)})
            body = request.get_json() or {}
            comment = {
                "id": str(20000 + sum(len(v) for v in self.comments.values()) + 1),
                "self": f"http://jira.local/rest/api/3/issue/{key}/comment",
                "body": body.get("body"),
                "properties": body.get("properties") or [],
                "created": "2026-02-01T10:00:00.000+00:00",
                "updated": "2026-02-01T10:00:00.000+00:00",
            }
            self.comments.setdefault(key, []).append(comment)
        return json_response(comment, 201)

    def _remote_link(self, request: Request, key: str) -> Response:
        body = request.get_json() or {}
        with self._lock:
            links = self.remote_links.setdefault(key, {})
            gid = body.get("globalId") or f"auto-{len(links)}"
            status = 200 if gid in links else 201
            link_id = (
                links[gid]["id"] if gid in links else 30000 + sum(len(v) for v in self.remote_links.values())
            )
            links[gid] = {**body, "id": link_id}
        return json_response(
            {"id": link_id, "self": f"http://jira.local/rest/api/3/issue/{key}/remotelink/{link_id}"}, status
        )

    def _attach(self, request: Request, key: str) -> Response:
        if request.headers.get("X-Atlassian-Token") != "no-check":
            return json_response({"errorMessages": ["XSRF check failed"], "errors": {}}, 403)
        if not request.files.getlist("file"):
            return json_response(
                {"errorMessages": ["no 'file' part in the multipart body"], "errors": {}}, 400
            )
        out = []
        with self._lock:
            for storage in request.files.getlist("file"):
                data = storage.read()
                att = {
                    "id": str(40000 + len(self.attachments.get(key, [])) + 1),
                    "filename": storage.filename,
                    "size": len(data),
                    "mimeType": storage.mimetype or "application/octet-stream",
                    "content": f"http://jira.local/rest/api/3/attachment/content/{key}",
                }
                self.attachments.setdefault(key, []).append(att)
                self.issues[key]["fields"]["attachment"].append(att)
                out.append(att)
        return json_response(out)
