"""`hearth bench --context`: the held-out fixture, the metrics' arithmetic, the real path, the
prefill measurement and the command's one JSON document. Target values are not checked here:
they are what the evaluation reports."""

from __future__ import annotations

import json
import statistics
import tempfile
from pathlib import Path
from typing import Any

import pytest

from bot.bench import context_eval
from bot.bench.context_fixture import KINDS, FixtureError, Question, load_fixture
from bot.bench.context_prefill import measure_prefill
from bot.bench.context_score import Outcome, check_targets, summarise, table
from bot.cli import main
from knowledge.tokens import estimate_messages_tokens
from tests.servers.openai_server import CHAT, OpenAIServer, dead_base_url, delay, reply

METRICS = {
    "questions",
    "recall",
    "with_expected",
    "entries_mean",
    "prompt_tokens_median",
    "prompt_tokens_p90",
    "prompts",
    "family_first",
    "family_scope",
    "no_entry",
    "expected_none",
}


def _prompt(text: str) -> tuple[dict[str, Any], ...]:
    return ({"role": "system", "content": "rules " * 10}, {"role": "user", "content": text})


def _outcome(
    kind: str,
    expect: str | None,
    expected_id: int | None,
    owned: bool,
    sent: tuple[int, ...],
    family: str = "fam",
) -> Outcome:
    question = Question(family, "u1", kind, f"{kind} {expect} {sent}", expect)
    prompt = None if kind == "smalltalk" and not sent else _prompt(question.text)
    return Outcome(question, expected_id, owned, sent, prompt)


def test_metrics_of_a_known_case() -> None:
    outcomes = [
        _outcome("vi", "family:A", 1, True, (1, 2)),  # sent, and first
        _outcome("vi", "global:B", 3, False, (2,)),  # missed
        _outcome("vi", "family:C", 4, True, (5, 4)),  # sent, not first
        _outcome("smalltalk", None, None, False, ()),  # nothing sent, no prompt built
        _outcome("smalltalk", None, None, False, (7,)),  # an entry for small talk
    ]
    summary = summarise(outcomes, ("vi", "smalltalk"))
    vi, talk, every = summary["vi"], summary["smalltalk"], summary["all"]
    assert (vi["recall"], vi["with_expected"]) == (0.667, 3)
    assert vi["entries_mean"] == 1.67
    assert (vi["family_first"], vi["family_scope"]) == (0.5, 2)
    assert (vi["no_entry"], vi["expected_none"]) == (None, 0)
    assert (talk["no_entry"], talk["expected_none"], talk["recall"]) == (0.5, 2, None)
    assert (talk["entries_mean"], talk["prompts"]) == (0.5, 1)
    assert every["questions"] == 5 and every["prompts"] == 4
    assert every["recall"] == 0.667 and every["entries_mean"] == 1.2
    tokens = sorted(estimate_messages_tokens(o.prompt) for o in outcomes if o.prompt)
    assert every["prompt_tokens_median"] == statistics.median(tokens)
    assert every["prompt_tokens_p90"] == tokens[-1]  # nearest rank of 4 samples

    baseline = every["prompt_tokens_median"] * 2
    targets = {t["metric"]: t for t in check_targets(summary, baseline, {})}
    assert targets["recall"]["met"] is False
    assert targets["entries_mean"]["met"] is True
    assert targets["prompt_tokens_median_share"]["value"] == 0.5
    assert targets["prompt_tokens_median_share"]["met"] is True
    assert targets["family_first"]["met"] is False
    assert targets["family_first_en"]["met"] is None  # no English questions here
    assert targets["smalltalk_no_entry"]["met"] is False
    assert targets["prefill_ratio"]["met"] is None


@pytest.mark.parametrize("which", sorted(context_eval.FIXTURE_SETS))
def test_each_fixture_set_is_shaped_as_issue_20_asks(which: str) -> None:
    root = context_eval.FIXTURE_SETS[which]
    fixture = load_fixture(root)
    assert len(fixture.questions) >= 100
    assert {q.kind for q in fixture.questions} == set(KINDS)
    assert len(fixture.families) >= 2 and fixture.starter_pack and fixture.global_entries
    files = [fixture.global_entries, *(f.entries for f in fixture.families)]
    own = sum(len((root / str(name)).read_text(encoding="utf-8").splitlines()) for name in files)
    assert own >= 60
    expects = {q.expect for q in fixture.questions}
    assert None in expects
    assert any(e and e.startswith("global:") for e in expects)
    assert fixture.baseline_median is not None


