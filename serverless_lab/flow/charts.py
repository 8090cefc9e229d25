"""Charts of the flow (matplotlib): each function returns a Figure, shown inline by a notebook and saved
as PNG by `save_charts`.

The figures are built with `matplotlib.figure.Figure`, not pyplot: no GUI backend is ever selected and no
global figure state is kept, so they work on a headless machine (`savefig` renders PNGs with Agg whatever
the backend) and in a notebook alike (the inline backend displays a Figure that is a cell's value).

    waterfall(spans)                    one request across the hops
    latency_by_component(spans)         distribution of each hop's duration
    cold_vs_warm(spans)                 where an API request's time goes, cold start or warm
    hit_vs_miss(spans)                  edge answers from the cache against trips to the S3 origin
    percentiles_vs_concurrency(summary) p50/p95/p99 of API calls as users grow
    throughput_latency(summary)         the throughput/latency curve
    cost_chart(cost)                    USD per million user sessions, per service
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .records import COMPONENTS

COLORS: dict[str, str] = {
    "client": "#4d4d4d",
    "edge": "#8c6bb1",
    "s3-origin": "#b3a2d4",
    "cognito": "#e6550d",
    "gateway": "#3182bd",
    "authorizer": "#9ecae1",
    "lambda-init": "#de2d26",
    "lambda-handler": "#fd8d3c",
    "dynamodb": "#31a354",
}
API_STEPS = ("create", "list", "get", "update", "delete")
USER_REQUEST_PREFIX = re.compile(r"/restapis/[^/]+/[^/]+/_user_request_")


class Chart(Figure):
    """A Figure that a notebook shows inline as PNG even when pyplot (and its inline backend hook) was
    never imported: IPython calls `_repr_png_` on a cell's value."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()


def _figure(width: float = 8.0, height: float = 4.5) -> tuple[Figure, Axes]:
    figure = Chart(figsize=(width, height), layout="constrained", dpi=100)
    return figure, figure.add_subplot()


def _no_data(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#777777")
    ax.set_xticks([])
    ax.set_yticks([])


def _component(spans: pd.DataFrame) -> pd.Series:
    return spans["component"].astype("string")


def _present(spans: pd.DataFrame) -> list[str]:
    found = set(_component(spans).dropna())
    return [c for c in COMPONENTS if c in found] + sorted(found - set(COMPONENTS))


# --- one request -------------------------------------------------------------------------------------


def pick_request(spans: pd.DataFrame) -> tuple[str, int, int] | None:
    """The most telling request to draw: the first API call with a cold start, else the slowest one."""
    if spans.empty:
        return None
    component = _component(spans)
    cold = spans[(component == "lambda-init")]
    if not cold.empty:
        row = cold.iloc[0]
    else:
        clients = spans[component == "client"]
        if clients.empty:
            return None
        row = clients.loc[clients["duration_ms"].idxmax()]
    return str(row["run"]), int(row["session"]), int(row["request"])


def waterfall(spans: pd.DataFrame, request: tuple[str, int, int] | None = None) -> Figure:
    """Each hop of one request as a bar from its start to its end, in ms after the client sent it."""
    figure, ax = _figure(9, 4.5)
    key = request or pick_request(spans)
    if key is None:
        _no_data(ax, "no request recorded")
        ax.set_title("One request across the hops (no data)")
        return figure
    run, session, number = key
    hops = spans[(spans["run"] == run) & (spans["session"] == session) & (spans["request"] == number)]
    hops = hops.sort_values(["offset_ms", "duration_ms"], ascending=[True, False]).reset_index(drop=True)
    labels = []
    for index, hop in hops.iterrows():
        component = str(hop["component"])
        color = COLORS.get(component, "#999999")
        ax.barh(index, hop["duration_ms"], left=hop["offset_ms"], color=color, edgecolor="white", height=0.7)
        notes = []
        if component in ("lambda-init", "lambda-handler") and not pd.isna(hop["cold"]):
            notes.append("cold" if hop["cold"] else "warm")
        if not pd.isna(hop["cache"]) and component in ("edge", "client"):
            notes.append(f"cache {hop['cache']}")
        notes.append(f"{hop['duration_ms']:.1f} ms")
        ax.text(
            hop["offset_ms"] + hop["duration_ms"], index, "  " + ", ".join(notes), va="center", fontsize=8
        )
        # The lab's loopback prefix of a REST API stage says nothing to the reader: show the API's own path.
        operation = USER_REQUEST_PREFIX.sub("", str(hop["operation"]))
        labels.append(f"{component}: {operation[:38]}")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time since the client sent the request (ms)")
    total = hops.loc[_component(hops) == "client", "duration_ms"]
    step = hops["step"].iloc[0] if not hops.empty else ""
    ax.set_title(
        f"One request across the hops: {step} ({float(total.iloc[0]) if len(total) else 0:.1f} ms end to end)"
    )
    ax.set_xlim(0, float((hops["offset_ms"] + hops["duration_ms"]).max()) * 1.35 or 1)
    ax.grid(axis="x", alpha=0.3)
    return figure


# --- distributions -------------------------------------------------------------------------------------


def latency_by_component(spans: pd.DataFrame) -> Figure:
    """Box plot of every hop's duration, one row per component, on a log scale."""
    figure, ax = _figure(9, 4.8)
    components = [c for c in _present(spans) if (spans["duration_ms"][_component(spans) == c] > 0).any()]
    if not components:
        _no_data(ax, "no spans recorded")
        ax.set_title("Latency per component (no data)")
        return figure
    data = [
        spans.loc[_component(spans) == c, "duration_ms"].astype("float64").clip(lower=1e-3)
        for c in components
    ]
    boxes = ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=True, patch_artist=True,
                       flierprops={"markersize": 2, "alpha": 0.4})  # fmt: skip
    for patch, component in zip(boxes["boxes"], components, strict=True):
        patch.set_facecolor(COLORS.get(component, "#999999"))
        patch.set_alpha(0.8)
    ax.set_yticks(
        range(1, len(components) + 1), [f"{c} (n={len(d)})" for c, d in zip(components, data, strict=True)]
    )
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("duration of the hop (ms, log scale); box: p25–p75, whiskers: p5–p95")
    ax.set_title("Latency per component: where the time goes")
    ax.grid(axis="x", alpha=0.3, which="both")
    return figure


