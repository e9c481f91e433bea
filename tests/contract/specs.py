"""Load the vendors' OpenAPI documents, trimmed to the operations paytriage calls, for openapi-core.

Licences decide where each document comes from (see README.md here):

* Jira's document says Apache-2.0, so a trimmed copy (used operations + the components they reference,
  verbatim, with its ``info`` and licence) is kept at ``jira-v3-trimmed.json`` and the Jira contract tests
  always run. ``python -m tests.contract.specs`` regenerates it from the shared copy, and a test checks the
  kept copy equals a fresh trim whenever the shared copy is present.
* Zendesk's document carries no licence, so nothing of it is copied: it is read from
  ``../shared/data/api_specs/zendesk/oas.yaml`` and the Zendesk contract tests skip when it is absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from openapi_core import Config, OpenAPI

__all__ = [
    "JIRA_OPERATIONS",
    "JIRA_TRIMMED",
    "JIRA_WAIVERS",
    "ZENDESK_OPERATIONS",
    "jira_openapi",
    "shared_spec_dir",
    "trim",
    "zendesk_openapi",
]

HERE = Path(__file__).resolve().parent
JIRA_TRIMMED = HERE / "jira-v3-trimmed.json"

JIRA_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("/rest/api/3/myself", "get"),
    ("/rest/api/3/issue", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}", "get"),
    ("/rest/api/3/search/jql", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "get"),
    ("/rest/api/3/issue/{issueIdOrKey}/comment", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}/remotelink", "post"),
    ("/rest/api/3/issue/{issueIdOrKey}/attachments", "post"),
)
ZENDESK_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("/api/v2/users/me", "get"),
    ("/api/v2/incremental/tickets/cursor", "get"),
    ("/api/v2/tickets/{ticket_id}/comments", "get"),
    ("/api/v2/tickets/{ticket_id}", "put"),
)


#: Known defects of the vendors' documents: (request line regex, error regex, why it is waived).
JIRA_WAIVERS: tuple[tuple[str, str, str], ...] = (
    (
        r"^POST /rest/api/3/issue/[^/]+/attachments$",
        r"not valid for schema of type array|is not of type 'array'",
        "Atlassian declares the multipart body as an array of MultipartFile, which no multipart form can "
        "match; the fake checks the 'file' parts and the X-Atlassian-Token header instead",
    ),
)


def shared_spec_dir() -> Path:
    base = os.environ.get("PAYTRIAGE_SHARED_DATA")
    root = Path(base) if base else HERE.parents[2] / "shared" / "data"
    return root / "api_specs"


def _refs(node: Any) -> Iterable[str]:
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                yield v
            else:
                yield from _refs(v)
    elif isinstance(node, list):
        for v in node:
            yield from _refs(v)


def trim(spec: dict[str, Any], operations: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The document with only ``operations`` and the components they reach (transitively), verbatim."""
    paths: dict[str, Any] = {}
    for path, method in operations:
        item = spec["paths"][path]
        kept = paths.setdefault(path, {k: v for k, v in item.items() if k in ("parameters", "summary")})
        kept[method] = item[method]
    out: dict[str, Any] = {k: v for k, v in spec.items() if k not in ("paths", "components", "tags")}
    out["paths"] = paths
    components: dict[str, dict[str, Any]] = {}
    if "securitySchemes" in spec.get("components", {}):
        components["securitySchemes"] = spec["components"]["securitySchemes"]
    todo = list(_refs(paths))
    seen: set[str] = set()
    while todo:
        ref = todo.pop()
        if ref in seen or not ref.startswith("#/components/"):
            continue
        seen.add(ref)
        _, _, kind, name = ref.split("/", 3)
        node = spec["components"][kind][name]
        components.setdefault(kind, {})[name] = node
        todo.extend(_refs(node))
    out["components"] = {k: dict(sorted(v.items())) for k, v in sorted(components.items())}
    return out


def _local_servers(spec: dict[str, Any]) -> dict[str, Any]:
    """Point ``servers`` at the root so any loopback host:port matches."""
    return {**spec, "servers": [{"url": "/"}]}


def _openapi(spec: dict[str, Any]) -> OpenAPI:
    return OpenAPI.from_dict(_local_servers(spec), config=Config(spec_validator_cls=None))


@lru_cache(maxsize=1)
def jira_openapi() -> OpenAPI:
    return _openapi(json.loads(JIRA_TRIMMED.read_text(encoding="utf-8")))


class _ZendeskLoader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML 1.2 reading: a bare ``=`` is a string (not 1.1's ``!!value``) and timestamps stay strings."""


_ZendeskLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))
_ZendeskLoader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def zendesk_spec_path() -> Path:
    return shared_spec_dir() / "zendesk" / "oas.yaml"


@lru_cache(maxsize=1)
def zendesk_openapi() -> OpenAPI | None:
    """None when the shared document is absent (callers skip)."""
    path = zendesk_spec_path()
    if not path.is_file():
        return None
    spec = yaml.load(path.read_text(encoding="utf-8"), Loader=_ZendeskLoader)
    return _openapi(trim(spec, ZENDESK_OPERATIONS))


def jira_trim_from_shared() -> str | None:
    """A fresh trim of the shared Jira document as the text kept in ``JIRA_TRIMMED``; None when absent."""
    path = shared_spec_dir() / "jira" / "swagger-v3.v3.json"
    if not path.is_file():
        return None
    raw = path.read_bytes()
    trimmed = trim(json.loads(raw), JIRA_OPERATIONS)
    trimmed["x-paytriage-trimmed-from"] = {
        "file": "api_specs/jira/swagger-v3.v3.json",
        "sha256": hashlib.sha256(raw).hexdigest(),
        "operations": [f"{m.upper()} {p}" for p, m in JIRA_OPERATIONS],
    }
    return json.dumps(trimmed, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def spec_path_for(url_path: str) -> str:
    """Zendesk serves every endpoint with or without ``.json``; the document lists them without."""
    return re.sub(r"\.json$", "", url_path)


if __name__ == "__main__":  # regenerate the kept Jira copy
    text = jira_trim_from_shared()
    if text is None:
        sys.exit(f"not found: {shared_spec_dir() / 'jira' / 'swagger-v3.v3.json'}")
    JIRA_TRIMMED.write_text(text, encoding="utf-8")
    print(f"wrote {JIRA_TRIMMED} ({len(text):,} characters)")