def test_a_set_is_named_or_a_directory(tmp_path: Path) -> None:
    from bot.cli import CliUsageError

    assert context_eval.fixture_root("dev") == context_eval.FIXTURE_SETS["dev"]
    root = tmp_path / "mine"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": None}])
    assert context_eval.fixture_root(str(root)) == root
    with pytest.raises(CliUsageError, match="sets: heldout, dev"):
        context_eval.fixture_root("nowhere")
    assert context_eval.fixture_root_name(context_eval.FIXTURE_DIR) == "heldout"
    assert context_eval.fixture_root_name(root) == "mine"


def _write_world(root: Path, questions: list[dict[str, Any]]) -> None:
    """A tiny fixture: one family with two entries and a fact, one global entry."""
    root.mkdir()
    family = {
        "slug": "ha",
        "platform": "telegram",
        "chat_id": "-100777",
        "kind": "group",
        "title": "Nhà Hà",
        "entries": "ha.jsonl",
        "profile": {"region": "bac"},
        "members": [{"id": "u1", "name": "Chị Hà", "admin": True, "language": "vi"}],
        "facts": [{"by": "u1", "text": "Bé Su dị ứng đậu phộng"}],
    }
    meta = {"starter_pack": False, "global_entries": "shared.jsonl", "families": [family]}
    (root / "families.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    entries = [
        {"title": "Bánh da lợn", "body": "Bột năng, đậu xanh, nước cốt dừa, hấp từng lớp."},
        {"title": "Canh bí đao", "body": "Bí đao nấu tôm khô, nêm nhạt."},
    ]
    shared = [{"title": "Phơi quần áo mùa nồm", "body": "Sấy khô, đóng cửa khi trời ẩm."}]
    for name, rows in (("ha.jsonl", entries), ("shared.jsonl", shared)):
        text = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
        (root / name).write_text(text + "\n", encoding="utf-8")
    text = "\n".join(
        json.dumps({"family": "ha", "by": "u1", **q}, ensure_ascii=False) for q in questions
    )
    (root / "questions.jsonl").write_text(text + "\n", encoding="utf-8")