def _per_request_components(spans: pd.DataFrame) -> pd.DataFrame:
    """API requests (those with a Lambda invoke) × component: summed ms, with the request's cold flag."""
    keys = ["run", "session", "request"]
    component = _component(spans)
    handler = spans[component == "lambda-handler"][[*keys, "cold"]].drop_duplicates(keys)
    api = spans.merge(handler, on=keys, suffixes=("", "_request"))
    table = api.pivot_table(index=[*keys, "cold_request"], columns=api["component"].astype("string"),
                            values="duration_ms", aggfunc="sum", fill_value=0.0)  # fmt: skip
    return table.reset_index()


def cold_vs_warm(spans: pd.DataFrame) -> Figure:
    """Median time of each hop in API requests with a cold start against warm ones, stacked."""
    figure, ax = _figure(9, 3.8)
    table = _per_request_components(spans) if not spans.empty else pd.DataFrame()
    if table.empty:
        _no_data(ax, "no API request recorded")
        ax.set_title("Cold vs warm API requests (no data)")
        return figure
    table["other"] = (
        table.get("gateway", 0.0)
        - table.get("authorizer", 0.0)
        - table.get("lambda-init", 0.0)
        - table.get("lambda-handler", 0.0)
    ).clip(lower=0)
    table["lambda-handler"] = (table.get("lambda-handler", 0.0) - table.get("dynamodb", 0.0)).clip(lower=0)
    parts = [p for p in ("authorizer", "lambda-init", "lambda-handler", "dynamodb", "other") if p in table]
    names = {"lambda-handler": "lambda-handler (own code)", "other": "gateway + Lambda service overhead"}
    rows = []
    for cold, label in ((True, "cold start"), (False, "warm")):
        group = table[table["cold_request"] == cold]
        if not group.empty:
            rows.append((f"{label} (n={len(group)})", group[parts].median()))
    for index, (_, medians) in enumerate(rows):
        left = 0.0
        for part in parts:
            value = float(medians[part])
            color = COLORS.get(part, "#bdbdbd")
            ax.barh(index, value, left=left, color=color, label=names.get(part, part) if index == 0 else None)
            left += value
        ax.text(left, index, f"  {left:.1f} ms", va="center", fontsize=9)
    ax.set_yticks(range(len(rows)), [label for label, _ in rows])
    ax.invert_yaxis()
    ax.set_xlabel("median time in the request (ms)")
    ax.set_title("Cold vs warm API requests: a cold start adds the Lambda init")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return figure


def hit_vs_miss(spans: pd.DataFrame) -> Figure:
    """Client-side time of the site's files, served from the edge cache or fetched from the S3 origin."""
    figure, ax = _figure(8, 3.8)
    component = _component(spans)
    site = spans[(component == "client") & spans["cache"].notna()] if not spans.empty else spans
    if site.empty:
        _no_data(ax, "no request through the edge recorded")
        ax.set_title("Edge cache: hits vs misses (no data)")
        return figure
    order = [c for c in ("hit", "refresh-hit", "miss", "error") if (site["cache"] == c).any()]
    data = [site.loc[site["cache"] == c, "duration_ms"].astype("float64") for c in order]
    ax.boxplot(data, orientation="horizontal", whis=(5, 95), showfliers=True, flierprops={"markersize": 2})
    ax.set_yticks(
        range(1, len(order) + 1),
        [f"{c} (n={len(d)}, median {d.median():.2f} ms)" for c, d in zip(order, data, strict=True)],
    )
    ax.invert_yaxis()
    ax.set_xlabel("time to get one file of the site, client side (ms)")
    ax.set_title("Edge cache: hits are answered at the edge,\nmisses go to the S3 origin")
    ax.grid(axis="x", alpha=0.3)
    return figure


