"""Plain text, for terminals and the stdout sink."""

from __future__ import annotations

from notifier.render._facts import facts, log_note
from notifier.report import Report


def render_text(report: Report) -> str:
    out = [f"✗ {report.title}", ""]
    rows = facts(report)
    width = max(len(label) for label, _ in rows)
    out += [f"  {label.ljust(width)}  {value}" for label, value in rows]
    if report.build.log_url:
        out.append(f"  {'log'.ljust(width)}  {report.build.log_url}")
    if report.excerpt:
        digits = len(str(report.excerpt[-1].number))
        out += ["", f"  excerpt ({log_note(report)}; > marks key lines):"]
        previous = None
        for line in report.excerpt:
            if previous is not None and line.number != previous + 1:
                out.append(f"  {'':>{digits + 2}}  ...")
            mark = ">" if line.key else " "
            out.append(f"  {mark} {line.number:>{digits}} | {line.text}")
            previous = line.number
    else:
        out += ["", f"  ({log_note(report)})"]
    for note in report.notes:
        out.append(f"  note: {note}")
    for err in report.errors:
        out.append(f"  ! {err.stage} {err.name} failed: {err.message}")
    return "\n".join(out) + "\n"
