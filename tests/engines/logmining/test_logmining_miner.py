"""TemplateMiner: grouping behaviour, stable ids (save/load, incremental = batch), properties."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paytriage.engines.logmining import TemplateMiner
from paytriage.engines.logmining.miner import STATE_VERSION, StateError


def _corpus(n: int = 400, seed: int = 7) -> list[str]:
    """Synthetic gateway/auth logs with variables of every kind, shuffled deterministically."""
    rnd = random.Random(seed)
    users = ["alice", "bob", "carol", "dave", "erin", "frank"]
    lines = []
    for i in range(n):
        k = rnd.randrange(6)
        if k == 0:
            lines.append(f"Invalid user {rnd.choice(users)} from 10.0.{i % 200}.{rnd.randrange(255)}")
        elif k == 1:
            lines.append(
                f"charge req_{rnd.getrandbits(40):010x} txn_{i:06d}X amount={rnd.randrange(1, 999)}.50 "
                f"currency=EUR status=approved"
            )
        elif k == 2:
            lines.append(f"onReceive action: android.intent.action.SCREEN_{rnd.choice(['ON', 'OFF'])}")
        elif k == 3:
            lines.append(
                f'{{"event": "webhook_failed", "attempt": {rnd.randrange(1, 9)}, "http_status": 503}}'
            )
        elif k == 4:
            lines.append(
                f"PAM {rnd.randrange(1, 5)} more authentication {rnd.choice(['failure;', 'failures;'])} "
                f"rhost={rnd.choice(users)}.example.com"
            )
        else:
            lines.append(f"issuer unavailable for BIN {rnd.randrange(400000, 499999)} code=91 after {i}ms")
    return lines


def test_variables_merge_and_constants_stay_apart() -> None:
    miner = TemplateMiner().fit(_corpus())
    texts = {t.text for t in miner.templates()}
    assert "Invalid user <*> from <*>" in texts
    assert "onReceive action: android.intent.action.SCREEN_ON" in texts
    assert "onReceive action: android.intent.action.SCREEN_OFF" in texts
    assert "charge <*> <*> amount=<*> currency=EUR status=approved" in texts
    assert "PAM <*> more authentication failure; rhost=<*>" in texts
    assert "PAM <*> more authentication failures; rhost=<*>" in texts
    assert "issuer unavailable for BIN <*> code=<*> after <*>" in texts
    assert '{"event": "webhook_failed", "attempt": <*>, "http_status": <*>}' in texts
    assert len(texts) == 8


def test_add_returns_match_with_params() -> None:
    miner = TemplateMiner()
    first = miner.add("Invalid user alice from 10.0.0.1")
    assert first.is_new
    for u in ("bob", "carol", "dave"):
        miner.add(f"Invalid user {u} from 10.0.0.2")
        assert miner.match(f"Invalid user {u} from 10.0.0.3") is not None
        assert miner.match("Invalid user zoe from 10.0.0.3") is None  # still 4 values: not yet a variable
    m = miner.add("Invalid user erin from 192.168.1.9")
    assert not m.is_new  # the fifth distinct value turns the position into a variable: all merge
    assert m.template_id == first.template_id  # into the oldest
    assert m.template == "Invalid user <*> from <*>"
    assert m.params == ("erin", "192.168.1.9")
    assert miner.resolve(first.template_id).id == m.template_id  # the first id now leads to the merged one


def test_enumerations_stay_apart_until_variable_after() -> None:
    """A handful of values seen many times (methods, states) are constants; a fifth value flips."""
    lines = [
        f'10.0.0.{i % 9} "{m} /v2/{i:08x}/servers HTTP/1.1" status: 200'
        for i in range(60)
        for m in ("GET", "POST", "DELETE")
    ] + [
        f"[instance: {i:032x}] VM {s} (Lifecycle Event)"
        for i in range(20)
        for s in ("Started", "Paused", "Resumed", "Stopped")
    ]
    miner = TemplateMiner().fit(lines)
    texts = {t.text for t in miner.templates()}
    assert '<*> "GET <*> HTTP/<*>" status: <*>' in texts
    assert '<*> "DELETE <*> HTTP/<*>" status: <*>' in texts
    assert "[instance: <*>] VM Paused (Lifecycle Event)" in texts
    assert len(texts) == 7
    miner.add(f"[instance: {99:032x}] VM Crashed (Lifecycle Event)")
    texts = {t.text for t in miner.templates()}
    assert "[instance: <*>] VM <*> (Lifecycle Event)" in texts
    assert len(texts) == 4
    fresh = TemplateMiner(variable_after=3).fit(lines)
    assert len(list(fresh.templates())) == 2  # the old default merged methods and states


def _lists_corpus(n: int = 300, seed: int = 11) -> list[str]:
    """Events whose variable part spans a varying number of tokens (id lists, date + time)."""
    rnd = random.Random(seed)
    lines = []
    for i in range(n):
        k = rnd.randrange(3)
        if k == 0:
            blocks = " ".join(f"blk_{rnd.getrandbits(32)}" for _ in range(rnd.randrange(1, 6)))
            lines.append(f"BLOCK* ask 10.0.0.{i % 50}:50010 to delete {blocks}")
        elif k == 1:
            when = "2024-05-01 12:00:00" if rnd.random() < 0.5 else "2024-05-01T12:00:00Z"
            lines.append(f"usage audit for host h{i % 7}.example.com from {when} done")
        else:
            lines.append(f"settled batch {i} with {rnd.randrange(1, 9)} payouts")
    return lines


def test_variable_runs_of_any_length_share_a_template() -> None:
    lines = _lists_corpus()
    miner = TemplateMiner()
    ids = miner.fit_predict(lines)
    groups: dict[str, set[int]] = {}
    for line, tid in zip(lines, ids, strict=True):
        groups.setdefault(" ".join(line.split()[:2]), set()).add(tid)
    assert all(len(g) == 1 for g in groups.values()), groups
    assert len(set(ids)) == 3
    blocks = tuple(f"blk_{i}" for i in range(1001, 1008))
    m = miner.add("BLOCK* ask 10.0.0.9:50010 to delete " + " ".join(blocks))
    assert m.template_id == ids[next(i for i, x in enumerate(lines) if x.startswith("BLOCK"))]
    assert m.template == "BLOCK* ask <*> to delete <*>"  # fits lines with any number of blocks
    assert m.params[-7:] == blocks  # params follow the line's own tokens
    assert miner.match("BLOCK* ask 10.0.0.9:50010 to delete blk_1008 blk_1009") is not None


def test_cross_length_merges_are_stable(tmp_path: Path) -> None:
    lines = _lists_corpus(400, seed=5)
    batch = TemplateMiner()
    batch_ids = batch.fit_predict(lines)
    inc = TemplateMiner()
    inc_ids = [inc.add(line).template_id for line in lines]
    assert [inc.resolve(i).id for i in inc_ids] == batch_ids
    assert inc.to_dict() == batch.to_dict()
    part = TemplateMiner().fit(lines[:150])
    part.save(tmp_path / "s.json")
    loaded = TemplateMiner.load(tmp_path / "s.json")
    assert loaded.fit_predict(lines[150:]) == batch_ids[150:]
    assert loaded.to_dict() == batch.to_dict()
    assert sum(t.size for t in batch.templates()) == len(lines)


def test_all_variable_template_does_not_swallow_words() -> None:
    miner = TemplateMiner()
    ids = miner.fit_predict(["12|7|3", "closeNotification...", "deleteHealthNotification()", "40|2|9"])
    assert ids[0] == ids[3]
    assert len(set(ids)) == 3


def test_lines_differing_only_in_their_first_word() -> None:
    """A program name opening the line becomes a variable; short 'X set to N' lines stay apart."""
    programs = ["chrome.exe", "firefox.exe", "Dropbox.exe", "WeChat.exe", "git.exe", "slack.exe"]
    lines = [
        f"{p} - proxy.example.com:{5000 + i} open through proxy proxy.example.com:5070 HTTPS"
        for i, p in enumerate(programs * 3)
    ]
    settings_ = ["tickTime", "minSessionTimeout", "maxSessionTimeout", "autopurge.purgeInterval", "snap"]
    lines += [f"{k} set to {i}" for i, k in enumerate(settings_ * 2)]
    miner = TemplateMiner()
    ids = miner.fit_predict(lines)
    assert len(set(ids[:18])) == 1
    assert (
        miner.resolve(ids[0]).text
        == "<*> - proxy.example.com:<*> open through proxy proxy.example.com:<*> HTTPS"
    )
    assert len(set(ids[18:])) == len(settings_)


def test_values_seen_as_variables_elsewhere_are_variables() -> None:
    """Three users are not enough on their own, but they proved to be user names in another event."""
    users = ["root", "cyrus", "news", "test", "guest", "oracle"]
    lines = [f"Failed password for {u} from 10.0.0.{i} port 22 ssh2" for i, u in enumerate(users * 2)]
    lines += [f"session opened for user {u} by (uid=0)" for u in ["root", "cyrus", "news"] * 3]
    lines += [
        f'10.0.0.1 "{m} /v2/{i}abcdef0/servers HTTP/1.1"' for i, m in enumerate(["GET", "POST", "PUT"] * 3)
    ]
    miner = TemplateMiner()
    ids = miner.fit_predict(lines)
    assert len(set(ids[12:21])) == 1
    assert miner.resolve(ids[12]).text == "session opened for user <*> by (uid=<*>)"
    assert len(set(ids[21:])) == 3  # methods were never values of a variable: they stay apart
    assert {"root", "cyrus", "news"} <= miner.known_values_


def test_match_learns_nothing() -> None:
    miner = TemplateMiner().fit(_corpus())
    before = miner.to_dict()
    m = miner.match("Invalid user zoe from 10.9.9.9")
    assert m is not None and m.template == "Invalid user <*> from <*>"
    assert miner.match("something never seen before") is None
    assert miner.predict(["nothing like it"]) == [None]
    assert miner.to_dict() == before


def test_incremental_equals_batch() -> None:
    lines = _corpus()
    batch = TemplateMiner()
    batch_ids = batch.fit_predict(lines)
    inc = TemplateMiner()
    inc_ids = [inc.add(line).template_id for line in lines]
    assert [inc.resolve(i).id for i in inc_ids] == batch_ids
    assert inc.to_dict() == batch.to_dict()


def test_save_load_keeps_ids(tmp_path: Path) -> None:
    lines = _corpus(600, seed=3)
    whole = TemplateMiner()
    whole_ids = whole.fit_predict(lines)
    part = TemplateMiner().fit(lines[:250])
    state = tmp_path / "state.json"
    part.save(state)
    loaded = TemplateMiner.load(state)
    assert loaded.to_dict() == part.to_dict()
    rest = loaded.fit_predict(lines[250:])
    assert rest == whole_ids[250:]
    assert [loaded.resolve(i).id for i in whole_ids[:250]] == whole_ids[:250]
    assert loaded.to_dict() == whole.to_dict()
    data = json.loads(state.read_text(encoding="utf-8"))
    assert data["version"] == STATE_VERSION and data["masking_version"]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"format": "other"}, "not a miner state"),
        ({"format": "paytriage.logmining.state", "version": STATE_VERSION + 1}, "newer"),
        ({"format": "paytriage.logmining.state", "version": 1, "params": {}}, "broken"),
    ],
)
def test_bad_state_is_refused(tmp_path: Path, payload: dict[str, object], message: str) -> None:
    p = tmp_path / "s.json"
    p.write_text(json.dumps(payload), encoding="utf-8")
    with pytest.raises(StateError, match=message):
        TemplateMiner.load(p)


def test_version_1_state_still_loads(tmp_path: Path) -> None:
    """A state saved before known values and shapes existed loads and keeps its ids."""
    miner = TemplateMiner(variable_after=3).fit(_corpus(200))
    data = miner.to_dict()
    data["version"] = 1
    del data["known_values"]
    for row in data["templates"]:
        row.pop("multi_length", None)
    p = tmp_path / "v1.json"
    p.write_text(json.dumps(data), encoding="utf-8")
    loaded = TemplateMiner.load(p)
    assert loaded.variable_after == 3
    assert {t.id: t.text for t in loaded.templates()} == {t.id: t.text for t in miner.templates()}


def test_unreadable_state(tmp_path: Path) -> None:
    p = tmp_path / "s.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(StateError):
        TemplateMiner.load(p)


def test_empty_and_blank_lines() -> None:
    miner = TemplateMiner()
    assert miner.add("").template == ""
    assert miner.add("   \t ").template_id == miner.add("").template_id


def _literals_in_order(template_token: str, raw_token: str) -> bool:
    pos = 0
    for piece in template_token.split("<*>"):
        found = raw_token.find(piece, pos)
        if found < 0:
            return False
        pos = found + len(piece)
    return True


words = st.one_of(
    st.text(min_size=1, max_size=12),
    st.sampled_from(["user", "from", "port", "id=", "req_8f3a9b2c", "10.0.0.1", "42", "<*>", "failed", "ok"]),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(words, min_size=0, max_size=8).map(" ".join), min_size=1, max_size=25))
def test_template_literals_appear_in_line_in_order(lines: list[str]) -> None:
    miner = TemplateMiner()
    ids = [miner.add(line).template_id for line in lines]
    for line, tid in zip(lines, ids, strict=True):
        assert _literals_in_order(miner.resolve(tid).text, " ".join(line.split()))


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_never_crashes_on_unicode(line: str) -> None:
    miner = TemplateMiner()
    m = miner.add(line)
    assert miner.resolve(m.template_id).id == m.template_id
    assert miner.match(line) is not None
