"""Evaluation reports: the run history (``eval/reports/history.jsonl``), a chart of metrics over
runs (``metrics.png``) and ``latest.md`` listing every failing question and why it failed, so a
person sees the trend and the failures at a glance.
"""
from __future__ import annotations

import json
from pathlib import Path

from .evaluation import GATED, METRIC_KEYS, REPORTS_DIR, EvalRun, RunComparison

HISTORY_FILE = REPORTS_DIR / "history.jsonl"
RATES = ("answer_accuracy", "citation_accuracy", "recall_at_1", "recall_at_5", "mrr",
         "refusal_precision", "refusal_recall")
LATENCIES = ("latency_p50_ms", "latency_p95_ms")
TREND_ROWS = 10


def history_entry(run: EvalRun, label: str = "") -> dict:
    """One history line: when the run was made, a label (commit or note) and its metrics."""
    return {"timestamp": run.created, "label": label, "metrics": run.metrics}


def append_history(run: EvalRun, path: str | Path = HISTORY_FILE, label: str = "") -> dict:
    """Append the run's line to the history file (one JSON object per line); returns it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = history_entry(run, label)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def read_history(path: str | Path = HISTORY_FILE) -> list[dict]:
    """Every line of the history file, oldest first (none when there is no file yet)."""
    path = Path(path)
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def plot_history(history: list[dict], path: str | Path) -> Path:
    """A PNG of the rate metrics (top) and answer latency (bottom) over the runs in ``history``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    xs = list(range(1, len(history) + 1))
    labels = [f"{h['timestamp'][:16].replace('T', ' ')}\n{h.get('label', '')[:12]}" for h in history]
    figure, (rates, latency) = plt.subplots(2, 1, figsize=(10, 7), sharex=True,
                                            gridspec_kw={"height_ratios": [3, 1]})
    for name in RATES:
        rates.plot(xs, [h["metrics"].get(name) for h in history], marker="o", label=name)
    rates.set_ylim(0, 1.02)
    rates.set_ylabel("share")
    rates.grid(alpha=0.3)
    rates.legend(loc="lower left", fontsize=8, ncol=2)
    rates.set_title("bot eval: metrics over runs (eval/questions.jsonl)")
    for name in LATENCIES:
        latency.plot(xs, [h["metrics"].get(name) for h in history], marker="o", label=name)
    latency.set_ylabel("ms")
    latency.grid(alpha=0.3)
    latency.legend(loc="upper left", fontsize=8)
    latency.set_xticks(xs)
    latency.set_xticklabels(labels, fontsize=7, rotation=30, ha="right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _cell(text) -> str:
    return str(text if text is not None else "–").replace("|", "\\|").replace("\n", " ")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_report(run: EvalRun, history: list[dict], baseline: dict | None = None,
                  gate_failures: list[str] | None = None,
                  comparison: RunComparison | None = None) -> str:
    """The markdown of ``latest.md``: metrics (with baseline), gate, trend, failing questions."""
    base = (baseline or {}).get("metrics", {})
    lines = [f"# Evaluation report: {run.created}", "",
             f"{run.metrics['questions']} questions on index `{run.info.get('index', '?')}`. "
             "Regenerate with `bot eval --save eval/reports/runs/<name>.json --report`.", "",
             "## Metrics", "", "| metric | this run | baseline |", "|---|---:|---:|"]
    for key in METRIC_KEYS:
        value, accepted = run.metrics.get(key), base.get(key)
        mark = " (gated)" if key in GATED else ""
        lines.append(f"| {key}{mark} | {value} | {accepted if accepted is not None else '–'} |")
    if gate_failures is not None:
        lines += ["", "## Gate", ""]
        lines += [f"- FAIL: {message}" for message in gate_failures] or ["- pass"]
    if comparison is not None:
        lines += ["", "## Changes since the compared run", ""]
        lines += [f"- {key}: {delta:+.4f}" for key, delta in comparison.deltas.items() if delta]
        lines += [f"- `{qid}`: {old} → {new}" for qid, old, new in comparison.changed] or ["- no outcome changed"]
    lines += ["", "## Trend", "", "![metrics over runs](metrics.png)", ""]
    recent = history[-TREND_ROWS:]
    if recent:
        lines += ["| run | label | answer | citation | R@1 | R@5 | MRR | refusal P | refusal R | p50 ms |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for entry in recent:
            m = entry["metrics"]
            lines.append(f"| {entry['timestamp']} | {_cell(entry.get('label'))} | "
                         + " | ".join(str(m.get(k)) for k in RATES) + f" | {m.get('latency_p50_ms')} |")
    failing = [r for r in run.results if not r.correct]
    lines += ["", f"## Failing questions ({len(failing)})", "",
              "wrong span: the gold document is cited but no gold answer is in the short answer; "
              "wrong doc: the gold document is not among the first three citations; "
              "wrongly refused: answerable but refused; should have refused: unanswerable but answered.", ""]
    for reason in sorted({r.failure or "wrong" for r in failing}):
        group = [r for r in failing if (r.failure or "wrong") == reason]
        lines += [f"### {reason} ({len(group)})", "",
                  "| id | question | expected | got | cited docs | search rank |",
                  "|---|---|---|---|---|---:|"]
        for r in group:
            expected = " / ".join(r.answers) + (f" ({r.gold_doc})" if r.gold_doc else "") or "refusal"
            question = r.question + (f" → {r.rewritten}" if r.rewritten else "")
            lines.append(f"| {r.id} | {_cell(question)} | {_cell(_short(expected))} | "
                         f"{_cell(_short(r.answer))} | {_cell(', '.join(r.cited_docs))} | "
                         f"{'n/a' if r.unanswerable else (r.search_rank or '>10')} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def write_report(run: EvalRun, reports_dir: str | Path = REPORTS_DIR, history: list[dict] | None = None,
                 baseline: dict | None = None, gate_failures: list[str] | None = None,
                 comparison: RunComparison | None = None) -> list[Path]:
    """Write ``latest.md`` and ``metrics.png`` into ``reports_dir``; returns their paths.

    ``history`` defaults to the saved history; the run is added as the last point when it is not
    in it yet (a run that was not ``--save``d still shows on the chart).
    """
    reports_dir = Path(reports_dir)
    reports_dir.mkdir(parents=True, exist_ok=True)
    history = list(read_history(reports_dir / HISTORY_FILE.name) if history is None else history)
    if not history or history[-1].get("timestamp") != run.created:
        history.append(history_entry(run, "unsaved"))
    markdown = reports_dir / "latest.md"
    markdown.write_text(render_report(run, history, baseline, gate_failures, comparison), encoding="utf-8")
    return [markdown, plot_history(history, reports_dir / "metrics.png")]
