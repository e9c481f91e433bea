"""One merged timeline of a case: tickets, transaction lifecycles, log events and releases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from paytriage.domain import LogEvent, Release, Ticket, Transaction

__all__ = ["EntryKind", "TimelineEntry", "build_timeline", "release_window"]


class EntryKind(StrEnum):
    TICKET = "ticket"
    TRANSACTION = "transaction"
    LOG = "log"
    RELEASE = "release"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: EntryKind
    text: str
    ref: str | None = None
    level: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "kind": self.kind.value,
            "text": self.text,
            "ref": self.ref,
            "level": self.level,
        }


def build_timeline(
    *,
    tickets: Sequence[Ticket],
    transactions: Sequence[Transaction],
    logs: Sequence[LogEvent],
    releases: Sequence[Release] = (),
    limit: int = 200,
) -> list[TimelineEntry]:
    """Everything in time order; log lines are cut to their first line (stack traces stay in storage)."""
    out: list[TimelineEntry] = []
    for t in tickets:
        out.append(
            TimelineEntry(
                t.created_at,
                EntryKind.TICKET,
                f"ticket {t.external_id}: {t.subject or t.description[:80]}",
                t.external_id,
            )
        )
    seen: set[str] = set()
    for x in transactions:
        if x.external_id in seen:
            continue
        seen.add(x.external_id)
        label = f"{x.kind.value} {x.external_id} {x.amount}"
        if not x.events:
            out.append(
                TimelineEntry(x.created_at, EntryKind.TRANSACTION, f"{label} {x.status.value}", x.external_id)
            )
        for e in x.events:
            extra = " ".join(v for v in (e.code, e.detail) if v)
            out.append(
                TimelineEntry(
                    e.at,
                    EntryKind.TRANSACTION,
                    f"{label} → {e.status.value}" + (f" ({extra})" if extra else ""),
                    x.external_id,
                )
            )
    for ev in logs:
        out.append(
            TimelineEntry(
                ev.timestamp,
                EntryKind.LOG,
                f"[{ev.service or ev.source}] {ev.message.split(chr(10))[0][:240]}",
                ev.fingerprint,
                ev.level.value,
            )
        )
    for r in releases:
        out.append(
            TimelineEntry(
                r.released_at,
                EntryKind.RELEASE,
                f"release {r.component} {r.version} {r.notes}".strip(),
                f"{r.component}@{r.version}",
            )
        )
    out.sort(key=lambda e: (e.at, e.kind.value))
    if len(out) > limit:  # keep tickets and releases, thin the rest from the oldest
        keep = [e for e in out if e.kind in (EntryKind.TICKET, EntryKind.RELEASE)]
        rest = [e for e in out if e.kind not in (EntryKind.TICKET, EntryKind.RELEASE)]
        out = sorted(
            keep + rest[-(limit - len(keep)) :] if limit > len(keep) else keep,
            key=lambda e: (e.at, e.kind.value),
        )
    return out


def release_window(focus: datetime) -> tuple[datetime, datetime]:
    """Releases shown on a timeline: the day before the focus up to two hours after."""
    return focus - timedelta(hours=24), focus + timedelta(hours=2)
