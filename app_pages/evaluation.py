"""Staff evaluation: the metrics of saved evaluation runs (``bot eval --save ... --report``).

Reads ``eval/reports/history.jsonl`` (drawn here as charts with a legend under them), the newest
saved run (``eval/reports/runs/*.json``), and ``eval/reports/metrics.png`` only when there is no
history; says how to make them when they are not there yet.
"""
import json
from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

import app_guards
import ui

LABELS = {
    "none": ("아직 저장된 평가 결과가 없습니다. `make eval` 또는 `bot eval --save eval/reports/runs/<이름>.json "
             "--report`로 만들 수 있습니다.",
             "No saved evaluation yet. Make one with `make eval` or `bot eval --save "
             "eval/reports/runs/<name>.json --report`."),
    "latest": ("최근 실행", "Latest run"),
    "trend": ("실행별 지표", "Metrics over runs"),
    "run": ("실행 순서", "Run"),
    "share": ("비율", "Share"),
    "latency": ("지연 (ms)", "Latency (ms)"),
    "metric": ("지표", "Metric"),
    "history": ("실행 기록", "Run history"),
    "failures": ("틀린 질문", "Failing questions"),
    "unreadable": ("평가 파일을 읽지 못했습니다: {name}", "Could not read the evaluation file {name}"),
    "no_failures": ("틀린 질문이 없습니다.", "No failing questions."),
}
SHOWN = [("answer_accuracy", "정답률", "Answer accuracy"), ("citation_accuracy", "인용 정확도", "Citation accuracy"),
         ("refusal_recall", "거절 재현율", "Refusal recall"), ("recall_at_5", "Recall@5", "Recall@5"),
         ("mrr", "MRR", "MRR"), ("latency_p50_ms", "지연 p50 (ms)", "Latency p50 (ms)")]
CHARTED = SHOWN[:5] + [("recall_at_1", "Recall@1", "Recall@1"), ("refusal_precision", "거절 정밀도", "Refusal precision")]
LATENCIES = [("latency_p50_ms", "지연 p50", "Latency p50"), ("latency_p95_ms", "지연 p95", "Latency p95")]


def label(key: str, **values) -> str:
    korean, english = LABELS[key]
    text = english if ui.lang() == "en" else korean
    return text.format(**values) if values else text


def read_history(path: Path) -> list[dict]:
    """The lines of ``history.jsonl`` that parse (a half-written last line is ignored)."""
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("metrics"), dict):
            entries.append(entry)
    return entries


def latest_run(reports: Path) -> tuple[Path, dict] | None:
    """The newest saved run JSON under ``reports`` (by modification time), or None."""
    candidates = sorted((p for p in reports.rglob("*.json") if p.is_file()), key=lambda p: p.stat().st_mtime,
                        reverse=True)
    for path in candidates:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(record, dict) and isinstance(record.get("metrics"), dict) and "results" in record:
            return path, record
    return None


def trend_chart(history: list[dict], metrics: list[tuple[str, str, str]], axis: str) -> alt.Chart | None:
    """A line per metric over the runs in ``history`` (x: run number, the timestamp in the
    tooltip), its legend under the plot with every metric's name; None when nothing to draw."""
    english = ui.lang() == "en"
    rows = [{"run": number, "timestamp": entry.get("timestamp", ""), "label": entry.get("label", ""),
             "metric": english_name if english else korean, "value": entry["metrics"][key]}
            for number, entry in enumerate(history, start=1)
            for key, korean, english_name in metrics if isinstance(entry["metrics"].get(key), (int, float))]
    if not rows:
        return None
    drawn = {row["metric"] for row in rows}
    names = [name for name in (e if english else k for _, k, e in metrics) if name in drawn]
    legend = alt.Legend(orient="bottom", columns=4, title=None, labelLimit=240, symbolSize=120, labelFontSize=13)
    return alt.Chart(pd.DataFrame(rows)).mark_line(point=True).encode(
        x=alt.X("run:O", title=label("run"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("value:Q", title=axis, scale=alt.Scale(zero=False)),
        color=alt.Color("metric:N", sort=names, legend=legend,
                        scale=alt.Scale(domain=names, scheme="tableau10")),
        tooltip=["run", "timestamp", "label", "metric", alt.Tooltip("value:Q", format=".4")],
    ).properties(height=420)


def metric_columns(metrics: dict, previous: dict | None) -> None:
    """The headline metrics, with the change since the previous run (percentage points, ms)."""
    columns = st.columns(3)
    for number, (key, korean, english) in enumerate(m for m in SHOWN if m[0] in metrics):
        value, latency = metrics[key], key.endswith("_ms")
        shown = f"{value:.0f}" if latency else f"{value:.1%}" if value <= 1 else f"{value}"
        delta = None
        if previous and isinstance(previous.get(key), (int, float)):
            change = value - previous[key]
            delta = f"{change:+.0f} ms" if latency else f"{change * 100:+.1f}%p"
        columns[number % 3].metric(english if ui.lang() == "en" else korean, shown, delta,
                                   delta_color="inverse" if latency else "normal")

st.set_page_config(layout="wide")
app_guards.require_staff()
st.title(ui.t("evaluation"))
reports = ui.REPORTS_DIR
history_file, chart = reports / "history.jsonl", reports / "metrics.png"
history = []
if history_file.is_file():
    try:
        history = read_history(history_file)
    except OSError:
        st.warning(label("unreadable", name=history_file.name))
run = latest_run(reports) if reports.is_dir() else None

if not history and run is None and not chart.is_file():
    st.info(label("none"))
    st.stop()

if run is not None:
    path, record = run
    st.subheader(label("latest"))
    ui.show_html(ui.safe_html(f"{path.relative_to(reports).as_posix()} · {record.get('created', '')}"), "card-meta")
    previous = history[-2]["metrics"] if len(history) >= 2 else None
    metric_columns(record["metrics"], previous)
elif history:
    st.subheader(label("latest"))
    metric_columns(history[-1]["metrics"], history[-2]["metrics"] if len(history) >= 2 else None)

shares_chart = trend_chart(history, CHARTED, label("share")) if history else None
if shares_chart is not None:
    st.subheader(label("trend"))
    st.altair_chart(shares_chart, width="stretch")
    latency_chart = trend_chart(history, LATENCIES, label("latency"))
    if latency_chart is not None:
        st.altair_chart(latency_chart.properties(height=260), width="stretch")
elif chart.is_file():
    st.subheader(label("trend"))
    st.image(str(chart), width="stretch")

if history:
    st.subheader(label("history"))
    st.dataframe([{"timestamp": e.get("timestamp", ""), "label": e.get("label", ""),
                   **{key: e["metrics"].get(key) for key, _, _ in SHOWN}} for e in reversed(history)],
                 hide_index=True)

if run is not None:
    st.subheader(label("failures"))
    failing = [r for r in run[1].get("results", []) if isinstance(r, dict) and not r.get("correct")]
    if failing:
        st.dataframe([{"id": r.get("id"), "question": r.get("question"), "failure": r.get("failure"),
                       "answer": r.get("answer"), "gold_doc": r.get("gold_doc"),
                       "cited_docs": ", ".join(r.get("cited_docs") or [])} for r in failing], hide_index=True)
    else:
        st.success(label("no_failures"))
