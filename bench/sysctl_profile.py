#!/usr/bin/env python3
"""Benchmark: a 30-key sysctl profile through edgeops.gitops.sysctl_profile (one call)
against ansible.posix.sysctl in a loop (the common pattern), converge and check.

Runs on the lab (`edgeops lab up`; inventory/lab/hosts.yml) or any inventory given
with --inventory.  The 30 keys are per network namespace (net.ipv4.*), so a
container's writes stay in the container.  The runtime values found before the
run are put back and the bench files removed at the end, also after a failure.

Prints the wall times of each phase and the ratios; asserts nothing.

    . scripts/env.sh && python bench/sysctl_profile.py [--inventory FILE] [--limit PATTERN]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILE_PROFILE = "/etc/sysctl.d/97-edgeops-bench-profile.conf"
FILE_POSIX = "/etc/sysctl.d/97-edgeops-bench-posix.conf"
FILE_RESTORE = "/etc/sysctl.d/97-edgeops-bench-restore.conf"

# 30 per-netns keys; about half differ from a fresh namespace's defaults.
SETTINGS = {
    "net.ipv4.tcp_keepalive_time": 600,
    "net.ipv4.tcp_keepalive_intvl": 30,
    "net.ipv4.tcp_keepalive_probes": 5,
    "net.ipv4.tcp_fin_timeout": 30,
    "net.ipv4.tcp_syn_retries": 5,
    "net.ipv4.tcp_synack_retries": 4,
    "net.ipv4.tcp_retries1": 4,
    "net.ipv4.tcp_retries2": 8,
    "net.ipv4.tcp_max_tw_buckets": 262144,
    "net.ipv4.tcp_tw_reuse": 1,
    "net.ipv4.tcp_sack": 1,
    "net.ipv4.tcp_timestamps": 1,
    "net.ipv4.tcp_window_scaling": 1,
    "net.ipv4.tcp_mtu_probing": 1,
    "net.ipv4.tcp_slow_start_after_idle": 0,
    "net.ipv4.tcp_no_metrics_save": 1,
    "net.ipv4.tcp_notsent_lowat": 131072,
    "net.ipv4.tcp_fastopen": 3,
    "net.ipv4.tcp_ecn": 1,
    "net.ipv4.tcp_reordering": 3,
    "net.ipv4.tcp_min_snd_mss": 48,
    "net.ipv4.tcp_base_mss": 1024,
    "net.ipv4.tcp_probe_threshold": 8,
    "net.ipv4.tcp_probe_interval": 600,
    "net.ipv4.icmp_echo_ignore_broadcasts": 1,
    "net.ipv4.icmp_ratelimit": 500,
    "net.ipv4.ip_default_ttl": 64,
    "net.ipv4.tcp_rfc1337": 1,
    "net.ipv4.tcp_autocorking": 1,
    "net.ipv4.tcp_abort_on_overflow": 0,
}

PLAYBOOKS = {
    "record.yml": f"""
- name: Record the runtime values before the bench
  hosts: all
  gather_facts: false
  tasks:
    - name: Read (check mode changes nothing)
      edgeops.gitops.sysctl_profile:
        path: {FILE_PROFILE}
        settings: "{{{{ bench_settings }}}}"
      check_mode: true
      register: before
    - name: Keep them on the controller
      ansible.builtin.copy:
        content: >-
          {{{{ dict(before['keys'] | map(attribute='key')
                    | zip(before['keys'] | map(attribute='runtime_before'))) | to_json }}}}
        dest: "{{{{ bench_dir }}}}/{{{{ inventory_hostname }}}}.json"
        mode: "0600"
      delegate_to: localhost
""",
    "profile.yml": f"""
- name: One call per host
  hosts: all
  gather_facts: false
  tasks:
    - name: The whole profile
      edgeops.gitops.sysctl_profile:
        path: {FILE_PROFILE}
        settings: "{{{{ bench_settings }}}}"
""",
    "posix.yml": f"""
