"""Charts render to PNG files, with titles and labelled axes, and without data say so instead of failing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from sample_records import T0, api_record, edge_record, two_sessions

from serverless_lab.flow import charts
from serverless_lab.flow.cost import cost_table, load_prices, measure_workload
from serverless_lab.flow.trace import spans_frame

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def runs_summary() -> pd.DataFrame:
    """Numbers shaped as load.summarize returns them, for three concurrency levels."""
    return pd.DataFrame(
        {
            "concurrency": [1, 2, 4],
            "throughput_rps": [40.0, 75.0, 120.0],
            "api_p50_ms": [10.0, 12.0, 20.0],
            "api_p95_ms": [30.0, 40.0, 90.0],
            "api_p99_ms": [50.0, 80.0, 200.0],
        }
    )


@pytest.fixture
def spans() -> pd.DataFrame:
    records = [*two_sessions(), *(api_record(2, 10 + i, T0 + 10 + i, cold=False) for i in range(5))]
    records += [edge_record(3, 20 + i, T0 + 20 + i, cache="hit") for i in range(3)]
    return spans_frame(records)


def texts(figure: Figure) -> tuple[str, str, str]:
    ax = figure.axes[0]
    return ax.get_title(), ax.get_xlabel(), ax.get_ylabel()


def test_every_chart_is_written_as_a_png_with_a_title_and_axis_units(
    spans: pd.DataFrame, tmp_path: Path
) -> None:
    prices = load_prices()
    cost = cost_table(measure_workload(spans), prices)
    figures = charts.all_charts(spans, runs_summary(), cost, as_of=prices.as_of)
    assert set(figures) == {
        "waterfall",
        "latency_by_component",
        "cold_vs_warm",
        "cache_hit_vs_miss",
        "percentiles_vs_concurrency",
        "throughput_vs_latency",
        "cost_per_million_sessions",
    }
    for name, figure in figures.items():
        title, xlabel, _ = texts(figure)
        assert title, name
        assert "(ms" in xlabel or "USD" in xlabel or "users" in xlabel or "per second" in xlabel, (
            name,
            xlabel,
        )
    paths = charts.save_charts(figures, tmp_path / "out")
    assert [p.name for p in paths] == [f"{name}.png" for name in figures]
    for path in paths:
        data = path.read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 5_000, path


def test_waterfall_draws_the_hops_of_the_cold_request(spans: pd.DataFrame) -> None:
    figure = charts.waterfall(spans)
    title, xlabel, _ = texts(figure)
    assert "create" in title and "242.0 ms" in title  # the cold create: 242 ms end to end
    assert xlabel == "time since the client sent the request (ms)"
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert [label.split(":")[0] for label in labels] == [
        "client", "gateway", "authorizer", "lambda-init", "lambda-handler", "dynamodb",
    ]  # fmt: skip
    assert labels[0] == "client: POST /items"  # the loopback prefix of the stage is left out
    bars = figure.axes[0].patches
    assert [round(bar.get_width(), 3) for bar in bars] == [242.0, 240.0, 1.0, 200.0, 30.0, 10.0]


def test_waterfall_of_a_chosen_request(spans: pd.DataFrame) -> None:
    figure = charts.waterfall(spans, request=("r", 1, 3))
    assert "site" in figure.axes[0].get_title()
    assert len(figure.axes[0].patches) == 2  # the client and the edge: a hit never reaches the origin


def test_cold_vs_warm_stacks_the_medians(spans: pd.DataFrame) -> None:
    figure = charts.cold_vs_warm(spans)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels == ["cold start (n=1)", "warm (n=6)"]
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert "lambda-init" in legend and "dynamodb" in legend


def test_percentile_and_throughput_charts_plot_the_summary() -> None:
    figure = charts.percentiles_vs_concurrency(runs_summary())
    lines = figure.axes[0].get_lines()
    assert [line.get_label() for line in lines] == ["p50", "p95", "p99"]
    assert list(lines[2].get_ydata()) == [50.0, 80.0, 200.0]
    assert figure.axes[0].get_ylabel() == "API call latency, client side (ms)"
    curve = charts.throughput_latency(runs_summary())
    assert list(curve.axes[0].get_lines()[0].get_xdata()) == [40.0, 75.0, 120.0]


def test_charts_without_data_say_so(tmp_path: Path) -> None:
    empty = spans_frame([])
    figures = charts.all_charts(empty, pd.DataFrame(), cost_table_empty())
    for name, figure in figures.items():
        assert "no data" in figure.axes[0].get_title(), name
    assert all(p.stat().st_size > 0 for p in charts.save_charts(figures, tmp_path))


def cost_table_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["service", "usd"])


def test_hit_vs_miss_counts_each_cache_state(spans: pd.DataFrame) -> None:
    figure = charts.hit_vs_miss(spans)
    labels = [label.get_text() for label in figure.axes[0].get_yticklabels()]
    assert labels[0].startswith("hit (n=4") and labels[1].startswith("miss (n=1")
