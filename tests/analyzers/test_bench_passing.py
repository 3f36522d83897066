"""The passing-build benchmark's stand-in: which logs play the passing builds, and what of
them is removed. On the real Cloud Build corpus (in the repository), not LogChunks."""

from __future__ import annotations

from bench.passing import Log, corpus, evaluate, stand_ins


def _log(order: int, lines: list[str], gold: list[tuple[int, int]]) -> Log:
    return Log("o/r", order, "family", "\n".join(lines).encode(), lines, gold)


def test_stand_ins_are_the_nearest_builds_before_then_after() -> None:
    logs = [_log(n, ["x"], [(1, 1)]) for n in (10, 20, 30, 40, 50)]
    picked = stand_ins(logs[2], [log for log in logs if log is not logs[2]], 3)
    assert [log.order for log in picked] == [20, 10, 40]


def test_a_stand_in_loses_its_labelled_lines_wherever_it_prints_them() -> None:
    lines = ["$ make", "error: x.c:3: boom", "ok", "summary:", "error: x.c:4: boom"]
    passing = _log(1, lines, [(2, 2)])
    kept = [text for _, text in passing.without_gold()]
    assert kept == ["$ make", "ok", "summary:"]  # line 5 masks like line 2


def test_the_corpus_measurement_runs_on_repositories_with_several_builds() -> None:
    logs = corpus()
    rows = evaluate(logs, 3)
    repos = {log.repository for log in logs}
    several = {r for r in repos if sum(log.repository == r for log in logs) > 1}
    assert rows and {row.log.repository for row in rows} == several
    assert all(0.0 <= row.f1_with <= 1.0 and row.passing >= 1 for row in rows)
