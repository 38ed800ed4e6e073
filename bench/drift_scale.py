#!/usr/bin/env python3
"""How ``edgeops drift`` scales: N light hosts running the sysctl_tuning role.

For each N (default 10, 25, 50) this starts N containers from the lab image
WITHOUT systemd (``sleep infinity`` behind the same /proc/sys protection the
lab's init uses, so the host's global sysctls cannot change), converges them
once with ``edgeops apply``, then measures on the same hosts and playbook:

- ``edgeops drift`` (ansible-runner, the report built by the drift callback), and
- ``ansible-playbook --check --diff`` (plain, default stdout callback),

reporting wall time and controller CPU seconds (user+sys of the command and
every descendant it waited for: ansible-playbook, its workers, the podman
exec clients), per host, the edgeops/ansible-playbook ratio, and a projection
for 1000 hosts at the forks used.  Figures are printed, never asserted.

    . scripts/env.sh && python bench/drift_scale.py [--sizes 10,25,50] [--forks 10]

Containers are named drift-bench-<i> and removed at the end (also on error).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PREFIX = "drift-bench-"
PROTECT = (
    "for d in fs kernel vm dev debug abi user; do "
    "[ -d /proc/sys/$d ] && mount --bind /proc/sys/$d /proc/sys/$d && "
    "mount -o remount,bind,ro /proc/sys/$d; done; exec sleep infinity"
)
PLAYBOOK = """\
- name: Kernel network profile (drift_scale bench)
  hosts: all
  gather_facts: {facts}
  roles:
    - role: edgeops.gitops.sysctl_tuning
"""


def podman(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check)


def start(n: int, image: str) -> list[str]:
    names = [f"{PREFIX}{i}" for i in range(n)]
    existing = set(podman("ps", "-a", "--format", "{{.Names}}").stdout.split())
    for name in names:
        if name not in existing:
            podman("run", "-d", "--name", name, "--hostname", name, "--privileged",
                   "--label", "io.edgeops.bench=drift_scale", image, "sh", "-c", PROTECT)
    return names


def remove_all() -> None:
    names = [n for n in podman("ps", "-a", "--format", "{{.Names}}").stdout.split() if n.startswith(PREFIX)]
    for i in range(0, len(names), 20):
        podman("rm", "-f", "-t", "0", *names[i:i + 20], check=False)


def measured(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user+sys of cmd and its waited-for descendants), rc."""
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10,25,50")
    ap.add_argument("--forks", type=int, default=10)
    ap.add_argument("--image", default="localhost/edgeops-lab:bookworm")
    ap.add_argument("--keep", action="store_true", help="leave the containers running")
    ap.add_argument("--facts", action="store_true",
                    help="gather facts (the role needs none; the site playbook gathers them)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    edgeops = [sys.executable, "-m", "edgeops"]
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix="drift-bench-") as t:
            tmp = Path(t)
            playbook = tmp / "sysctl.yml"
            playbook.write_text(PLAYBOOK.format(facts=str(args.facts).lower()))
            env = {**os.environ, "EDGEOPS_AUDIT_LOG": str(tmp / "audit.jsonl"),
                   "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts"), "NO_COLOR": "1",
                   "ANSIBLE_FORKS": str(args.forks)}
            for n in sizes:
                t0 = time.monotonic()
                names = start(n, args.image)
                boot = time.monotonic() - t0
                inv = tmp / f"hosts-{n}.yml"
                inv.write_text(json.dumps({"all": {
                    "hosts": {name: {} for name in names},
                    "vars": {"ansible_connection": "containers.podman.podman",
                             "ansible_python_interpreter": "/usr/bin/python3"},
                }}))
                report = tmp / f"drift-{n}.json"
                common = [str(playbook), "-i", str(inv), "--forks", str(args.forks)]
                a_wall, a_cpu, a_rc = measured(
                    [*edgeops, "apply", *common, "-o", str(tmp / "apply.json")], env)
                d_wall, d_cpu, d_rc = measured([*edgeops, "drift", *common, "-o", str(report)], env)
                p_wall, p_cpu, p_rc = measured(
                    ["ansible-playbook", "--check", "--diff", "-i", str(inv), "--forks", str(args.forks),
                     str(playbook)], env)
                outcome = json.loads(report.read_text())["outcome"] if report.exists() else "?"
                rows.append({"n": n, "boot": boot, "apply": (a_wall, a_cpu, a_rc),
                             "drift": (d_wall, d_cpu, d_rc), "playbook": (p_wall, p_cpu, p_rc),
                             "outcome": outcome})
                print(f"N={n}: started in {boot:.1f}s; apply rc={a_rc} {a_wall:.1f}s; "
                      f"edgeops drift rc={d_rc} ({outcome}) {d_wall:.1f}s wall {d_cpu:.1f} CPU-s; "
                      f"ansible-playbook --check --diff rc={p_rc} {p_wall:.1f}s wall {p_cpu:.1f} CPU-s",
                      flush=True)
    finally:
        if not args.keep:
            remove_all()
    cores = os.cpu_count() or 1
    print()
    print(f"forks={args.forks}, gather_facts={args.facts}, controller cores={cores}, "
          "CPU-s = user+sys of the command and its children")
    hdr = (f"{'N':>4} {'drift wall s':>12} {'drift CPU-s':>11} {'CPU-s/host':>10} {'wall s/host':>11} "
           f"{'a-p wall s':>10} {'a-p CPU-s':>9} {'wall ratio':>10} {'CPU ratio':>9}")
    print(hdr)
    for r in rows:
        dw, dc, _ = r["drift"]
        pw, pc, _ = r["playbook"]
        print(f"{r['n']:>4} {dw:>12.1f} {dc:>11.1f} {dc / r['n']:>10.3f} {dw / r['n']:>11.3f} "
              f"{pw:>10.1f} {pc:>9.1f} {dw / pw:>10.2f} {dc / pc:>9.2f}")
    if len(rows) >= 2:
        (n1, w1), (n2, w2) = [(r["n"], r["drift"][0]) for r in rows[-2:]]
        slope = (w2 - w1) / (n2 - n1)
        fixed = w1 - slope * n1
        cpu_per_host = rows[-1]["drift"][1] / rows[-1]["n"]
        print()
        print(f"projection for 1000 hosts at forks={args.forks} (linear fit of the two largest N: "
              f"{fixed:.1f}s + {slope:.3f}s/host): {fixed + slope * 1000:.0f}s wall "
              f"= {(fixed + slope * 1000) / 60:.1f} min")
        (c1, c2) = [r["drift"][1] for r in rows[-2:]]
        cpu_slope = (c2 - c1) / (n2 - n1)
        print(f"marginal controller CPU per extra host (two largest N): {cpu_slope:.3f} CPU-s "
              f"(ansible-playbook: {(rows[-1]['playbook'][1] - rows[-2]['playbook'][1]) / (n2 - n1):.3f})")
        print(f"controller CPU for 1000 hosts at {cpu_per_host:.3f} CPU-s/host: {cpu_per_host * 1000:.0f} "
              f"CPU-s, at least {cpu_per_host * 1000 / cores / 60:.1f} min wall on {cores} cores")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    print(f"(bench driver itself: {ru.ru_utime + ru.ru_stime:.1f} CPU-s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
