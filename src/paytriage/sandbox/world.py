"""The simulated population: merchants (with integrations and payout accounts) and customers (with cards).

Sizes grow with the ticket count but are capped, so memory stays bounded at any scale.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

from paytriage.sandbox.catalog import COUNTRIES, INTEGRATIONS, ISSUERS, PARTNER_BANKS, Issuer, PartnerBank
from paytriage.sandbox.draws import WeightedTable
from paytriage.sandbox.identifiers import IBAN_FORMATS, make_iban, make_pan

__all__ = ["MERCHANT_COLUMNS", "Customer", "Merchant", "World", "build_world"]

_ADJ = (
    "Blue",
    "Golden",
    "Little",
    "Urban",
    "Nordic",
    "Green",
    "Silver",
    "Happy",
    "Red",
    "Wild",
    "Bright",
    "Old",
    "Quiet",
    "Swift",
    "Lucky",
    "Copper",
    "Sunny",
    "Royal",
    "Clever",
    "Maple",
)
_NOUN = (
    "Fern",
    "Harbor",
    "Fox",
    "Lantern",
    "Bakery",
    "Cycles",
    "Threads",
    "Pantry",
    "Atelier",
    "Games",
    "Pixel",
    "Garden",
    "Tea House",
    "Outfitters",
    "Books",
    "Kitchen",
    "Studio",
    "Pharmacy",
    "Travel",
    "Audio",
)
_SUFFIX = ("", "", " GmbH", " Ltd", " SAS", " Inc.", " B.V.", " S.L.", " K.K.", " AB", " LLC", " Co.")
_FIRST = (
    "Anna",
    "Lukas",
    "Marie",
    "Jonas",
    "Sofia",
    "Liam",
    "Emma",
    "Noah",
    "Chloé",
    "Mateo",
    "Giulia",
    "Oliver",
    "Hannah",
    "Yuki",
    "Haruto",
    "Min-jun",
    "Olivia",
    "James",
    "Zofia",
    "Erik",
    "Aoife",
    "Lucas",
    "Camille",
    "Pablo",
    "Fatima",
    "Ahmed",
    "Priya",
    "Wei",
    "Grace",
    "Tom",
    "Sara",
    "Daniel",
)
_LAST = (
    "Müller",
    "Schmidt",
    "Martin",
    "Bernard",
    "de Vries",
    "García",
    "Rossi",
    "Smith",
    "Jones",
    "Kowalski",
    "Andersson",
    "Johnson",
    "Williams",
    "Tanaka",
    "Sato",
    "Kim",
    "Brown",
    "Murphy",
    "Dubois",
    "Fischer",
    "Lopez",
    "Nowak",
    "Silva",
    "Khan",
    "Patel",
    "Chen",
    "Taylor",
    "O'Brien",
    "Lindqvist",
    "Moreau",
)
_MCC = ("5411", "5651", "5732", "5812", "5942", "5977", "5999", "7011", "4121", "5816", "8299", "5691")

MERCHANT_COLUMNS = (
    "merchant_id",
    "name",
    "tier",
    "country",
    "currency",
    "integration_type",
    "integration",
    "integration_version",
    "mcc",
    "plan",
    "sso",
    "partner_bank",
    "payout_iban",
    "payout_account",
    "support_email",
    "webhook_url",
)


@dataclass(slots=True)
class Merchant:
    id: str
    name: str
    tier: str
    country: str
    currency: str
    integration_type: str
    integration: str
    integration_version: str
    mcc: str
    plan: str
    sso: str
    bank: PartnerBank
    iban: str
    account: str
    domain: str
    volume: float

    @property
    def client(self) -> str:
        """The User-Agent-like client string the gateway logs."""
        if self.integration_type == "api":
            return f"direct-api (version {self.integration_version})"
        return f"{self.integration}/{self.integration_version}"

    def row(self) -> dict[str, str]:
        return {
            "merchant_id": self.id,
            "name": self.name,
            "tier": self.tier,
            "country": self.country,
            "currency": self.currency,
            "integration_type": self.integration_type,
            "integration": self.integration,
            "integration_version": self.integration_version,
            "mcc": self.mcc,
            "plan": self.plan,
            "sso": self.sso,
            "partner_bank": self.bank.name,
            "payout_iban": self.iban,
            "payout_account": self.account,
            "support_email": f"payments@{self.domain}",
            "webhook_url": f"https://{self.domain}/hooks/pay",
        }


@dataclass(slots=True)
class Customer:
    id: str
    name: str
    email: str
    country: str
    issuer: Issuer
    pan: str
    expiry: str
    iban: str

    @property
    def bin6(self) -> str:
        return self.pan[:6]

    @property
    def last4(self) -> str:
        return self.pan[-4:]


@dataclass(slots=True)
class World:
    merchants: list[Merchant]
    customers: list[Customer]
    merchant_cum: list[float]
    by_country: dict[str, list[Customer]]
    _merchant_table: WeightedTable[Merchant] | None = None

    def pick_merchant(self, rng: random.Random) -> Merchant:
        """A merchant weighted by volume (same draw as ``choices(cum_weights=merchant_cum)``)."""
        table = self._merchant_table
        if table is None:
            table = self._merchant_table = WeightedTable(self.merchants, self.merchant_cum, cum=True)
        return table.draw(rng)

    def pick_customer(self, rng: random.Random, country: str | None = None) -> Customer:
        pool = self.by_country.get(country, self.customers) if country else self.customers
        return pool[rng.randrange(len(pool))]

    def write_merchants(self, path: Path) -> None:
        with path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=MERCHANT_COLUMNS, lineterminator="\n")
            w.writeheader()
            for m in self.merchants:
                w.writerow(m.row())


def _bank_for(currency: str, rng: random.Random) -> PartnerBank:
    banks = [b for b in PARTNER_BANKS if b.currency == currency]
    return rng.choice(banks) if banks else PARTNER_BANKS[3]


def _merchant(rng: random.Random, i: int) -> Merchant:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    tier = rng.choices(("enterprise", "mid-market", "small"), weights=(8, 27, 65))[0]
    itype, integ, versions = rng.choices(INTEGRATIONS, weights=(30, 22, 8, 5, 4, 9, 9, 8, 5))[0]
    # Older versions linger: weight decreases towards the newest release only slightly.
    version = rng.choices(versions, weights=[1.0 + 0.3 * k for k in range(len(versions))])[0]
    name = f"{rng.choice(_ADJ)} {rng.choice(_NOUN)}{rng.choice(_SUFFIX)}"
    slug = "".join(ch for ch in name.lower() if ch.isalnum())[:18]
    bank = _bank_for(country.currency, rng)
    iban = make_iban(rng, country.code) if country.code in IBAN_FORMATS else ""
    account = "" if iban else f"{rng.randrange(10**8, 10**9)}-{rng.randrange(1000, 9999)}"
    plan = {"enterprise": "custom", "mid-market": "growth", "small": rng.choice(("starter", "standard"))}[
        tier
    ]
    sso = "saml" if tier == "enterprise" and rng.random() < 0.7 else ("google" if rng.random() < 0.2 else "")
    volume = {"enterprise": 25.0, "mid-market": 5.0, "small": 1.0}[tier] * rng.uniform(0.5, 1.5)
    return Merchant(
        id=f"m_{i:05d}{rng.randrange(36**3):03x}",
        name=name,
        tier=tier,
        country=country.code,
        currency=country.currency,
        integration_type=itype,
        integration=integ,
        integration_version=version,
        mcc=rng.choice(_MCC),
        plan=plan,
        sso=sso,
        bank=bank,
        iban=iban,
        account=account,
        domain=f"{slug}.example",
        volume=volume,
    )


def _customer(rng: random.Random, i: int, issuers_by_country: dict[str, list[Issuer]]) -> Customer:
    country = rng.choices(COUNTRIES, weights=[c.weight for c in COUNTRIES])[0]
    issuer = rng.choice(issuers_by_country[country.code])
    bin6 = rng.choice(issuer.bins)
    pan = make_pan(rng, bin6, 15 if issuer.scheme == "amex" else 16)
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    handle = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    suffix = rng.randrange(100) if rng.random() < 0.5 else ""
    email = f"{handle}{suffix}@{rng.choice(('mail.example', 'inbox.example', 'post.example'))}"
    expiry = f"{rng.randrange(1, 13):02d}/{rng.randrange(26, 31)}"
    iban = make_iban(rng, country.code) if country.code in IBAN_FORMATS else ""
    return Customer(
        id=f"cus_{i:06d}",
        name=f"{first} {last}",
        email=email,
        country=country.code,
        issuer=issuer,
        pan=pan,
        expiry=expiry,
        iban=iban,
    )


def _ensure_coverage(rng: random.Random, merchants: list[Merchant]) -> None:
    """Small worlds still hold every segment an incident can hit (banks, old plugins, SDKs, SSO, plans)."""
    picks = iter(rng.sample(range(len(merchants)), k=min(len(merchants), 24)))

    def relocate(m: Merchant, bank: PartnerBank) -> None:
        m.country, m.currency, m.bank = bank.country, bank.currency, bank
        m.iban = make_iban(rng, bank.country) if bank.country in IBAN_FORMATS else ""
        m.account = "" if m.iban else f"{rng.randrange(10**8, 10**9)}-{rng.randrange(1000, 9999)}"

    for bank in PARTNER_BANKS:
        relocate(merchants[next(picks)], bank)
    for itype, integ, versions in INTEGRATIONS:
        if itype == "api":
            continue
        m = merchants[next(picks)]
        m.integration_type, m.integration = itype, integ
        m.integration_version = versions[0] if itype == "plugin" else versions[-1]
    segments = (("enterprise", "custom", "saml"), ("mid-market", "growth", ""), ("small", "standard", ""))
    for tier, plan, sso in segments:
        m = merchants[next(picks)]
        m.tier, m.plan, m.sso = tier, plan, sso


def build_world(rng: random.Random, tickets: int) -> World:
    """Merchants and customers sized to the run (capped so memory is bounded)."""
    n_merchants = max(30, min(3000, tickets // 8))
    n_customers = max(300, min(40000, tickets * 2))
    issuers_by_country: dict[str, list[Issuer]] = {}
    for iss in ISSUERS:
        issuers_by_country.setdefault(iss.country, []).append(iss)
    merchants = [_merchant(rng, i) for i in range(n_merchants)]
    _ensure_coverage(rng, merchants)
    customers = [_customer(rng, i, issuers_by_country) for i in range(n_customers)]
    by_country: dict[str, list[Customer]] = {}
    for c in customers:
        by_country.setdefault(c.country, []).append(c)
    return World(
        merchants=merchants,
        customers=customers,
        merchant_cum=list(accumulate(m.volume for m in merchants)),
        by_country=by_country,
    )
