"""Redaction precision/recall on a generated labelled set, and throughput. Prints JSON.

Positives carry one secret each (card, CVV, expiry, track data, IBAN, API key, password, PIN);
negatives are look-alikes that must survive (order ids, phone numbers, invalid IBANs, dates,
amounts, timestamps, UUIDs, tracking numbers). Usage: ``python bench/redaction.py [--n 2000] [--seed 7]``.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time
from collections import defaultdict

from paytriage.engines.redaction import RULESET_VERSION, luhn_valid, redact

PREFIXES = ["4", "51", "52", "53", "54", "55", "2221", "34", "37", "6011", "65", "3528", "62", "36"]
WRAPS = [
    "my card is {}",
    "card number: {}",
    "{}",
    "pan={}&amount=10",
    '{{"card": "{}"}}',
    "tried {} twice",
    "Card: {} - declined",
    "https://pay.test/checkout?cc={}&ok=1",
    "number {}, thanks",
]


def card(rng: random.Random) -> str:
    prefix = rng.choice(PREFIXES)
    length = 15 if prefix in {"34", "37"} else rng.choice([16, 16, 16, 19, 13])
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return next(body + d for d in string.digits if luhn_valid(body + d))


def spaced(rng: random.Random, pan: str) -> str:
    sep = rng.choice(["", " ", "-", " ", "\u00a0", "."])
    if sep == "":
        return pan
    return sep.join(pan[i : i + 4] for i in range(0, len(pan), 4))


def iban(rng: random.Random, valid: bool = True) -> str:
    bban = "".join(rng.choice(string.digits) for _ in range(18))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    if not valid:
        check = (check % 97) + 1 if check != 97 else 2
    return f"DE{check:02d}{bban}"


def positives(rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, text, secret that must not survive)."""
    pan = card(rng)
    shown = spaced(rng, pan)
    key = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(24))
    pw = "".join(rng.choice(string.ascii_letters) for _ in range(6)) + str(rng.randint(10, 99)) + "!"
    cvv = f"{rng.randint(100, 999)}"
    exp = f"{rng.randint(1, 12):02d}/{rng.randint(25, 32)}"
    ib = iban(rng)
    return [
        ("card", rng.choice(WRAPS).format(shown), pan[6:-4]),
        (
            "cvv",
            rng.choice(["cvv {}", "CVC: {}", '"cvc": "{}"', "security code is {}", "cvv2={}"]).format(cvv),
            cvv,
        ),
        (
            "expiry",
            rng.choice(["exp {}", "expiry date: {}", f"card {pan} {{}}", "valid thru {}"]).format(exp),
            exp,
        ),
        ("track", f"%B{pan}^DOE/JANE^{exp.replace('/', '')[::-1]}1010000000000000?", "DOE/JANE"),
        ("iban", rng.choice(["IBAN {}", "please pay {} today", "to {}"]).format(ib), ib[4:-4]),
        (
            "api_key",
            rng.choice(["sk_live_{}", "key: rk_live_{}", "Authorization: Bearer {}", "api_key={}"]).format(
                key
            ),
            key,
        ),
        (
            "password",
            rng.choice(
                [
                    "password: {}",
                    '{{"password": "{}"}}',
                    "DB_PASSWORD={}",
                    "postgres://app:{}@db/x",
                    "my password is {}",
                ]
            ).format(pw),
            pw,
        ),
        ("pin", f"my pin is {rng.randint(1000, 9999)}", ""),
    ]


def negatives(rng: random.Random) -> list[tuple[str, str]]:
    d = rng.randint(1, 28)
    m = rng.randint(1, 12)
    return [
        ("order_id", f"order ORD-{rng.randint(10**9, 10**10)} ref {rng.randint(10**5, 10**6)}"),
        ("phone", f"call me on +44 {rng.randint(1000, 9999)} {rng.randint(100000, 999999)}"),
        ("phone_plain", f"phone 0{rng.randint(100, 999)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}"),
        ("iban_invalid", f"account {iban(rng, valid=False)}"),
        (
            "date",
            f"on 2026-{m:02d}-{d:02d} 14:{rng.randint(10, 59)}:{rng.randint(10, 59)} and "
            f"{d:02d}/{m:02d}/2026",
        ),
        ("amount", f"charged €{rng.randint(1, 99)}.{rng.randint(100, 999)},{rng.randint(10, 99)} twice"),
        ("timestamp_ms", f"ts={rng.randint(1_700_000_000_000, 1_800_000_000_000)}"),
        ("uuid", f"request id {rng.getrandbits(128):032x}"),
        ("tracking", f"tracking 1Z{rng.randint(10**15, 10**16)}"),
        ("last4", f"card ending in {rng.randint(1000, 9999)}, masked 411111******{rng.randint(1000, 9999)}"),
        ("prose", "my password is incorrect and the PIN is blocked, expiry soon"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2000, help="rounds; each adds 8 positives and 11 negatives")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    pos = [p for _ in range(args.n) for p in positives(rng)]
    neg = [x for _ in range(args.n) for x in negatives(rng)]
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"n": 0, "hit": 0})
    tp = fn = fp = 0
    for kind, text, secret in pos:
        res = redact(text)
        ok = res.changed and (not secret or secret not in res.text)
        stats[kind]["n"] += 1
        stats[kind]["hit"] += ok
        tp += ok
        fn += not ok
    fp_kinds: dict[str, int] = defaultdict(int)
    for kind, text in neg:
        if redact(text).changed:
            fp += 1
            fp_kinds[kind] += 1
    texts = [t for _, t, _ in pos] + [t for _, t in neg]
    corpus_chars = sum(len(t) for t in texts)
    start = time.perf_counter()
    for t in texts:
        redact(t)
    secs = time.perf_counter() - start
    big = " ".join(texts)[:1_000_000]
    start = time.perf_counter()
    redact(big)
    big_secs = time.perf_counter() - start
    print(
        json.dumps(
            {
                "ruleset_version": RULESET_VERSION,
                "positives": len(pos),
                "negatives": len(neg),
                "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                "recall": round(tp / (tp + fn), 4),
                "false_positive_rate": round(fp / len(neg), 4),
                "recall_by_kind": {k: round(v["hit"] / v["n"], 4) for k, v in sorted(stats.items())},
                "false_positives_by_kind": dict(sorted(fp_kinds.items())),
                "texts_per_s": round(len(texts) / secs),
                "mb_per_s": round(corpus_chars / secs / 1e6, 2),
                "one_mb_text_seconds": round(big_secs, 3),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
