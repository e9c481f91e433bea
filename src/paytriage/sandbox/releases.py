"""Release history per component; incident-causing releases hide among ordinary ones with ordinary notes."""

from __future__ import annotations

import random

from paytriage.sandbox.incidents import Incident, release_component

__all__ = ["COMPONENTS", "plan_releases"]

COMPONENTS: dict[str, tuple[str, ...]] = {
    "api-gateway": (
        "Bump envoy to 1.29",
        "Config: tune connection pools",
        "Add request tracing headers",
        "Config: per-plan limits refactor",
        "Routing table cleanup",
    ),
    "payments-core": (
        "Refactor authorization state machine",
        "Upgrade scheme connector client",
        "Add metrics for capture latency",
        "Improve retry logging",
        "Dependency updates",
    ),
    "refund-service": (
        "Amount conversion moved to shared money library",
        "Partial refund validation",
        "Dependency updates",
        "Faster refund status polling",
        "Refactor ledger posting",
    ),
    "webhook-dispatcher": (
        "Signing: support rotating secrets",
        "Retry backoff tweaks",
        "Dependency updates",
        "New event types for disputes",
        "Header cleanup",
    ),
    "payouts": ("Bank file generator refactor", "Add payout batch metrics", "Dependency updates"),
    "identity": ("Session cookie hardening", "Update IdP metadata handling", "Dependency updates"),
    "kyc-service": (
        "Upload pipeline: new virus scanner",
        "Image preprocessing refactor",
        "Dependency updates",
        "Accepted formats moved to config",
    ),
    "3ds-server": ("EMV 3DS 2.3 message fields", "Timeout settings moved to config", "Dependency updates"),
    "dashboard": ("New reports page", "Navigation redesign", "Fix export button", "Dependency updates"),
    "ios-sdk": ("Network layer rewrite", "Faster card form", "Accessibility fixes"),
    "android-sdk": ("Network layer rewrite", "Kotlin 2.0", "Card scanner improvements"),
}


def plan_releases(
    rng: random.Random, incidents: list[Incident], t_start: float, t_end: float
) -> list[tuple[float, str, str, str]]:
    """``(time, component, version, notes)`` rows; sets ``incident.release`` for release-caused incidents."""
    times: dict[str, list[tuple[float, str, Incident | None]]] = {c: [] for c in COMPONENTS}
    for comp, notes in COMPONENTS.items():
        t = t_start + rng.uniform(0, 3) * 86400
        while t < t_end:
            day_t = t - t % 86400 + rng.uniform(8, 18) * 3600
            times[comp].append((day_t, rng.choice(notes), None))
            t += rng.expovariate(1 / (3.5 * 86400))
    for inc in incidents:
        found = release_component(inc.kind.name)
        if found is None:
            continue
        comp = found
        if comp == "sdk":
            comp = str(inc.segment["integration"])
        notes = COMPONENTS[comp]
        times[comp].append((inc.start - rng.uniform(120, 1800), rng.choice(notes), inc))
        times[comp].append(
            (
                float(inc.end),
                rng.choice(("Revert previous release", "Hotfix", "Bug fixes", "Dependency updates")),
                None,
            )
        )
    rows: list[tuple[float, str, str, str]] = []
    for comp, items in times.items():
        major, minor, patch = rng.randrange(1, 6), rng.randrange(0, 20), 0
        for t, note, cause in sorted(items, key=lambda x: x[0]):
            if rng.random() < 0.3:
                minor, patch = minor + 1, 0
            else:
                patch += 1
            version = f"{major}.{minor}.{patch}"
            if cause is not None and comp.endswith("-sdk"):
                version = str(cause.segment["version"])
            if cause is not None:
                cause.release = (comp, version)
            rows.append((round(t, 3), comp, version, note))
    return rows