- name: One task per key (the common pattern)
  hosts: all
  gather_facts: false
  tasks:
    - name: One key
      ansible.posix.sysctl:
        name: "{{{{ item.key }}}}"
        value: "{{{{ item.value }}}}"
        sysctl_file: {FILE_POSIX}
        state: present
        reload: true
      loop: "{{{{ bench_settings | dict2items }}}}"
""",
    "restore.yml": f"""
- name: Put the runtime values back, remove the bench files
  hosts: all
  gather_facts: false
  tasks:
    - name: Restore the recorded runtime values
      edgeops.gitops.sysctl_profile:
        path: {FILE_RESTORE}
        settings: "{{{{ lookup('ansible.builtin.file', saved) | from_json }}}}"
      vars:
        saved: "{{{{ bench_dir }}}}/{{{{ inventory_hostname }}}}.json"
    - name: Remove the bench files
      ansible.builtin.file:
        path: "{{{{ item }}}}"
        state: absent
      loop: [{FILE_PROFILE}, {FILE_POSIX}, {FILE_RESTORE}]
""",
}


def playbook(workdir: Path, args: argparse.Namespace, name: str, *extra: str) -> float:
    """Run one playbook, return its wall time in seconds (raises on failure)."""
    cmd = [
        "ansible-playbook", "-i", args.inventory, "-e", f"@{workdir / 'vars.json'}",
        str(workdir / name), *extra,
    ]
    if args.limit:
        cmd += ["--limit", args.limit]
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise RuntimeError(f"{name} {' '.join(extra)} failed (rc={proc.returncode})")
    recap = [line for line in proc.stdout.splitlines() if "changed=" in line]
    print(f"  {name:<12} {' '.join(extra):<8} {elapsed:7.2f} s   {recap[0].split(':', 1)[1].split()[:2]}",
          file=sys.stderr)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inventory", default=str(ROOT / "inventory/lab/hosts.yml"))
    parser.add_argument("--limit", default="", help="host pattern (default: every host)")
    parser.add_argument("--rounds", type=int, default=1, help="converge+check rounds per method")
    args = parser.parse_args(argv)
    if "ANSIBLE_COLLECTIONS_PATH" not in os.environ:
        print("Error: run `. scripts/env.sh` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="bench-sysctl-") as tmp:
        workdir = Path(tmp)
        for name, text in PLAYBOOKS.items():
            (workdir / name).write_text(text.lstrip())
        (workdir / "vars.json").write_text(json.dumps({"bench_settings": SETTINGS, "bench_dir": tmp}))
        phases = ("profile converge", "profile check", "posix converge", "posix check")
        times: dict[str, list[float]] = {phase: [] for phase in phases}
        playbook(workdir, args, "record.yml")
        try:
            for _ in range(args.rounds):
                for method, book in (("profile", "profile.yml"), ("posix", "posix.yml")):
                    playbook(workdir, args, "restore.yml")
                    times[f"{method} converge"].append(playbook(workdir, args, book))
                    times[f"{method} check"].append(playbook(workdir, args, book, "--check"))
        finally:
            playbook(workdir, args, "restore.yml")
    best = {name: min(values) for name, values in times.items()}
    print(f"30-key sysctl profile, inventory {args.inventory}{' limit ' + args.limit if args.limit else ''}, "
          f"best of {args.rounds} (wall time of ansible-playbook, incl. its start-up)")
    for phase in ("converge", "check"):
        one, loop = best[f"profile {phase}"], best[f"posix {phase}"]
        print(f"  {phase:<9} sysctl_profile {one:6.2f} s   ansible.posix.sysctl loop {loop:6.2f} s   "
              f"ratio {loop / one:5.1f}x")
    one = best["profile converge"] + best["profile check"]
    loop = best["posix converge"] + best["posix check"]
    print(f"  total     sysctl_profile {one:6.2f} s   ansible.posix.sysctl loop {loop:6.2f} s   "
          f"ratio {loop / one:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