# --- growing load ----------------------------------------------------------------------------------------


def percentiles_vs_concurrency(summary: pd.DataFrame) -> Figure:
    """p50, p95 and p99 of the API calls' client-side latency at each concurrency level."""
    figure, ax = _figure(7, 4)
    if summary.empty:
        _no_data(ax, "no run recorded")
        ax.set_title("API latency percentiles vs concurrency (no data)")
        return figure
    ordered = summary.sort_values("concurrency")
    for name, style in (("p50", "-o"), ("p95", "-s"), ("p99", "-^")):
        ax.plot(ordered["concurrency"], ordered[f"api_{name}_ms"], style, label=name)
    ax.set_xlabel("concurrent virtual users")
    ax.set_ylabel("API call latency, client side (ms)")
    ax.set_xticks(list(ordered["concurrency"]))
    ax.set_title("API latency percentiles as concurrent users grow")
    ax.legend()
    ax.grid(alpha=0.3)
    return figure


def throughput_latency(summary: pd.DataFrame) -> Figure:
    """Throughput (requests/s) against p95 latency, one point per concurrency level."""
    figure, ax = _figure(7, 4)
    if summary.empty:
        _no_data(ax, "no run recorded")
        ax.set_title("Throughput vs latency (no data)")
        return figure
    ordered = summary.sort_values("concurrency")
    ax.plot(ordered["throughput_rps"], ordered["api_p95_ms"], "-o", color=COLORS["gateway"], label="API p95")
    ax.plot(ordered["throughput_rps"], ordered["api_p50_ms"], "--o", color="#9ecae1", label="API p50")
    for _, row in ordered.iterrows():
        ax.annotate(f"{int(row['concurrency'])} user{'s' if int(row['concurrency']) != 1 else ''}", (row["throughput_rps"], row["api_p95_ms"]),
                    textcoords="offset points", xytext=(4, 6), fontsize=8)  # fmt: skip
    ax.set_xlabel("throughput (requests per second, all requests of the flow)")
    ax.set_ylabel("API call latency, client side (ms)")
    ax.set_title("Throughput vs latency as users grow\n(more requests per second until queues form)")
    ax.margins(x=0.15, y=0.15)
    ax.legend()
    ax.grid(alpha=0.3)
    return figure


def cost_chart(cost: pd.DataFrame, *, as_of: str = "") -> Figure:
    """USD per million sessions, one bar per service, from a cost table (cost.cost_table)."""
    figure, ax = _figure(8, 3.8)
    lines = cost[cost["service"] != "total"]
    if lines.empty:
        _no_data(ax, "no cost computed")
        ax.set_title("Cost per million user sessions (no data)")
        return figure
    by_service = lines.groupby("service")["usd"].sum().sort_values()
    total = float(by_service.sum())
    ax.barh(by_service.index, by_service.values, color="#3182bd")
    for index, value in enumerate(by_service.values):
        ax.text(value, index, f"  ${value:,.2f}", va="center", fontsize=8)
    # Log scale: per-MAU pricing (Cognito) is orders of magnitude above per-request prices.
    ax.set_xscale("log")
    positive = by_service.values[by_service.values > 0]
    low = float(np.min(positive)) / 3 if positive.size else 1e-3
    ax.set_xlim(low, max(float(np.max(by_service.values)) * 8, low * 10))
    ax.set_xlabel("USD per million user sessions (log scale)")
    date = f", list prices of {as_of}" if as_of else ""
    ax.set_title(f"The measured workload on AWS: ${total:,.2f} per million user sessions\n(us-east-1{date})")
    ax.grid(axis="x", alpha=0.3)
    return figure


# --- all together ------------------------------------------------------------------------------------------


def all_charts(
    spans: pd.DataFrame,
    summary: pd.DataFrame | None = None,
    cost: pd.DataFrame | None = None,
    *,
    as_of: str = "",
) -> dict[str, Figure]:
    """Every chart that the data allows, by file name (without .png)."""
    figures = {
        "waterfall": waterfall(spans),
        "latency_by_component": latency_by_component(spans),
        "cold_vs_warm": cold_vs_warm(spans),
        "cache_hit_vs_miss": hit_vs_miss(spans),
    }
    if summary is not None:
        figures["percentiles_vs_concurrency"] = percentiles_vs_concurrency(summary)
        figures["throughput_vs_latency"] = throughput_latency(summary)
    if cost is not None:
        figures["cost_per_million_sessions"] = cost_chart(cost, as_of=as_of)
    return figures


def save_charts(figures: Mapping[str, Figure], out_dir: Path | str) -> list[Path]:
    """Writes each figure as <out_dir>/<name>.png; returns the paths."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, figure in figures.items():
        path = folder / f"{name}.png"
        figure.savefig(path, format="png")
        paths.append(path)
    return paths
