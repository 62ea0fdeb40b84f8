#!/usr/bin/env python3
"""Summarises the benchmark's JSON reports (bench/results/<scenario>/<target>-<n>.json) into the
Markdown tables of bench/README.md: the median over repeats of each figure, per target, and the
ratios the targets are stated in. Usage: bench/summarize.py [RESULTS_DIR]"""

import glob
import json
import os
import statistics
import sys
from collections import defaultdict

RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "results")
ORDER = ["makerpulse", "ceiling", "ws", "socketio", "sockudo", "one-instance", "two-instances",
         "socket", "http", "http-one"]
NAMES = {
    "makerpulse": "makerpulse",
    "ceiling": "ceiling (raw tokio-tungstenite)",
    "ws": "Node.js ws",
    "socketio": "Socket.IO",
    "sockudo": "Sockudo (Pusher)",
    "one-instance": "makerpulse, one instance",
    "two-instances": "makerpulse, two instances + Redis",
    "socket": "the socket's own snapshot",
    "http": "GET …/snapshot (gzip, br), then the socket on a connection of its own",
    "http-one": "GET …/snapshot (gzip, br), then the socket's upgrade on the same connection",
}


def load(scenario):
    runs = defaultdict(list)
    for path in sorted(glob.glob(os.path.join(RESULTS, scenario, "*.json"))):
        target = os.path.basename(path).rsplit("-", 1)[0]
        with open(path) as f:
            runs[target].append(json.load(f))
    return [(t, runs[t]) for t in ORDER if t in runs]


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v, digits=1):
    if v is None:
        return "—"
    if isinstance(v, float) and v != v:
        return "—"
    return f"{v:,.{digits}f}"


def clean(r):
    c = r["checks"]
    return (
        r["connections_held"] == r["viewers"]
        and c["connect_errors"] == 0
        and c["errors"] == 0
        and c["gaps"] == 0
        and c["bad_snapshots"] == 0
        and c["write_errors"] == 0
        and all(s["delivered"] == s["expected"] for s in r["steps"])
    )


def loads(runs):
    return " ".join(f"{r['load_average'][0]:.1f}" for r in runs)


def answers(steps):
    """Command answer latency (reports from before it was recorded have none)."""
    got = [x["answer_ms"] for x in steps if x.get("answer_ms", {}).get("max")]
    if not got:
        return "—"
    return " / ".join(fmt(med([a[k] for a in got])) for k in ("p50", "p99", "max"))


