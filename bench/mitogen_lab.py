#!/usr/bin/env python3
"""``edgeops drift`` on the lab with Ansible's linear strategy and with Mitogen, side by side.

Runs, interleaved (linear, mitogen, linear, mitogen, ...), ``--reps`` times
each, on the same converged lab and inventory:

    edgeops [--strategy mitogen] drift -i INVENTORY --format json -o <report>

and prints per run: wall seconds, controller CPU seconds (user+sys of edgeops,
ansible-playbook, its workers, and the SSH processes, ControlPersist masters
included: see bench/timing.py), CPU seconds per host, the drift exit code and
whether the report equals the first linear run's; then the mean of each
strategy and the ratios.  Each run starts cold (its own SSH control path
directory), as a scheduled drift check does.  Figures are printed, never
asserted.

    . scripts/env.sh && flock /var/tmp/edgeops-podman.lock edgeops lab up
    python bench/mitogen_lab.py [-i inventory/lab] [--reps 3] [--apply]

``--apply`` converges the lab first (``edgeops apply``), so that every drift
run finds it in sync.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from timing import Sample, measure

ROOT = Path(__file__).resolve().parents[1]
STRATEGIES = ("linear", "mitogen")


def report_shape(report: dict[str, Any]) -> list[tuple[str, str, str, int]]:
    """What a drift report found, without times: (host, concern, status, number of items)."""
    return sorted(
        (h["name"], c["name"], c["status"], len(c.get("items", [])))
        for h in report.get("hosts", []) for c in h.get("concerns", [])
    )


def run_drift(strategy: str, inventory: list[str], tmp: Path, n: int) -> tuple[Sample, dict[str, Any]]:
    """One measured ``edgeops drift`` with ``strategy``; the sample and the report."""
    out = tmp / f"{n:02d}-{strategy}.json"
    cp = tmp / f"cp-{n:02d}"  # a cold start: no SSH master from an earlier run
    cp.mkdir()
    env = {
        **os.environ,
        "ANSIBLE_SSH_CONTROL_PATH_DIR": str(cp),
        "EDGEOPS_AUDIT_LOG": str(tmp / "audit.jsonl"),
        "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts"),
        "NO_COLOR": "1",
    }
    cmd = [sys.executable, "-m", "edgeops", "--strategy", strategy, "drift",
           *[x for inv in inventory for x in ("-i", inv)], "--format", "json", "-o", str(out)]
    sample = measure(cmd, env, cwd=ROOT)
    try:
        report: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        report = {}
    return sample, report


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-i", "--inventory", action="append", help="default inventory/lab")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--apply", action="store_true", help="converge with edgeops apply first")
    args = ap.parse_args(argv)
    inventory = args.inventory or [str(ROOT / "inventory" / "lab")]
    with tempfile.TemporaryDirectory(prefix="edgeops-mitogen-bench-") as t:
        tmp = Path(t)
        if args.apply:
            s = measure([sys.executable, "-m", "edgeops", "apply",
                         *[x for inv in inventory for x in ("-i", inv)], "--format", "json",
                         "-o", str(tmp / "apply.json")],
                        {**os.environ, "EDGEOPS_AUDIT_LOG": str(tmp / "audit.jsonl"),
                         "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts")}, cwd=ROOT)
            print(f"apply: rc={s.rc} wall={s.wall:.1f}s cpu={s.cpu:.1f}s", flush=True)
            if s.rc != 0:
                return 1
        rows: list[tuple[int, str, Sample, int, bool]] = []
        reference: list[tuple[str, str, str, int]] | None = None
        print(f"{'run':>3}  {'strategy':8}  {'wall s':>7}  {'CPU s':>6}  {'user':>6}  {'sys':>6}  "
              f"{'CPU s/host':>10}  {'hosts':>5}  {'orphans':>7}  rc  same report", flush=True)
        n = 0
        for _rep in range(args.reps):
            for strategy in STRATEGIES:
                n += 1
                sample, report = run_drift(strategy, inventory, tmp, n)
                hosts = len(report.get("hosts", [])) or 1
                shape = report_shape(report)
                if reference is None and strategy == "linear":
                    reference = shape
                same = bool(shape) and shape == reference
                rows.append((n, strategy, sample, hosts, same))
                print(f"{n:>3}  {strategy:8}  {sample.wall:7.1f}  {sample.cpu:6.1f}  {sample.user:6.1f}  "
                      f"{sample.sys:6.1f}  {sample.cpu / hosts:10.2f}  {hosts:>5}  {sample.orphans:>7}  "
                      f"{sample.rc:>2}  {'yes' if same else 'NO'}", flush=True)
        means: dict[str, tuple[float, float, float]] = {}
        for strategy in STRATEGIES:
            sel = [(s, h) for _, st, s, h, _ in rows if st == strategy]
            wall = statistics.mean(s.wall for s, _ in sel)
            cpu = statistics.mean(s.cpu for s, _ in sel)
            per_host = statistics.mean(s.cpu / h for s, h in sel)
            means[strategy] = (wall, cpu, per_host)
            print(f"mean {strategy:8}  wall {wall:6.1f} s (min {min(s.wall for s, _ in sel):.1f}, max "
                  f"{max(s.wall for s, _ in sel):.1f})  CPU {cpu:6.1f} s  {per_host:.2f} CPU-s/host")
        lw, lc, _ = means["linear"]
        mw, mc, _ = means["mitogen"]
        print(f"linear / mitogen: wall {lw / mw:.2f}x, controller CPU {lc / mc:.2f}x")
        bad = [r for r in rows if r[2].rc != 0 or not r[4]]
        if bad:
            print(f"{len(bad)} run(s) did not exit 0 with the same report as the first linear run",
                  file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
