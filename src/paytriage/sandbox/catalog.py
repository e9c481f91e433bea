"""Static reference tables of the simulated payments world: countries, issuers, banks, integrations.

Names are fictitious; shapes are real (BIN prefixes per scheme, ISO 8583 response codes with the
gateway reason a PSP would show, currencies with their ISO 4217 exponent).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COUNTRIES",
    "DECLINE_MIX",
    "INTEGRATIONS",
    "ISSUERS",
    "PARTNER_BANKS",
    "Country",
    "Decline",
    "Issuer",
    "PartnerBank",
]


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    currency: str
    weight: float
    language_hint: str


COUNTRIES: tuple[Country, ...] = (
    Country("DE", "EUR", 14, "de"),
    Country("FR", "EUR", 10, "fr"),
    Country("NL", "EUR", 6, "nl"),
    Country("ES", "EUR", 6, "es"),
    Country("IT", "EUR", 6, "it"),
    Country("IE", "EUR", 2, "en"),
    Country("AT", "EUR", 2, "de"),
    Country("BE", "EUR", 2, "nl"),
    Country("GB", "GBP", 14, "en"),
    Country("PL", "PLN", 3, "pl"),
    Country("SE", "SEK", 3, "sv"),
    Country("US", "USD", 18, "en"),
    Country("JP", "JPY", 7, "ja"),
    Country("KR", "KRW", 2, "ko"),
    Country("CA", "CAD", 3, "en"),
    Country("AU", "AUD", 2, "en"),
)


@dataclass(frozen=True, slots=True)
class Issuer:
    """A card issuer with the BIN prefixes it owns (six digits each)."""

    name: str
    country: str
    scheme: str
    bins: tuple[str, ...]


ISSUERS: tuple[Issuer, ...] = (
    Issuer("Nordhafen Sparkasse", "DE", "visa", ("457100", "457101", "457102", "457118")),
    Issuer("Rheinland Direktbank", "DE", "mastercard", ("522841", "522842", "540190")),
    Issuer("Banque du Littoral", "FR", "visa", ("497010", "497011", "497040")),
    Issuer("Crédit Provençal", "FR", "mastercard", ("513290", "513291")),
    Issuer("Lage Landen Bank", "NL", "mastercard", ("535110", "535112")),
    Issuer("Banco Alcántara", "ES", "visa", ("454312", "454313", "454399")),
    Issuer("Banca Meridiana", "IT", "visa", ("402360", "402361")),
    Issuer("Liffey Credit Union", "IE", "mastercard", ("539923",)),
    Issuer("Alpenland Bank", "AT", "visa", ("416598",)),
    Issuer("Schelde Bank", "BE", "mastercard", ("517860",)),
    Issuer("Thameside Bank", "GB", "visa", ("465901", "465902", "475129")),
    Issuer("Pennine Building Society", "GB", "mastercard", ("518652", "518653")),
    Issuer("Wisła Bank", "PL", "visa", ("440647",)),
    Issuer("Mälar Sparbank", "SE", "mastercard", ("557039",)),
    Issuer("Great Lakes National", "US", "visa", ("414720", "414709", "426684", "440393")),
    Issuer("Sierra Pacific Card Services", "US", "mastercard", ("542418", "542419", "222300")),
    Issuer("Hudson Amex Partners", "US", "amex", ("371449", "378282")),
    Issuer("Sakura Shinkin Card", "JP", "jcb", ("354511", "356600")),
    Issuer("Edo Trust Card", "JP", "visa", ("498824",)),
    Issuer("Han River Card", "KR", "mastercard", ("536510",)),
    Issuer("Maple Leaf Trust", "CA", "visa", ("450003",)),
    Issuer("Coral Coast Bank", "AU", "mastercard", ("521729",)),
)


@dataclass(frozen=True, slots=True)
class PartnerBank:
    """A bank the platform pays merchants out through, and the statement format it sends."""

    name: str
    bic: str
    country: str
    currency: str
    statement_format: str  # "mt940" or "camt053"


PARTNER_BANKS: tuple[PartnerBank, ...] = (
    PartnerBank("Hanse Handelsbank", "HANSDEFFXXX", "DE", "EUR", "camt053"),
    PartnerBank("Banca Adriatica", "ADRIITMMXXX", "IT", "EUR", "mt940"),
    PartnerBank("Thames Clearing Bank", "THCLGB2LXXX", "GB", "GBP", "mt940"),
    PartnerBank("Liberty Settlement Bank", "LSBKUS33XXX", "US", "USD", "mt940"),
    PartnerBank("Kanto Settlement Bank", "KSBKJPJTXXX", "JP", "JPY", "camt053"),
    PartnerBank("Øresund Clearing", "ORCLSESSXXX", "SE", "SEK", "camt053"),
)


@dataclass(frozen=True, slots=True)
class Decline:
    """An ISO 8583 response code with the gateway's reason string and a background weight."""

    code: str
    reason: str
    weight: float


#: Background decline mix (weights roughly as card-not-present traffic looks).
DECLINE_MIX: tuple[Decline, ...] = (
    Decline("05", "do_not_honor", 30),
    Decline("51", "insufficient_funds", 24),
    Decline("54", "expired_card", 6),
    Decline("14", "invalid_number", 4),
    Decline("61", "exceeds_withdrawal_limit", 5),
    Decline("57", "transaction_not_permitted", 4),
    Decline("59", "suspected_fraud", 3),
    Decline("62", "restricted_card", 2),
    Decline("65", "authentication_required", 9),
    Decline("1A", "authentication_required", 5),
    Decline("41", "lost_card", 1),
    Decline("43", "stolen_card", 1),
    Decline("N7", "incorrect_cvc", 4),
    Decline("91", "issuer_unavailable", 1),
    Decline("96", "processing_error", 1),
)

#: Merchant integrations: (type, name, versions oldest→newest).
INTEGRATIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("api", "direct-api", ("2022-08-01", "2023-10-16", "2024-06-20", "2025-04-30")),
    ("plugin", "woocommerce", ("3.6.2", "3.8.1", "3.9.4", "4.0.0", "4.1.3")),
    ("plugin", "magento", ("2.4.1", "2.5.0", "2.6.3")),
    ("plugin", "shopware", ("1.9.0", "2.0.2", "2.1.0")),
    ("plugin", "prestashop", ("1.4.7", "1.5.0")),
    ("sdk", "ios-sdk", ("5.2.1", "5.3.0", "5.4.0")),
    ("sdk", "android-sdk", ("5.1.0", "5.2.2", "5.3.1")),
    ("sdk", "node-sdk", ("12.4.0", "13.0.1", "13.2.0")),
    ("sdk", "python-sdk", ("7.8.0", "8.0.0")),
)
