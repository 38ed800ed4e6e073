#!/usr/bin/env python3
"""What one task costs the controller per host, over the lab's SSH connection, by kind of task.

A drift check's controller CPU per host is the sum of what each of its tasks costs there. This
bench runs small plays against the lab's hosts (check mode, nothing changes), interleaved and
``--repeat`` times each, in one run so the machine's noise hits every variant alike:

- ``connect`` - no task: the fixed cost of ``ansible-playbook`` plus one SSH connection per host
  (an ``ansible.builtin.ping``, the cheapest module);
- ``facts`` - the same plus fact gathering with the subset the Kubernetes play uses;
- ``assert`` / ``set_fact`` / ``debug-loop`` - ``--tasks`` controller-side tasks (no SSH);
- ``module`` - ``--tasks`` module calls over SSH with become (``ansible.builtin.stat``);
- ``skipped`` - ``--tasks`` tasks whose ``when`` is false (each still forks a worker to be skipped);
- ``meta-skip`` - ``--tasks`` ``meta: end_host`` whose ``when`` is false (judged in the main process);
- ``validate`` - ``--tasks`` ``validate_argument_spec`` calls with the sysctl_tuning role's spec (what
  Ansible runs before a role with ``meta/argument_specs.yml``).

It prints, for each kind, the controller CPU seconds per host and per task per host, the
difference from ``connect`` divided by the number of tasks (bench/timing.py counts the command,
its descendants and its SSH ControlPersist masters). Figures are printed, never asserted.

    . scripts/env.sh && python bench/task_cost.py [--inventory inventory/lab] [--repeat 3] [--tasks 10]

Needs the lab up (``edgeops lab up``); it changes nothing on the hosts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from timing import measure  # noqa: E402

PLAY = """\
- name: {kind}
  hosts: {hosts}
  become: true
  gather_facts: {gather}
  gather_subset: ["!all", "!min", network]
  vars_files: [{spec}]
  tasks:
    - name: Connect
      ansible.builtin.ping:
{tasks}"""

TASKS = {
    "connect": ("false", ""),
    "facts": ("true", ""),
    "assert": ("false", "    - ansible.builtin.assert: {that: [inventory_hostname != ''], quiet: true}\n"),
    "set_fact": ("false", '    - ansible.builtin.set_fact: {bench: "{{ inventory_hostname | upper }}"}\n'),
    "debug-loop": ("false", '    - ansible.builtin.debug: {msg: "{{ item }}"}\n      loop: []\n'),
    "module": ("false", "    - ansible.builtin.stat: {path: /etc/hostname}\n"),
    "skipped": (
        "false",
        "    - ansible.builtin.stat: {path: /etc/hostname}\n      when: inventory_hostname == \"\"\n",
    ),
    "meta-skip": ("false", "    - ansible.builtin.meta: end_host\n      when: inventory_hostname == ''\n"),
    "validate": ("false", "    - ansible.builtin.validate_argument_spec: {argument_spec: \"{{ spec }}\"}\n"),
}
SPEC = ROOT / "roles" / "sysctl_tuning" / "meta" / "argument_specs.yml"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inventory", default=str(ROOT / "inventory" / "lab"))
    ap.add_argument("--hosts", default="k8s_cluster", help="host pattern (default: the Kubernetes nodes)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--tasks", type=int, default=10, help="tasks of the measured kind per play")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="edgeops-task-cost-") as tmp:
        plays = {}
        for kind, (gather, task) in TASKS.items():
            path = Path(tmp) / f"{kind}.yml"
            body = "" if kind in ("connect", "facts") else task * args.tasks
            spec = Path(tmp) / "spec.yml"
            if not spec.exists():
                specs = yaml.safe_load(SPEC.read_text())["argument_specs"]["main"]["options"]
                spec.write_text(yaml.safe_dump({"spec": specs}))
            path.write_text(PLAY.format(kind=kind, hosts=args.hosts, gather=gather, tasks=body, spec=spec))
            plays[kind] = path
        listed = subprocess.run(
            ["ansible", "-i", args.inventory, args.hosts, "--list-hosts"],
            capture_output=True,
            text=True,
            check=False,
        )
        n_hosts = sum(1 for line in listed.stdout.splitlines()[1:] if line.strip())
        if listed.returncode != 0 or n_hosts == 0:
            print(f"no hosts match {args.hosts} in {args.inventory}: is the lab up?", file=sys.stderr)
            return 1
        cpu: dict[str, list[float]] = {k: [] for k in plays}
        for _ in range(args.repeat):
            for kind, path in plays.items():
                env = dict(os.environ, ANSIBLE_SSH_CONTROL_PATH_DIR=tempfile.mkdtemp(dir=tmp))
                s = measure(["ansible-playbook", "-i", args.inventory, str(path), "--check"], env, cwd=ROOT)
                if s.rc != 0:
                    print(f"{kind}: ansible-playbook failed (rc {s.rc})", file=sys.stderr)
                    return 1
                cpu[kind].append(s.cpu)

    base = statistics.median(cpu["connect"])
    print(f"{n_hosts} hosts, {args.tasks} tasks per play, {args.repeat} runs each (median)")
    print(f"{'kind':<12} {'CPU-s/run':>10} {'CPU-s/host':>11} {'per task per host':>18}")
    for kind, values in cpu.items():
        med = statistics.median(values)
        if kind == "connect":
            per_task = "-"
        elif kind == "facts":
            per_task = f"{(med - base) / n_hosts:.3f} (once)"
        else:
            per_task = f"{(med - base) / n_hosts / args.tasks:.3f}"
        print(f"{kind:<12} {med:>10.2f} {med / n_hosts:>11.2f} {per_task:>18}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
