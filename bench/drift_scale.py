#!/usr/bin/env python3
"""What a full-site drift check costs per host, over SSH, at 5 + N hosts: today's roles against a baseline.

For each N (default 10, 25, 50) the 5-host lab gets N more light worker nodes
(``bench-node-<i>``: the lab image with ``edgeops-init --light`` - the same read-only
/proc/sys, sshd as PID 1 and no systemd, so that 50 fit where systemd's inotify instances
would not; reached over SSH like the rest; ``kubeadm_configure_containerd: false``, the one
service task a node without systemd cannot run), everything is converged once with
``edgeops apply``, and then, interleaved, ``--repeat`` times each:

- ``edgeops drift`` - today's collection, the concern report (one module call per concern);
- ``baseline`` - plain ``ansible-playbook edgeops.gitops.site --check --diff`` of the
  collection at ``--baseline`` (default: the commit before the per-concern modules, its
  roles checked out from Git into a temporary collection path), the way users ran it;
- with ``--mitogen`` (when the ``mitogen`` extra is installed): both again with
  ``edgeops --strategy mitogen`` / ``ANSIBLE_STRATEGY=mitogen_linear``.

It prints per run the wall time, the controller CPU seconds (user+sys of the command, its
descendants and its SSH ControlPersist masters - bench/timing.py), controller CPU per host,
the hosts' CPU per host (``podman stats`` CPU time of every lab container, before and after),
each variant's ratio to the baseline, the concerns each variant found drifted (both must find
the same: the lab is converged, so none), and a projection for 1,000 hosts at ``--forks``
(controller-bound: 1,000 x CPU per host / cores; latency-bound: wall per host batch x
1,000 / forks; the larger).  Figures are printed, never asserted.

    . scripts/env.sh && python bench/drift_scale.py [--sizes 10,25,50] [--repeat 2] [--mitogen]

Needs the lab up over SSH (``edgeops lab up``). The extra nodes are removed at the end
(also on error); the lab itself is left as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from timing import measure  # noqa: E402

from edgeops.lab.manager import Lab, LabConfig  # noqa: E402
from edgeops.lab.topology import REFERENCE, LabHost  # noqa: E402
from edgeops.strategy import strategy_env  # noqa: E402

PREFIX = "bench-node-"
BASELINE = "df5413f"  # the last commit whose roles checked state task by task
FIRST_ADDRESS = 100  # bench nodes get 10.213.7.100 and up


def bench_hosts(n: int) -> tuple[LabHost, ...]:
    return tuple(
        LabHost(
            f"{PREFIX}{i}",
            ("k8s_worker",),
            f"10.213.7.{FIRST_ADDRESS + i}",
            2048,
            hostvars={"kubeadm_configure_containerd": False},
            light=True,
        )
        for i in range(n)
    )


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


def remove_bench_nodes() -> None:
    names = [n for n in podman("ps", "-a", "--format", "{{.Names}}").stdout.split() if n.startswith(PREFIX)]
    for i in range(0, len(names), 20):
        podman("rm", "-f", "-t", "0", *names[i : i + 20], check=False)


def container_cpu(names: list[str]) -> float:
    """Total CPU seconds the named containers have used so far."""
    out = podman("stats", "--no-stream", "--format", "{{.Name}} {{.CPUNano}}", *names).stdout
    return sum(int(line.split()[1]) for line in out.splitlines() if len(line.split()) == 2) / 1e9


def baseline_collection(rev: str, dest: Path) -> Path:
    """The collection at ``rev`` as an ANSIBLE_COLLECTIONS_PATH entry (plus today's dependencies)."""
    tree = dest / "ansible_collections" / "edgeops" / "gitops"
    tree.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", rev, "galaxy.yml", "meta", "plugins", "roles", "playbooks"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return dest


def drifted(report_path: Path) -> list[tuple[str, str]]:
    """(host, concern) pairs that are not in sync in a drift report."""
    try:
        report = json.loads(report_path.read_text())
    except (OSError, ValueError):
        return [("?", "no report")]
    return sorted(
        (h["name"], c["name"])
        for h in report.get("hosts", [])
        for c in h.get("concerns", [])
        if c.get("status") != "in_sync"
    )


def run_variant(
    name: str, inventory: Path, hosts: list[str], env: dict[str, str], forks: int, base_paths: str, work: Path
) -> dict[str, Any]:
    report = work / f"{name}.json"
    report.unlink(missing_ok=True)
    e = dict(env, ANSIBLE_FORKS=str(forks))
    control = Path(tempfile.mkdtemp(prefix="cp-", dir="/tmp"))  # short path: ssh's socket name limit
    e["ANSIBLE_SSH_CONTROL_PATH_DIR"] = str(control)
    if name.startswith("edgeops"):
        cmd = (
            ["edgeops"]
            + (["--strategy", "mitogen"] if "mitogen" in name else [])
            + [
                "drift",
                "-i",
                str(inventory),
                "-f",
                str(forks),
                "-o",
                str(report),
                "--audit-log",
                str(work / "audit.jsonl"),
            ]
        )
    else:
        e["ANSIBLE_COLLECTIONS_PATH"] = base_paths
        e["ANSIBLE_CALLBACKS_ENABLED"] = "edgeops.gitops.drift"
        e["EDGEOPS_DRIFT_REPORT"] = str(report)
        e["EDGEOPS_DRIFT_AUDIT"] = "false"
        if "mitogen" in name:
            e.update(strategy_env("mitogen"))  # the CLI's own switch
        cmd = ["ansible-playbook", "edgeops.gitops.site", "-i", str(inventory), "--check", "--diff"]
    before = container_cpu(hosts)
    sample = measure(cmd, e, cwd=ROOT)
    target = container_cpu(hosts) - before
    shutil.rmtree(control, ignore_errors=True)
    return {
        "variant": name,
        "wall": sample.wall,
        "cpu": sample.cpu,
        "target": target,
        "rc": sample.rc,
        "drifted": drifted(report),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10,25,50", help="extra nodes per step (default 10,25,50)")
    ap.add_argument("--repeat", type=int, default=2, help="runs of each variant per size (interleaved)")
    ap.add_argument("--forks", type=int, default=50)
    ap.add_argument("--baseline", default=BASELINE, help="Git revision of the baseline collection")
    ap.add_argument("--mitogen", action="store_true", help="also measure with the mitogen strategy")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    inv_src = ROOT / "inventory" / "lab"
    if (
        not (inv_src / "hosts.yml").exists()
        or "ansible_connection: ssh" not in (inv_src / "hosts.yml").read_text()
    ):
        print("drift_scale: needs the lab up over SSH: edgeops lab up", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="drift-scale-", dir="/var/tmp"))
    variants = ["baseline", "edgeops"] + (["baseline+mitogen", "edgeops+mitogen"] if args.mitogen else [])
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", NO_COLOR="1")
    base_paths = (
        f"{baseline_collection(args.baseline, work / 'baseline')}:{env.get('ANSIBLE_COLLECTIONS_PATH', '')}"
    )
    rows: list[dict[str, Any]] = []
    try:
        for n in sizes:
            inventory = work / f"inventory-{n}"
            shutil.copytree(inv_src / "group_vars", inventory / "group_vars")
            all_hosts = REFERENCE + bench_hosts(n)
            lab = Lab(LabConfig(hosts=all_hosts, inventory_dir=inventory, boot_timeout=90.0 + 10 * n))
            print(f"== {len(all_hosts)} hosts: bringing up {n} bench nodes ...", flush=True)
            lab.up()
            names = [h.name for h in all_hosts]
            conv = measure(
                [
                    "edgeops",
                    "apply",
                    "-i",
                    str(inventory),
                    "-f",
                    str(args.forks),
                    "-o",
                    str(work / f"apply-{n}.json"),
                    "--audit-log",
                    str(work / "audit.jsonl"),
                ],
                env,
                cwd=ROOT,
            )
            print(f"   converged (edgeops apply rc={conv.rc}, {conv.wall:.0f} s)", flush=True)
            for rep in range(args.repeat):
                order = variants if rep % 2 == 0 else list(reversed(variants))
                for name in order:
                    row = run_variant(name, inventory, names, env, args.forks, base_paths, work)
                    row.update(hosts=len(names), rep=rep)
                    rows.append(row)
                    print(
                        f"   {name:<18} wall {row['wall']:6.1f} s  controller {row['cpu']:6.1f} CPU-s "
                        f"({row['cpu'] / len(names):.2f}/host)  "
                        f"hosts {row['target'] / len(names):.2f} CPU-s/host"
                        f"  rc {row['rc']}  drifted {row['drifted'] or 'none'}",
                        flush=True,
                    )
    finally:
        remove_bench_nodes()
        shutil.rmtree(work, ignore_errors=True)
    print(
        "\nsize  variant             wall s  ctrl CPU-s/host  host CPU-s/host  ctrl ratio to baseline"
        "  1,000 hosts (min)"
    )
    cores = os.cpu_count() or 1
    for hosts in sorted({r["hosts"] for r in rows}):
        base = [r for r in rows if r["hosts"] == hosts and r["variant"] == "baseline"]
        base_cpu = sum(r["cpu"] for r in base) / len(base) / hosts if base else float("nan")
        for name in variants:
            mine = [r for r in rows if r["hosts"] == hosts and r["variant"] == name]
            if not mine:
                continue
            wall = sum(r["wall"] for r in mine) / len(mine)
            cpu = sum(r["cpu"] for r in mine) / len(mine) / hosts
            target = sum(r["target"] for r in mine) / len(mine) / hosts
            cpu_bound = 1000 * cpu / cores
            latency_bound = (
                wall * 1000 / max(hosts, args.forks)
            )  # batches of --forks hosts, each as slow as this run
            projection = max(cpu_bound, latency_bound) / 60
            print(
                f"{hosts:>4}  {name:<18} {wall:7.1f}  {cpu:15.2f}  {target:15.2f}  "
                f"{base_cpu / cpu if cpu else float('nan'):>21.1f}x  {projection:16.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
