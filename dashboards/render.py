#!/usr/bin/env python3
"""Render a Grafana dashboard's panels from a Prometheus run into a PNG (matplotlib).

    python3 dashboards/render.py --prometheus http://127.0.0.1:9090 --seconds 300 \
        --dashboard dashboards/overview.json --out docs/overview.png

Each panel of the dashboard is drawn where its gridPos puts it, from the same PromQL the panel
runs in Grafana (Grafana's `$__rate_interval`/`$__range` replaced by fixed windows), queried
with /api/v1/query_range. The README's picture is made this way from a real loaded run:

    STROWGER_LOAD_SECS=120 STROWGER_RENDER_OVERVIEW=$PWD/docs/overview.png \
        cargo test --profile test-release --test prometheus

Needs matplotlib (`python3 -m pip install matplotlib`).
"""

import argparse
import json
import math
import re
import time
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

BG = "#111217"
PANEL = "#181b1f"
TEXT = "#ccccdc"
GRID = "#2c3235"
COLORS = ["#73bf69", "#f2cc0c", "#5794f2", "#ff9830", "#f2495c", "#b877d9", "#8ab8ff",
          "#ffcb7d", "#96d98d", "#ff7383", "#ca95e5", "#fade2a"]


def query_range(base, expr, start, end, step):
    q = urllib.parse.urlencode({"query": expr, "start": start, "end": end, "step": step})
    with urllib.request.urlopen(f"{base}/api/v1/query_range?{q}", timeout=30) as r:
        body = json.load(r)
    if body.get("status") != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def legend(fmt, metric):
    return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: metric.get(m.group(1), ""), fmt or "") \
        or json.dumps(metric)


def fmt_value(unit):
    def f(v, _pos=None):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return "–"
        if unit == "percentunit":
            return f"{v * 100:.1f}%"
        if unit == "s":
            if v == 0:
                return "0"
            if abs(v) < 1e-3:
                return f"{v * 1e6:.0f} µs"
            if abs(v) < 1:
                return f"{v * 1e3:.1f} ms"
            return f"{v:.1f} s"
        if unit == "bytes":
            for u in ["B", "KiB", "MiB", "GiB"]:
                if abs(v) < 1024:
                    return f"{v:.0f} {u}" if u == "B" else f"{v:.1f} {u}"
                v /= 1024
            return f"{v:.0f} TiB"
        suffix = "/s" if unit == "reqps" else ""
        if abs(v) >= 1000:
            return f"{v / 1000:.1f}k{suffix}"
        return f"{v:.3g}{suffix}"
    return f


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--prometheus", required=True, help="Prometheus base URL")
    ap.add_argument("--dashboard", default=None, help="dashboard JSON (default overview)")
    ap.add_argument("--seconds", type=int, default=300, help="time range ending now")
    ap.add_argument("--step", type=float, default=2.0)
    ap.add_argument("--rate-interval", default="15s")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dpi", type=int, default=70)
    a = ap.parse_args()
    path = a.dashboard or __file__.rsplit("/", 1)[0] + "/overview.json"
    with open(path) as f:
        board = json.load(f)

    end = time.time()
    start = end - a.seconds
    panels = board["panels"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(16, rows * 0.42), facecolor=BG)
    gs = GridSpec(rows, 24, figure=fig, left=0.04, right=0.99, top=0.965, bottom=0.02,
                  hspace=1.6, wspace=1.4)
    fig.suptitle(board["title"], color=TEXT, fontsize=15, x=0.04, ha="left")

    for p in panels:
        g = p["gridPos"]
        if p["type"] == "row":
            ax = fig.add_subplot(gs[g["y"], :])
            ax.axis("off")
            ax.text(0, 0.2, p["title"], color=TEXT, fontsize=12, fontweight="bold",
                    transform=ax.transAxes)
            continue
        ax = fig.add_subplot(gs[g["y"]:g["y"] + g["h"], g["x"]:g["x"] + g["w"]])
        ax.set_facecolor(PANEL)
        for s in ax.spines.values():
            s.set_color(GRID)
        ax.set_title(p["title"], color=TEXT, fontsize=9, loc="left")
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit", "short")
        series = []
        for t in p["targets"]:
            expr = (t["expr"].replace("$__rate_interval", a.rate_interval)
                    .replace("$__interval", f"{int(a.step)}s")
                    .replace("$__range", f"{a.seconds}s"))
            for r in query_range(a.prometheus, expr, start, end, a.step):
                xs = [float(v[0]) - start for v in r["values"]]
                ys = [float(v[1]) for v in r["values"]]
                series.append((legend(t.get("legendFormat"), r["metric"]), xs, ys))
        if p["type"] == "stat":
            ax.set_xticks([])
            ax.set_yticks([])
            last = next((y for _, _, ys in series for y in reversed(ys) if not math.isnan(y)),
                        float("nan"))
            if series:
                _, xs, ys = series[0]
                ax.fill_between(xs, ys, color="#73bf69", alpha=0.15, linewidth=0)
            ax.text(0.5, 0.4, fmt_value(unit)(last), color="#73bf69", fontsize=20,
                    ha="center", va="center", transform=ax.transAxes, fontweight="bold")
            continue
        stacked = (p.get("fieldConfig", {}).get("defaults", {}).get("custom", {})
                   .get("stacking", {}).get("mode") == "normal")
        series.sort(key=lambda s: -max((y for y in s[2] if not math.isnan(y)), default=0))
        if stacked and series:
            xs = series[0][1]
            ys = [[0.0 if math.isnan(y) else y for y in s[2]] for s in series
                  if len(s[2]) == len(xs)]
            labels = [s[0] for s in series if len(s[2]) == len(xs)]
            ax.stackplot(xs, *ys, labels=labels, colors=COLORS[:len(ys)], alpha=0.8)
        else:
            for i, (name, xs, ys) in enumerate(series):
                ax.plot(xs, ys, label=name, color=COLORS[i % len(COLORS)], linewidth=1.2)
        ax.tick_params(colors=TEXT, labelsize=7)
        ax.yaxis.set_major_formatter(FuncFormatter(fmt_value(unit)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:.0f}s"))
        ax.grid(color=GRID, linewidth=0.5)
        if series:
            ax.legend(fontsize=6, loc="upper left", ncol=4, frameon=False, labelcolor=TEXT)
    fig.savefig(a.out, dpi=a.dpi, facecolor=BG)


if __name__ == "__main__":
    main()
