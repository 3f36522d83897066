"""Learning from passing builds, through the pipeline, on both state stores (Firestore on the
real emulator): a passing build then a failing one of the same trigger, duplicates,
out-of-order deliveries, a passing build without a log, a build of hundreds of steps."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from buildlens_core.build import BuildEvent, decode_build
from buildlens_core.errors import ConfigError
from buildlens_core.settings import load_settings
from buildlens_core.state import StateStore
from notifier.learning import MAX_SIGNATURE_BYTES, PassingMemory
from notifier.logsources.fixture import FixtureLogSource
from notifier.pipeline import Notifier
from notifier.state.memory import MemoryStateStore
from tests.conftest import FIXTURES
from tests.notifier.builds import fixture_build
from tests.notifier.test_exactly_once import RecordingSink

PASSING, FAILING = "real-lane-passing", "real-lane-failing"


@pytest.fixture
def trigger() -> str:
    """A lane of its own per test: the emulator's documents outlive a test."""
    return str(uuid.uuid4())


def notifier(store: StateStore, sink: RecordingSink, **settings: Any) -> Notifier:
    settings = {"learn_from_passing": True, **settings}
    return Notifier(load_settings(**settings), sinks=[sink], store=store)


def build(case: str, trigger: str, **changes: Any) -> BuildEvent:
    return decode_build(fixture_build(case, buildTriggerId=trigger, **changes))


def log_of(case: str) -> FixtureLogSource:
    return FixtureLogSource(FIXTURES / case, 1 << 24)


def test_a_passing_build_then_a_failing_one(store: StateStore, trigger: str) -> None:
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger)
    learned = pipeline.handle_build(passing, log_source=log_of(PASSING))
    assert learned.action == "ignored" and "lines learned" in learned.reason
    failing = build(FAILING, trigger)
    assert pipeline.handle_build(failing, log_source=log_of(FAILING)).action == "reported"
    since = sink.sent[0].since_passing
    assert since is not None
    assert (since.build, since.commit) == (passing.id, passing.commit_sha)
    assert (since.builds_since, since.step, since.step_lines, since.new_lines) == (1, 1, 2, 1)
    assert since.compared == 1 and since.log_url == passing.log_url
    repo = "https://github.com/afirth/symlinks-cloudbuild"
    assert since.compare_url == f"{repo}/compare/{passing.commit_sha}...{failing.commit_sha}"
    public = sink.sent[0].to_json()["since_passing"]
    assert public["new_lines"] == 1 and public["summary"] == since.summary
    assert "1 of 2 lines of step #1 are new" in since.summary


def test_duplicate_deliveries_learn_once_and_count_once(store: StateStore, trigger: str) -> None:
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger)
    pipeline.handle_build(passing, log_source=log_of(PASSING))
    again = pipeline.handle_build(passing, log_source=log_of(PASSING))
    assert "learned before" in again.reason
    failing = build(FAILING, trigger)
    for _ in range(2):
        pipeline.handle_build(failing, log_source=log_of(FAILING))
    assert len(sink.sent) == 1
    second = build(FAILING, trigger, finishTime="2026-11-19T00:00:00Z")
    pipeline.handle_build(second, log_source=log_of(FAILING))
    since = sink.sent[1].since_passing
    assert since is not None and since.builds_since == 2 and since.compared == 1


def test_out_of_order_deliveries(store: StateStore, trigger: str) -> None:
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink, passing_builds_kept=1)
    failing = build(FAILING, trigger)  # finished after the passing build, delivered first
    pipeline.handle_build(failing, log_source=log_of(FAILING))
    assert sink.sent[0].since_passing is None
    newer = build(PASSING, trigger, finishTime="2026-11-18T09:00:00Z")
    older = build(PASSING, trigger)  # finished 2026-11-17: delivered late
    assert "learned" in pipeline.handle_build(newer, log_source=log_of(PASSING)).reason
    late = pipeline.handle_build(older, log_source=log_of(PASSING))
    assert "older than the 1 passing builds kept" in late.reason
    memory = PassingMemory(store, load_settings(passing_builds_kept=1).learning, 1)
    assert memory.learned(newer) and not memory.learned(older)
    # A failure that finished before the newer pass is placed after the older one.
    between = build(FAILING, trigger, finishTime="2026-11-18T08:00:00Z")
    pipeline.handle_build(between, log_source=log_of(FAILING))
    since = sink.sent[1].since_passing
    assert since is not None and since.build == older.id
    # Both failures of the lane finished after the older pass, up to this one.
    assert since.builds_since == 1


