"""Ticket text as people write it, Tier-1 notes and tags, ground-truth rows and CSAT/NPS surveys.

Text comes from the grammar in ``phrases.yaml``; each ticket is then roughened according to who wrote
it. Some consumers paste a full card number and CVV (Luhn-valid), developers paste API responses.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml

from paytriage.sandbox.cases import Case
from paytriage.sandbox.grammar import Grammar, expand, roughen
from paytriage.sandbox.logs import iso

__all__ = ["GT_COLUMNS", "SURVEY_COLUMNS", "TicketWriter", "load_grammar"]

GT_COLUMNS = (
    "ticket_id",
    "created_at",
    "category",
    "route",
    "priority",
    "incident_id",
    "escalation_needed",
    "transaction_id",
    "situation",
    "register",
    "pan_pasted",
)
SURVEY_COLUMNS = ("ticket_id", "responded_at", "csat", "nps", "comment")

_SUMMARY = {
    "decline": ("card declined", "payment keeps failing", "cant pay", "declines"),
    "threeds": ("3ds issue", "verification fails at checkout", "stuck on bank page"),
    "pending": ("payment pending", "money gone but not received", "topup not credited"),
    "double_charge": ("double charge", "charged twice", "wants refund of duplicate"),
    "refund": ("refund not received", "refund issue", "refund amount wrong", "wants money back"),
    "payout": ("payout missing", "settlement late", "withdrawal not arrived"),
    "transfer": ("transfer issue", "money sent not received"),
    "binding": ("cant add card", "card linking fails"),
    "card_management": ("card issue", "card block/limit"),
    "chargeback": ("dispute", "chargeback q"),
    "fees": ("fee question", "fx complaint"),
    "api_error": ("api errors", "integration broken", "tech issue"),
    "webhooks": ("orders not updating", "webhook issue", "tech issue"),
    "login": ("cant login", "access issue"),
    "kyc": ("verification problem", "account limited", "docs upload"),
    "fraud": ("unauthorised txn", "security"),
    "reconciliation": ("report mismatch", "recon question"),
    "profile": ("account change", "profile update"),
    "other": ("general q", "misc"),
    "api_howto": ("integration question", "dev question"),
}
#: Tier-1 tag vocabulary (not the taxonomy): guesses agents pick from a dropdown.
_TAGS = (
    "payments",
    "card",
    "refund_request",
    "billing",
    "tech",
    "account",
    "merchant",
    "urgent",
    "vip",
    "complaint",
    "dispute",
    "payout",
    "login",
    "verification",
    "security",
    "question",
)
_SURVEY_COMMENTS = {
    "good": ("Quick and helpful, thanks", "Solved", "Great support", "Finally sorted", ""),
    "bad": (
        "Took way too long",
        "Nobody really explained what happened",
        "Still not fixed properly",
        "Had to write three times",
        "Money came back but no apology",
        "",
    ),
}


def load_grammar() -> tuple[Grammar, dict[str, Any]]:
    """Grammar rules (fragments + ``situation.register`` + ``howto.intent``) and the raw document."""
    doc = yaml.safe_load(resources.files("paytriage.sandbox").joinpath("phrases.yaml").read_text("utf-8"))
    rules: dict[str, list[str]] = dict(doc["fragments"])
    for sit, parts in doc["situations"].items():
        for reg, templates in parts.items():
            rules[f"{sit}.{reg}"] = templates
    for intent, templates in doc["howto"].items():
        rules[f"howto.{intent}"] = templates
    for quality, templates in doc["tier1_notes"].items():
        rules[f"note.{quality}"] = templates
    return Grammar(rules), doc


class TicketWriter:
    """Turns a :class:`Case` into the ticket record, its ground-truth row and maybe a survey row."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.grammar, _ = load_grammar()
        self.pan_pasted = 0

    def _when(self, t: float, created: float) -> dict[str, str]:
        d = datetime.fromtimestamp(t, UTC)
        fmt = self.rng.choice(("%d/%m", "%b %d", "%d.%m.%Y", "%Y-%m-%d", "%m/%d", "%A", "%d %B"))
        return {
            "date": d.strftime(fmt).lstrip("0"),
            "time": d.strftime(self.rng.choice(("%H:%M", "%I%p", "%H.%M"))),
        }

    def render(self, case: Case, ticket_id: str, created: float) -> tuple[dict[str, Any], dict[str, Any]]:
        rng = self.rng
        g = self.grammar
        c = case.customer
        business = case.register != "consumer"
        first = (
            c.name.split()[0]
            if c and not business
            else rng.choice(("Sam", "Alex", "Kim", "Jo", "Maria", "Tom", "Lena", "Ravi", "Yuki"))
        )
        slots = {
            **case.slots,
            **self._when(case.t, created),
            "first": first,
            "role": g.say("role", rng, {}),
            "name": (c.name if c and not business else f"{first} {rng.choice(('Becker', 'Ito', 'Clarke'))}"),
        }
        slots["when"] = g.say("when", rng, slots)
        if case.situation.startswith("howto:"):
            body = g.say("howto." + case.situation[6:], rng, slots)
            subject = rng.choice(("Question", "quick question", "How to?", "Help", "", body[:40]))
        else:
            reg = case.register
            key = f"{case.situation}.{reg}"
            if key not in g.rules:
                key = next(
                    f"{case.situation}.{r}"
                    for r in ("merchant", "consumer", "developer", "finance")
                    if f"{case.situation}.{r}" in g.rules
                )
            body = g.say(key, rng, slots)
            subject = g.say(f"{case.situation}.subject", rng, slots) if rng.random() < 0.85 else ""
        parts = [g.say("hi_business" if business else "hi_consumer", rng, slots)]
        angry = rng.random() < (0.25 if case.priority in ("P1", "P2") else 0.1)
        if angry and rng.random() < 0.5:
            parts.append(g.say("anger", rng, slots))
        parts.append(body)
        if (
            "{paste}" not in str(g.rules.get(f"{case.situation}.{case.register}", ""))
            and case.slots.get("paste")
            and business
            and rng.random() < 0.3
        ):
            parts.append(
                rng.choice(("Response we get:", "Error:", "From our logs:", "")) + "\n" + case.slots["paste"]
            )
        if rng.random() < 0.3:
            parts.append(g.say("chatter", rng, slots))
        if angry:
            parts.append(g.say("anger", rng, slots))
        elif business and rng.random() < 0.3:
            parts.append(g.say("urgency", rng, slots))
        pan = False
        if c is not None and not business and rng.random() < 0.05:
            pan = True
            parts.append(self._pan_text(c.pan, c.expiry))
        parts.append(g.say("bye_business" if business else "bye_consumer", rng, slots))
        text = "\n\n".join(p for p in parts if p)
        noise = {
            "consumer": rng.uniform(0.2, 1.0),
            "merchant": rng.uniform(0.05, 0.5),
            "developer": rng.uniform(0.0, 0.2),
            "finance": rng.uniform(0.0, 0.15),
        }[case.register]
        channel = self._channel(business)
        if channel == "phone":
            text = f"Caller ({'merchant' if business else 'customer'}) says: " + body
        elif noise > 0:
            text = roughen(text, rng, noise) if not pan else text
        ticket = self._record(case, ticket_id, created, subject, text, channel, first)
        tx = case.tx
        gt = {
            "ticket_id": ticket_id,
            "created_at": iso(created),
            "category": case.category,
            "route": case.route,
            "priority": case.priority,
            "incident_id": case.incident.id if case.incident else "",
            "escalation_needed": "true" if case.needed else "false",
            "transaction_id": tx["id"] if tx else "",
            "situation": case.situation,
            "register": case.register,
            "pan_pasted": "true" if pan else "false",
        }
        self.pan_pasted += pan
        return ticket, gt

    def _pan_text(self, pan: str, expiry: str) -> str:
        rng = self.rng
        shown = pan if rng.random() < 0.5 else " ".join(pan[i : i + 4] for i in range(0, len(pan), 4))
        cvv = f"{rng.randrange(1000) if len(pan) == 15 else rng.randrange(100, 1000):03d}"
        return expand(
            rng.choice(
                (
                    "[my|the] card [number|no] is {pan} [exp {exp}|] [cvv {cvv}|cvc: {cvv}|]",
                    "[Here are my card details|card details below] so you can check: "
                    "{pan}[ {exp}| exp {exp}] [CVV {cvv}|security code {cvv}]",
                    "card: {pan}",
                )
            ),
            rng,
            {"pan": shown, "exp": expiry, "cvv": cvv},
        )

    def _channel(self, business: bool) -> str:
        opts = ("email", "web", "chat") if business else ("chat", "email", "web", "phone", "social")
        w = (50, 40, 10) if business else (35, 30, 20, 10, 5)
        return self.rng.choices(opts, weights=w)[0]

    def _record(
        self, case: Case, tid: str, created: float, subject: str, text: str, channel: str, first: str
    ) -> dict[str, Any]:
        rng = self.rng
        m, c = case.merchant, case.customer
        business = case.register != "consumer"
        rec: dict[str, Any] = {
            "id": tid,
            "created_at": iso(created),
            "subject": subject,
            "description": text,
            "channel": channel,
            "status": "escalated",
            "priority": rng.choices(("low", "normal", "high", "urgent"), weights=_T1_PRIORITY[case.priority])[
                0
            ],
        }
        if business:
            rec["requester_email"] = f"{first.lower()}@{m.domain}"
            rec["organization"] = m.name
            rec["merchant_id"] = m.id
            rec["merchant_tier"] = m.tier
            rec["country"] = m.country
            if rng.random() < 0.6:
                rec["integration"] = f"{m.integration} {m.integration_version}"
        elif c is not None:
            rec["requester_id"] = c.id
            rec["requester_email"] = c.email
            rec["country"] = c.country
            if rng.random() < 0.5:
                rec["merchant_id"] = m.id
            rec["app_version"] = rng.choice(("7.12.0", "7.13.1", "7.14.0", "web"))
        if case.tx is not None and rng.random() < 0.45:
            rec["transaction_id"] = case.tx["id"]
        rec["tags"] = self._tags(case)
        agent = f"t1-{rng.randrange(1, 40):02d}"
        rec["tier1_agent"] = agent
        note = self._note(case)
        if note:
            rec["tier1_notes"] = note
        return rec

    def _tags(self, case: Case) -> list[str]:
        rng = self.rng
        tags = rng.sample(_TAGS, k=rng.randrange(0, 3))
        if case.merchant.tier == "enterprise" and case.register != "consumer":
            tags.append("vip")
        return sorted(set(tags))

    def _note(self, case: Case) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.2:
            return ""
        summary = rng.choice(_SUMMARY.get(case.situation, ("question", "see ticket")))
        tx = case.tx
        slots = {
            "summary": summary,
            "short": summary,
            "merchant_id": case.merchant.id,
            "tier": case.merchant.tier,
            "tx_ref": tx["id"] if tx else "n/a",
            "tx_status": tx["status"] if tx else "n/a",
            "code_note": f", code {tx['response_code']}" if tx and tx.get("response_code") else "",
        }
        quality = "good" if r < 0.55 else "poor"
        return self.grammar.say(f"note.{quality}", rng, slots)

    def survey(self, case: Case, tid: str, created: float) -> dict[str, Any] | None:
        """A CSAT/NPS answer for about a third of tickets, worse when it was slow or serious."""
        rng = self.rng
        if rng.random() > 0.3:
            return None
        hours = rng.lognormvariate(3.0 if case.needed else 1.5, 0.8)
        base = (
            4.3 - 0.02 * hours - (0.6 if case.priority in ("P1", "P2") else 0) - (0.5 if case.incident else 0)
        )
        csat = max(1, min(5, round(rng.gauss(base, 0.9))))
        nps = max(0, min(10, round(rng.gauss(csat * 2 - 0.5, 1.5))))
        comment = rng.choice(_SURVEY_COMMENTS["good" if csat >= 4 else "bad"])
        return {
            "ticket_id": tid,
            "responded_at": iso(created + hours * 3600 + 3600),
            "csat": csat,
            "nps": nps,
            "comment": comment,
        }


_T1_PRIORITY = {"P1": (0, 2, 4, 4), "P2": (1, 3, 4, 2), "P3": (2, 6, 2, 1), "P4": (4, 5, 1, 0)}
