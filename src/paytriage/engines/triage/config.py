"""Loading the editable triage configuration (taxonomy, routing, priority, knowledge articles).

Everything is plain YAML/Markdown under ``paytriage/config`` by default; a team points
``config_dir`` at its own copy. Invalid files raise :class:`ConfigurationError` naming the file and key.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from paytriage.domain.errors import ConfigurationError
from paytriage.domain.taxonomy import Category, Route, Taxonomy

__all__ = ["DEFAULT_CONFIG_DIR", "load_taxonomy", "load_yaml"]

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"


def load_yaml(path: Path) -> dict[str, Any]:
    """A YAML mapping, or a :class:`ConfigurationError` naming the file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}: expected a mapping at the top level")
    return data


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise ConfigurationError(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def load_taxonomy(path: Path) -> Taxonomy:
    """Parse ``taxonomy.yaml`` into a :class:`Taxonomy`."""
    data = load_yaml(path)
    raw = data.get("categories")
    if not isinstance(raw, list) or not raw:
        raise ConfigurationError(f"{path}: 'categories' must be a non-empty list")
    cats: list[Category] = []
    for i, item in enumerate(raw):
        where = f"{path}: categories[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ConfigurationError(f"{where}: each category needs a 'name'")
        try:
            route = Route(item.get("default_route", "tier2"))
        except ValueError:
            raise ConfigurationError(
                f"{where}.default_route: unknown route {item.get('default_route')!r}"
            ) from None
        cats.append(
            Category(
                name=item["name"],
                description=str(item.get("description", "")),
                default_route=route,
                keywords=_strings(item.get("keywords"), f"{where}.keywords"),
                examples=_strings(item.get("examples"), f"{where}.examples"),
            )
        )
    names = [c.name for c in cats]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"{path}: duplicate category names")
    return Taxonomy(version=str(data.get("version", "unversioned")), categories=cats)