def test_a_passing_build_without_a_log(store: StateStore, trigger: str, tmp_path: Path) -> None:
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger)
    outcome = pipeline.handle_build(passing, log_source=FixtureLogSource(tmp_path / "gone", 1024))
    assert outcome.action == "ignored" and "no log lines to learn from" in outcome.reason
    pipeline.handle_build(build(FAILING, trigger), log_source=log_of(FAILING))
    since = sink.sent[0].since_passing
    # The lane knows its last pass; no passing lines were compared.
    assert since is not None and since.build == passing.id and since.compared == 0
    assert "lines of step" not in since.summary


def test_a_trigger_with_hundreds_of_steps(store: StateStore, trigger: str, tmp_path: Path) -> None:
    steps, per_step = 300, 120
    log = tmp_path / "log.txt"
    with log.open("w") as handle:
        for s in range(steps):
            for i in range(per_step):
                word = "".join(chr(ord("g") + (s * per_step + i) // 20**k % 20) for k in range(4))
                handle.write(f"Step #{s}: compiled module {word}\n")
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger)
    assert (
        "learned"
        in pipeline.handle_build(passing, log_source=FixtureLogSource(log, 1 << 24)).reason
    )
    slot = store.get(f"passing/lane/{trigger}/main/0")
    assert slot is not None and len(slot["steps"]) == steps
    assert len(json.dumps(slot)) < MAX_SIGNATURE_BYTES * 4 // 3 + 64 * steps < 1 << 20
    recalled = PassingMemory(store, load_settings().learning, 1).recall(build(FAILING, trigger))
    assert recalled.passing is not None
    assert recalled.passing.knows(299, "Step #299: compiled module " + "".join(
        chr(ord("g") + (299 * per_step + 5) // 20**k % 20) for k in range(4)))  # fmt: skip


def test_a_corrupt_signature_costs_a_note_not_the_report(store: StateStore, trigger: str) -> None:
    sink = RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger)
    pipeline.handle_build(passing, log_source=log_of(PASSING))
    key = f"passing/lane/{trigger}/main/0"
    store.put(
        key, {**(store.get(key) or {}), "steps": [{"step": "1", "count": 3, "bits": "not base64!"}]}
    )
    assert pipeline.handle_build(build(FAILING, trigger), log_source=log_of(FAILING)).action == (
        "reported"
    )
    report = sink.sent[0]
    assert any("not compared" in n for n in report.notes)
    assert report.since_passing is not None and report.since_passing.compared == 0


def test_sampling_and_the_default_learn_nothing(trigger: str) -> None:
    store = MemoryStateStore()
    passing = build(PASSING, trigger)
    off = Notifier(load_settings(), sinks=[RecordingSink("rec")], store=store)
    off.handle_build(passing, log_source=log_of(PASSING))
    sampled_out = notifier(store, RecordingSink("rec"), learn_sample_rate=0.0)
    outcome = sampled_out.handle_build(passing, log_source=log_of(PASSING))
    assert "not sampled" in outcome.reason
    assert store.get(f"passing/lane/{trigger}/main") is None


def test_bad_learning_settings_are_one_clear_error() -> None:
    with pytest.raises(ConfigError) as caught:
        Notifier(load_settings(learn_sample_rate=2, passing_builds_kept=0), sinks=[])
    text = str(caught.value)
    assert "LEARN_SAMPLE_RATE" in text and "PASSING_BUILDS_KEPT" in text


def test_a_binary_passing_log_is_learned_without_harm(trigger: str, tmp_path: Path) -> None:
    log = tmp_path / "log.txt"
    log.write_bytes(bytes(range(256)) * 400 + b"\xff\xfe\x00garbage\r\n" * 50)
    store = MemoryStateStore()
    pipeline = notifier(store, RecordingSink("rec"))
    outcome = pipeline.handle_build(build(PASSING, trigger), log_source=FixtureLogSource(log, 4096))
    assert "lines learned" in outcome.reason


def test_a_misspelt_learning_setting_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEARN_FROM_PASING", "true")
    with pytest.raises(ConfigError, match=r"LEARN_FROM_PASING.*did you mean LEARN_FROM_PASSING"):
        Notifier(load_settings(), sinks=[])


def test_without_a_compare_page_the_two_commits_are_named(trigger: str) -> None:
    # Cloud Source Repositories has no compare page: the report names both commits.
    csr = {"repoSource": {"projectId": "p", "repoName": "r", "commitSha": "c" * 40}}
    store, sink = MemoryStateStore(), RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = build(PASSING, trigger, source=csr)
    pipeline.handle_build(passing, log_source=log_of(PASSING))
    failing = build(FAILING, trigger, source=csr)
    pipeline.handle_build(failing, log_source=log_of(FAILING))
    since = sink.sent[0].since_passing
    assert since is not None and since.compare_url == ""
    want = f"changes in commits {passing.commit_sha[:7]}..{failing.commit_sha[:7]}"
    assert want in since.summary


def test_builds_without_a_trigger_or_repository_are_not_compared() -> None:
    # `gcloud builds submit` of any config: no lane, so no passing build stands for another.
    anonymous: dict[str, Any] = {"buildTriggerId": "", "substitutions": {}}
    store, sink = MemoryStateStore(), RecordingSink("rec")
    pipeline = notifier(store, sink)
    passing = decode_build(fixture_build(PASSING, **anonymous))
    outcome = pipeline.handle_build(passing, log_source=log_of(PASSING))
    assert "names no trigger or repository" in outcome.reason
    failing = decode_build(fixture_build(FAILING, **anonymous))
    pipeline.handle_build(failing, log_source=log_of(FAILING))
    assert sink.sent[0].since_passing is None


def test_the_fingerprint_is_the_same_with_or_without_learning(trigger: str) -> None:
    learned_sink, plain_sink = RecordingSink("rec"), RecordingSink("rec")
    learning = notifier(MemoryStateStore(), learned_sink)
    learning.handle_build(build(PASSING, trigger), log_source=log_of(PASSING))
    learning.handle_build(build(FAILING, trigger), log_source=log_of(FAILING))
    plain = notifier(MemoryStateStore(), plain_sink, learn_from_passing=False)
    plain.handle_build(build(FAILING, trigger), log_source=log_of(FAILING))
    learned, alone = learned_sink.sent[0], plain_sink.sent[0]
    assert learned.since_passing is not None and learned.since_passing.compared == 1
    assert learned.fingerprint == alone.fingerprint != ""


class _ReadCountingStore(MemoryStateStore):
    """The memory store, counting plain reads per key."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[str] = []

    def get(self, key: str) -> dict[str, Any] | None:
        self.reads.append(key)
        return super().get(key)


def test_the_since_passing_section_costs_no_extra_read(trigger: str) -> None:
    # Recording the failure updates the lane document; the section is built from that update.
    store, sink = _ReadCountingStore(), RecordingSink("rec")
    pipeline = notifier(store, sink, learn_from_passing=False)
    pipeline.handle_build(build(PASSING, trigger), log_source=log_of(PASSING))
    store.reads.clear()
    pipeline.handle_build(build(FAILING, trigger), log_source=log_of(FAILING))
    since = sink.sent[0].since_passing
    assert since is not None and since.builds_since == 1
    assert not [key for key in store.reads if key.startswith("lane/")]