async def test_questions_go_through_the_chat_path(tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    _write_world(
        root,
        [
            {"kind": "vi", "q": "Bánh da lợn", "expect": "family:Bánh da lợn"},
            {"kind": "smalltalk", "q": "xin chào", "expect": None},
        ],
    )
    result = await context_eval.run(root, tmp_path)
    assert result["fixture"]["entries"] == {"global": 1, "ha": 2, "starter_pack": 0}
    assert result["fixture"]["name"] == "fixture"
    vi, talk = result["kinds"]["vi"], result["kinds"]["smalltalk"]
    assert (vi["recall"], vi["family_first"], vi["prompts"]) == (1.0, 1.0, 1)
    assert vi["entries_mean"] >= 1
    assert (talk["no_entry"], talk["entries_mean"]) == (1.0, 0.0)
    assert result["kinds"]["en"]["questions"] == 0 and result["kinds"]["en"]["recall"] is None
    assert not [m for m in result["misses"] if m["kind"] == "vi"]
    shown = table(result).splitlines()
    assert shown[0].startswith("| kind |") and shown[2].startswith("| vi | 1 | 1 |")
    assert any(line.startswith("smalltalk_no_entry: 1 (target = 1.0): met") for line in shown)


async def test_outcomes_hold_the_logged_prompt(tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": "family:Bánh da lợn"}])
    fixture = load_fixture(root)
    world = await context_eval.build_world(fixture, tmp_path / "families.db")
    [outcome] = await context_eval.ask_all(fixture, world, tmp_path / "families.db", tmp_path)
    assert outcome.prompt is not None and outcome.family_owned
    sent = " ".join(str(m["content"]) for m in outcome.prompt)
    assert "Bánh da lợn" in sent and "dị ứng đậu phộng" in sent  # the entry and the fact
    assert outcome.tokens == estimate_messages_tokens(outcome.prompt)
    assert outcome.expected_id in outcome.entry_ids


async def test_a_wrong_label_is_a_fixture_error(tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": "global:Bánh da lợn"}])
    with pytest.raises(FixtureError, match="0 entries match"):
        await context_eval.run(root, tmp_path)
    bad = tmp_path / "bad"
    _write_world(bad, [{"kind": "poetry", "q": "Bánh da lợn", "expect": None}])
    with pytest.raises(FixtureError, match="kind 'poetry'"):
        load_fixture(bad)


async def test_prefill_ratio_from_the_servers_first_token(
    tmp_path: Path, openai_server: OpenAIServer
) -> None:
    root = tmp_path / "fixture"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": None}])
    fixture = load_fixture(root)
    outcomes = [
        _outcome("vi", None, None, False, (1,), "ha"),
        _outcome("vi", None, None, False, (2,), "ha"),
        _outcome("smalltalk", None, None, False, (), "ha"),  # no prompt: not measured
    ]
    # warm-up answers at once; Hearth's two prompts take 0.3 s; the bare questions at once
    openai_server.script(reply("chào"), delay(0.3), delay(0.3))
    got = await measure_prefill(
        fixture, outcomes, openai_server.base_url, "m", 5, tmp_path / "m.db"
    )
    [family] = got["families"]
    assert family["questions"] == 2
    assert family["hearth_ms_median"] >= 300 > family["bare_ms_median"]
    assert got["ratio_median"] == family["ratio_median"] == got["worst_family_ratio"] > 1
    bodies = [r.body for r in openai_server.requests(CHAT)]
    assert [b["messages"] for b in bodies[1:3]] == [list(o.prompt or ()) for o in outcomes[:2]]
    assert [b["messages"] for b in bodies[3:]] == [
        [{"role": "user", "content": o.question.text}] for o in outcomes[:2]
    ]
    assert all(b["max_tokens"] == 1 and b["stream"] for b in bodies)


async def test_prefill_with_no_server_says_why(tmp_path: Path) -> None:
    root = tmp_path / "fixture"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": None}])
    outcomes = [_outcome("vi", None, None, False, (1,), "ha")]
    got = await measure_prefill(
        load_fixture(root), outcomes, dead_base_url(), "m", 5, tmp_path / "m.db"
    )
    assert got["worst_family_ratio"] is None and "did not answer" in got["reason"]


def test_bench_context_prints_one_json_document(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.delenv("HEARTH_REAL_MODEL_URL", raising=False)
    assert main(["bench", "--context", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert list(doc["kinds"]) == [*KINDS, "all"]
    for metrics in doc["kinds"].values():
        assert set(metrics) == METRICS
    every = doc["kinds"]["all"]
    assert doc["fixture"]["name"] == "heldout"
    assert every["questions"] == doc["fixture"]["questions"] >= 100
    assert sum(doc["kinds"][k]["questions"] for k in KINDS) == every["questions"]
    assert doc["fixture"]["entries"]["starter_pack"] > 0 and doc["fixture"]["families"] >= 2
    for key in ("recall", "family_first", "no_entry"):
        assert 0.0 <= every[key] <= 1.0
    assert every["prompt_tokens_median"] <= every["prompt_tokens_p90"]
    assert [t["metric"] for t in doc["targets"]] == [
        "recall",
        "entries_mean",
        "prompt_tokens_median_share",
        "family_first",
        "family_first_en",
        "smalltalk_no_entry",
        "prefill_ratio",
    ]
    assert all(t["met"] in (True, False) for t in doc["targets"][:-1])
    assert doc["prefill"]["reason"] and doc["targets"][-1]["met"] is None
    assert not list(tmp_path.iterdir())  # the scratch databases are gone


def test_bench_context_names_the_set_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "mine"
    _write_world(root, [{"kind": "vi", "q": "Bánh da lợn", "expect": "family:Bánh da lợn"}])
    assert main(["bench", "--context", str(root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fixture"]["name"] == "mine" and doc["fixture"]["questions"] == 1
    assert main(["bench", "--context", "nowhere"]) == 2
    assert "sets: heldout, dev" in capsys.readouterr().err