def steady(scenario):
    rows = load(scenario)
    if not rows:
        return
    print(f"\n### {scenario}\n")
    print("| target | runs | clean | delivered / owed | msg/s | B/msg | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | answers p50 / p99 / max ms | server CPU s | p99 ÷ ceiling | load at start |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    ceiling = med([r["steps"][0]["latency_ms"]["p99"] for t, runs in rows if t == "ceiling" for r in runs])
    for t, runs in rows:
        s = [r["steps"][0] for r in runs]
        p99 = med([x["latency_ms"]["p99"] for x in s])
        ratio = p99 / ceiling if (p99 is not None and ceiling) else None
        print(
            f"| {NAMES.get(t, t)} | {len(runs)} | {sum(clean(r) for r in runs)}/{len(runs)} "
            f"| {fmt(med([x['delivered'] / max(x['expected'], 1) * 100 for x in s]))} % "
            f"| {fmt(med([x['delivered_per_s'] for x in s]), 0)} | {fmt(med([x['message_bytes'] for x in s]), 0)} "
            f"| {fmt(med([x['latency_ms']['p50'] for x in s]))} | {fmt(med([x['latency_ms']['p90'] for x in s]))} "
            f"| {fmt(p99)} | {fmt(med([x['latency_ms']['p999'] for x in s]))} | {fmt(med([x['latency_ms']['max'] for x in s]))} "
            f"| {answers(s)} "
            f"| {fmt(med([x['server_cpu_s'] for x in s]))} | {fmt(ratio, 2)} | {loads(runs)} |"
        )


def saturation(scenario):
    rows = load(scenario)
    if not rows:
        return
    print(f"\n### {scenario}\n")
    print("| target | runs | best msg/s at p99 ≤ 250 ms, all delivered (median) | at events/s | each run | ÷ Node ws | ÷ ceiling | load at start |")
    print("|---|---|---|---|---|---|---|---|")
    best = {}
    for t, runs in rows:
        per_run = []
        for r in runs:
            ok = [s for s in r["steps"] if s["latency_ms"]["p99"] <= 250 and s["delivered"] == s["expected"] and s["events"] > 0]
            top = max(ok, key=lambda s: s["delivered_per_s"]) if ok else None
            per_run.append((top["delivered_per_s"], top["rate"]) if top else (0.0, 0.0))
        best[t] = (med([p[0] for p in per_run]), med([p[1] for p in per_run]), per_run)
    for t, runs in rows:
        value, rate, per_run = best[t]
        ws = best.get("ws", (None,))[0]
        ceiling = best.get("ceiling", (None,))[0]
        print(
            f"| {NAMES.get(t, t)} | {len(runs)} | {fmt(value, 0)} | {fmt(rate, 0)} "
            f"| {', '.join(fmt(p[0], 0) for p in per_run)} "
            f"| {fmt(value / ws, 2) if ws else '—'} | {fmt(value / ceiling, 2) if ceiling else '—'} | {loads(runs)} |"
        )


def join(scenario):
    rows = load(scenario)
    if not rows:
        return
    print(f"\n### {scenario}\n")
    print("| target | runs | connections held | join s (each run) | join s (median) | first snapshot p50 / p99 / max ms | server / load generator CPU s in the join | HTTP snapshots (compressed / equal to the socket's), MB sent | bad snapshots | load at start |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for t, runs in rows:
        joins = [r.get("join") or {} for r in runs]
        print(
            f"| {NAMES.get(t, t)} | {len(runs)} | {fmt(med([r['connections_held'] for r in runs]), 0)} "
            f"| {', '.join(fmt(r['join_s'], 2) for r in runs)} "
            f"| {fmt(med([r['join_s'] for r in runs]), 2)} "
            f"| {fmt(med([r['first_snapshot_ms']['p50'] for r in runs]))} / {fmt(med([r['first_snapshot_ms']['p99'] for r in runs]))} / {fmt(med([r['first_snapshot_ms']['max'] for r in runs]))} "
            f"| {fmt(med([j.get('server_cpu_s') for j in joins]), 2)} / {fmt(med([j.get('loadgen_cpu_s') for j in joins]), 2)} "
            f"| {fmt(med([j.get('http_snapshots') for j in joins]), 0)} ({fmt(med([j.get('http_compressed') for j in joins]), 0)} / {fmt(med([j.get('http_same_as_socket') for j in joins]), 0)}), "
            f"{fmt(med([j.get('http_wire_bytes', 0) / 1e6 for j in joins]))} "
            f"| {sum(r['checks']['bad_snapshots'] for r in runs)} | {loads(runs)} |"
        )


def reconnect(scenario):
    rows = load(scenario)
    if not rows:
        return
    print(f"\n### {scenario}\n")
    print("| target | runs | viewers | all welcomed again s | all resumed s | resumed with the missed messages | with a snapshot | gaps | delivered / owed | p99 ms | load at start |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for t, runs in rows:
        rc = [r["reconnect"] for r in runs if r.get("reconnect")]
        s = [r["steps"][0] for r in runs]
        print(
            f"| {NAMES.get(t, t)} | {len(runs)} | {fmt(med([x['viewers'] for x in rc]), 0)} "
            f"| {fmt(med([x['all_welcomed_s'] for x in rc]), 2)} | {fmt(med([x['all_resumed_s'] for x in rc]), 2)} "
            f"| {fmt(med([x['resumed_with_missed_messages'] for x in rc]), 0)} | {fmt(med([x['resumed_with_snapshot'] for x in rc]), 0)} "
            f"| {sum(r['checks']['gaps'] for r in runs)} "
            f"| {fmt(med([x['delivered'] / max(x['expected'], 1) * 100 for x in s]))} % "
            f"| {fmt(med([x['latency_ms']['p99'] for x in s]))} | {loads(runs)} |"
        )


def memory(scenario):
    rows = load(scenario)
    if not rows:
        return
    print(f"\n### {scenario}\n")
    print("| target | runs | connections held | server RSS before MiB | connected MiB | bytes per connection | KiB per connection | load at start |")
    print("|---|---|---|---|---|---|---|---|")
    for t, runs in rows:
        per = med([r["server_bytes_per_connection"] for r in runs])
        print(
            f"| {NAMES.get(t, t)} | {len(runs)} | {fmt(med([r['connections_held'] for r in runs]), 0)} "
            f"| {fmt(med([r['server'][0]['rss_kib'] / 1024 for r in runs]))} | {fmt(med([r['server'][1]['rss_kib'] / 1024 for r in runs]))} "
            f"| {fmt(per, 0)} | {fmt(per / 1024 if per else None)} | {loads(runs)} |"
        )


if __name__ == "__main__":
    for scenario in sorted(os.listdir(RESULTS)) if os.path.isdir(RESULTS) else []:
        if scenario.startswith("s1") or scenario.startswith("s5") or scenario.startswith("s7"):
            steady(scenario)
        elif scenario.startswith("s2"):
            saturation(scenario)
        elif scenario.startswith("s3") or scenario.startswith("s8"):
            join(scenario)
        elif scenario.startswith("s4"):
            reconnect(scenario)
        elif scenario.startswith("s6"):
            memory(scenario)
