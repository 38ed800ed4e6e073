#!/usr/bin/env python3
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench: sysbench oltp_read_write, distribution default config vs the mysql_host role's tuned config.

Runs in a lab container: by default one it starts and removes itself
(``mysql_host-bench``, image ``localhost/edgeops-lab:<distro>``); with
``--container mysql-01`` the running lab host (its tuned drop-in is put back at
the end). The tuned configuration is produced by the real playbook
(``playbooks/mysql.yml``, role ``edgeops.gitops.mysql_host``) for the reference
plan (16384 MB, NVMe). The data set is larger than the default 128M buffer
pool; both configurations run the same data, duration and threads, alternating,
each after a server restart. Prints TPS per run, the means and the ratio.

    . scripts/env.sh && python bench/mysql_tuning.py [--rounds 3 --time 30 --threads 8]

Figures only; never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"
KEEP = "/root/edgeops-tuned.cnf"
SOCKET = "/run/mysqld/mysqld.sock"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def podman(*args: str, check: bool = True, capture: bool = True) -> str:
    env = dict(os.environ, LANG="C")
    proc = subprocess.run(["podman", *args], env=env, text=True,
                          stdout=subprocess.PIPE if capture else None,
                          stderr=subprocess.PIPE if capture else None, check=False)
    if check and proc.returncode != 0:
        detail = proc.stderr.strip() if capture else proc.returncode
        raise SystemExit(f"Error: podman {' '.join(args[:3])} failed: {detail}")
    return proc.stdout if capture else ""


def sh(container: str, script: str, check: bool = True) -> str:
    return podman("exec", container, "bash", "-ec", script, check=check)


def apply_role(container: str, memory_mb: int, disk: str) -> None:
    """Run playbooks/mysql.yml against the container for the reference plan.

    A lab host (listed in inventory/lab/hosts.yml) is converged through the lab
    inventory, so its host and group variables apply; a private container gets
    a one-host inventory with the plan.
    """
    lab = ROOT / "inventory" / "lab" / "hosts.yml"
    if lab.is_file() and f"{container}:" in lab.read_text():
        cmd = ["ansible-playbook", "-i", str(lab), "--limit", container,
               str(ROOT / "playbooks" / "mysql.yml")]
        log("+ " + " ".join(cmd))
        proc = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:])
            raise SystemExit("Error: applying the mysql_host role failed")
        return
    with tempfile.TemporaryDirectory(prefix="mysql-bench-") as tmp:
        inv = Path(tmp, "hosts.yml")
        inv.write_text(
            "mysql:\n  hosts:\n"
            f"    {container}:\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            f"      mysql_host_memory_mb: {memory_mb}\n"
            f"      mysql_host_disk_class: {disk}\n"
        )
        cmd = ["ansible-playbook", "-i", str(inv), str(ROOT / "playbooks" / "mysql.yml")]
        log("+ " + " ".join(cmd))
        proc = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:])
            raise SystemExit("Error: applying the mysql_host role failed")


def use_config(container: str, tuned: bool) -> None:
    """Put the tuned drop-in in place (or remove it) and restart the server."""
    if tuned:
        sh(container, f"cp {KEEP} {DROPIN}")
    else:
        sh(container, f"rm -f {DROPIN}")
    sh(container, "systemctl restart mariadb")


def sysbench(container: str, args: argparse.Namespace, action: str) -> str:
    common = (f"sysbench oltp_read_write --db-driver=mysql --mysql-socket={SOCKET} --mysql-user=root"
              f" --mysql-db=sbtest --tables={args.tables} --table-size={args.table_size}")
    if action == "run":
        return sh(container, f"{common} --threads={args.threads} --time={args.time}"
                             " --report-interval=0 run")
    return sh(container, f"{common} --threads=2 {action}")


def tps(output: str) -> float:
    match = re.search(r"transactions:\s+\d+\s+\(([\d.]+) per sec", output)
    if not match:
        raise SystemExit(f"Error: no TPS in sysbench output:\n{output[-1500:]}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--container",
                        help="use this running container (e.g. mysql-01) instead of a private one")
    parser.add_argument("--distro", default="bookworm")
    parser.add_argument("--memory-mb", type=int, default=16384,
                        help="mysql_host_memory_mb (reference: 16384)")
    parser.add_argument("--disk-class", default="nvme")
    parser.add_argument("--tables", type=int, default=8)
    parser.add_argument("--table-size", type=int, default=300000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--time", type=int, default=30, help="seconds per run")
    parser.add_argument("--rounds", type=int, default=3, help="default/tuned pairs, order alternating")
    args = parser.parse_args(argv)

    own = args.container is None
    container = args.container or "mysql_host-bench"
    started = time.monotonic()
    if own:
        podman("rm", "-f", container, check=False)
        podman("run", "-d", "--name", container, "--hostname", "mysql-host-bench", "--privileged",
               "--systemd=always", f"localhost/edgeops-lab:{args.distro}", "/usr/local/sbin/edgeops-init")
        for _ in range(30):
            state = sh(container, "systemctl is-system-running || true", check=False)
            if "running" in state or "degraded" in state:
                break
            time.sleep(1)
    try:
        apply_role(container, args.memory_mb, args.disk_class)
        sh(container, f"cp {DROPIN} {KEEP}")
        tuned_file = sh(container, f"grep -v '^#' {KEEP}")
        log("tuned drop-in:\n" + tuned_file)
        sh(container, "mariadb -e 'DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest'")
        log(f"preparing {args.tables} x {args.table_size} rows ...")
        sysbench(container, args, "prepare")
        size = sh(container, "mariadb -N -B -e \"SELECT ROUND(SUM(data_length+index_length)/1048576)"
                             " FROM information_schema.tables WHERE table_schema='sbtest'\"").strip()
        pool_default = 128
        log(f"data set: {size} MiB (default buffer pool {pool_default} MiB)")

        results: dict[str, list[float]] = {"default": [], "tuned": []}
        for rnd in range(args.rounds):
            order = ["default", "tuned"] if rnd % 2 == 0 else ["tuned", "default"]
            for name in order:
                use_config(container, name == "tuned")
                pool = sh(container,
                          "mariadb -N -B -e 'SELECT @@innodb_buffer_pool_size DIV 1048576'").strip()
                value = tps(sysbench(container, args, "run"))
                results[name].append(value)
                log(f"round {rnd + 1} {name:7s} (buffer pool {pool} MiB): {value:.1f} TPS")

        mean_default = statistics.mean(results["default"])
        mean_tuned = statistics.mean(results["tuned"])
        version = sh(container, "mariadb -N -B -e 'SELECT VERSION()'").strip()
        print(f"sysbench oltp_read_write, {args.threads} threads, {args.time}s per run, "
              f"{args.rounds} alternating rounds, data set {size} MiB "
              f"({args.tables} x {args.table_size} rows), {container}: {version}")
        print("default TPS: " + ", ".join(f"{v:.1f}" for v in results["default"])
              + f"  mean {mean_default:.1f}")
        print("tuned   TPS: " + ", ".join(f"{v:.1f}" for v in results["tuned"])
              + f"  mean {mean_tuned:.1f}")
        print(f"ratio tuned/default: {mean_tuned / mean_default:.2f}x")
        print(f"bench wall time: {time.monotonic() - started:.0f}s")
    finally:
        if own:
            podman("rm", "-f", container, check=False)
        else:
            sh(container, f"cp {KEEP} {DROPIN} && systemctl restart mariadb", check=False)
            sh(container, "mariadb -e 'DROP DATABASE IF EXISTS sbtest'", check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
