#!/usr/bin/env python3
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bench: sysbench oltp_read_write, distribution defaults vs the mysql_host role's tuning, on a real disk.

The server runs the way the user's dedicated host runs it, not the way the lab does:

- its data directory is its own ext4 filesystem on a loop device attached with
  direct I/O (``losetup --direct-io=on``), so the machine's page cache cannot
  serve the reads the buffer pool misses: they go to the disk, as on the host;
- the container is bounded by a cgroup memory limit that plays the host's RAM
  (``--memory-mb``, default 4096; swap limited to the same, so none). The bench
  reads the limit back from the container's ``memory.limit_in_bytes`` and
  reports the peak ``memory.max_usage_in_bytes`` and the OOM kill count;
- the tuned drop-in is written by the real role (``playbooks/mysql.yml``,
  ``edgeops.gitops.mysql_host``, whose preflight calls the
  ``edgeops.gitops.mysql_tuning`` filter) with ``mysql_host_memory_mb`` set to
  that same limit and an NVMe disk class; "default" is the distribution's
  configuration with the drop-in removed.

The data set (``--tables`` x ``--table-size``; 8 x 500000 rows is about 1 GiB) is
several times the default 128M buffer pool and smaller than the tuned pool (2G
for 4096 MB). Rows are drawn uniformly (``--rand-type uniform``), so the
working set is the data set, the case the pool size is for: sysbench 1.0's own
default, ``special``, sends 75 % of the reads to 1 % of the rows, a hot set that
the default pool holds too (``--rand-type special`` shows that case).
Both configurations use the same data (prepared once), threads and duration;
rounds alternate the order (default first, then tuned first, ...); every run
starts with a server restart and a ``--warmup`` period that is not measured.

Printed per run and per configuration: TPS, p95 latency, buffer-pool hit rate
(``1 - Innodb_buffer_pool_reads / Innodb_buffer_pool_read_requests``, deltas
over the measured run), InnoDB page reads per transaction, reads per transaction
as the loop device counted them (``/sys/block/loopN/stat``) and their mean
service time, writes per transaction, the CPU the container used (cores busy,
ms per transaction: a CPU-bound run and an I/O-bound one look different here),
its memory and the machine's load; then the tuned/default ratios. On a shared
machine the load column says how much of the CPU the bench actually had.

Run as root, from a checkout set up with ``scripts/setup.sh``. A full run
(2 rounds: 12 to 16 minutes per distro on a busy 2-CPU machine, most of it measuring)::

    . scripts/env.sh && python bench/mysql_tuning.py --distro bookworm
    . scripts/env.sh && python bench/mysql_tuning.py --distro trixie

A quick run (about 3 minutes; figures only indicative)::

    python bench/mysql_tuning.py --rounds 1 --warmup 15 --time 30 --tables 4 --table-size 250000

Everything it creates is named ``edgeops-bench-*`` and removed at the end, also
on error or Ctrl-C: the container (``edgeops-bench-mysql-<distro>``, started
with ``--network none``, so there is no network to remove), the mount, the loop
device and its sparse backing file (under ``/var/tmp/edgeops-bench-*``). The
container runs the lab image's init, which makes the global ``/proc/sys``
subtrees read-only before systemd starts; the bench compares a set of the
host's global sysctls before and after and says whether they changed.

Figures only; never asserted.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"
KEEP = "/root/edgeops-tuned.cnf"
SOCKET = "/run/mysqld/mysqld.sock"
PREFIX = "edgeops-bench-"
#: Server default buffer pool (MariaDB 10.11 and 11.8, MySQL 8): what "default" runs with.
DEFAULT_POOL_MIB = 128
#: Global (not per network namespace) sysctls compared before and after the bench.
HOST_SYSCTLS = ("fs/file-max", "fs/nr_open", "fs/aio-max-nr", "fs/inotify/max_user_instances",
                "kernel/pid_max", "kernel/threads-max", "vm/swappiness", "vm/dirty_ratio",
                "vm/dirty_background_ratio", "vm/overcommit_memory", "vm/max_map_count")
STATUS_VARS = ("Innodb_buffer_pool_read_requests", "Innodb_buffer_pool_reads", "Innodb_data_reads")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(cmd: list[str], what: str, check: bool = True) -> str:
    """Run ``cmd`` with LANG=C; on failure raise SystemExit naming ``what`` and the cause."""
    env = dict(os.environ, LANG="C", LC_ALL="C")
    proc = subprocess.run(cmd, env=env, text=True, capture_output=True, check=False)
    if check and proc.returncode != 0:
        cause = (proc.stderr.strip() or proc.stdout.strip())[-2000:] or f"exit status {proc.returncode}"
        raise SystemExit(f"Error: {what} failed: {cause}")
    return proc.stdout


def podman(*args: str, check: bool = True) -> str:
    return run(["podman", *args], f"podman {' '.join(args[:2])}", check=check)


def sh(container: str, script: str, what: str, check: bool = True) -> str:
    return run(["podman", "exec", container, "bash", "-ec", script], f"{what} in {container}", check=check)


def read_int(path: Path) -> int:
    return int(path.read_text().split()[0])


def host_sysctls() -> dict[str, str]:
    values = {}
    for key in HOST_SYSCTLS:
        path = Path("/proc/sys", key)
        if path.exists():
            values[key.replace("/", ".")] = path.read_text().strip()
    return values


# ---------------------------------------------------------------------------
# The disk: sparse file -> loop device (direct I/O) -> ext4 -> mount point


@dataclass
class Disk:
    """A direct-I/O loop device with ext4 on it, mounted for the datadir; ``close()`` removes it all."""

    size_mb: int
    workdir: Path = field(init=False)
    image: Path = field(init=False)
    mnt: Path = field(init=False)
    device: str = ""
    mounted: bool = False

    def __post_init__(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix=PREFIX, dir="/var/tmp"))
        self.image = self.workdir / "datadir.img"
        self.mnt = self.workdir / "mnt"

    def open(self) -> None:
        with self.image.open("wb") as fh:
            fh.truncate(self.size_mb * 1024 * 1024)
        self.device = run(["losetup", "--find", "--show", "--direct-io=on", str(self.image)],
                          f"attaching {self.image} to a loop device").strip()
        dio = Path("/sys/block", Path(self.device).name, "loop", "dio")
        if not dio.is_file() or dio.read_text().strip() != "1":
            raise SystemExit(f"Error: direct I/O failed for {self.device}: the kernel attached it buffered "
                             f"({dio}: {dio.read_text().strip() if dio.is_file() else 'missing'}); "
                             "the backing file must be on a filesystem that supports O_DIRECT")
        run(["mkfs.ext4", "-q", "-F", "-L", "edgeops-bench", self.device], f"mkfs.ext4 on {self.device}")
        self.mnt.mkdir()
        run(["mount", "-o", "noatime", self.device, str(self.mnt)], f"mounting {self.device}")
        self.mounted = True
        # An empty datadir: the server would take lost+found for a database.
        (self.mnt / "lost+found").rmdir()

    def stat(self) -> list[int]:
        """/sys/block/loopN/stat: reads, reads merged, sectors read, ms, writes, ..."""
        return [int(v) for v in Path("/sys/block", Path(self.device).name, "stat").read_text().split()]

    def close(self) -> list[str]:
        """Unmount, detach, delete; returns what could not be removed."""
        problems = []
        if self.mounted:
            proc = subprocess.run(["umount", str(self.mnt)], env=dict(os.environ, LANG="C"),
                                  capture_output=True, text=True, check=False)
            if proc.returncode == 0:
                self.mounted = False
            else:
                problems.append(f"umount {self.mnt}: {proc.stderr.strip()}")
        if self.device and not self.mounted:
            proc = subprocess.run(["losetup", "-d", self.device], env=dict(os.environ, LANG="C"),
                                  capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                problems.append(f"losetup -d {self.device}: {proc.stderr.strip()}")
        if not self.mounted:
            shutil.rmtree(self.workdir, ignore_errors=True)
        left = run(["losetup", "--noheadings", "-j", str(self.image)], "listing loop devices", check=False)
        if left.strip():
            problems.append(f"loop device still attached: {left.strip()}")
        if self.workdir.exists():
            problems.append(f"{self.workdir} still exists")
        return problems


# ---------------------------------------------------------------------------
# The container and its cgroup


@dataclass
class Cgroup:
    """The container's cgroup v1 directories (memory and cpuacct)."""

    memory: Path
    cpuacct: Path

    @classmethod
    def of(cls, container: str) -> Cgroup:
        pid = podman("inspect", "--format", "{{.State.Pid}}", container).strip()
        paths = {}
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for ctl in controllers.split(","):
                paths[ctl] = path
        if "memory" not in paths:
            raise SystemExit("Error: reading the container's cgroup failed: no cgroup v1 memory controller "
                             f"in /proc/{pid}/cgroup (this bench reads memory.limit_in_bytes)")
        return cls(memory=Path("/sys/fs/cgroup/memory", paths["memory"].lstrip("/")),
                   cpuacct=Path("/sys/fs/cgroup/cpuacct", paths.get("cpuacct", paths["memory"]).lstrip("/")))

    def limit(self) -> int:
        return read_int(self.memory / "memory.limit_in_bytes")

    def peak(self) -> int:
        return read_int(self.memory / "memory.max_usage_in_bytes")

    def usage(self) -> int:
        return read_int(self.memory / "memory.usage_in_bytes")

    def oom_kills(self) -> int:
        for line in (self.memory / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def cpu_ns(self) -> int:
        return read_int(self.cpuacct / "cpuacct.usage")


def start_container(name: str, image: str, memory_mb: int, datadir: Path) -> None:
    podman("rm", "-f", name, check=False)
    podman("run", "-d", "--name", name, "--hostname", name, "--privileged", "--systemd=always",
           "--network", "none", f"--memory={memory_mb}m", f"--memory-swap={memory_mb}m",
           "-v", f"{datadir}:/var/lib/mysql", image, "/usr/local/sbin/edgeops-init")
    state = ""
    for _ in range(60):
        state = sh(name, "systemctl is-system-running || true", "asking systemd", check=False).strip()
        if state in ("running", "degraded"):
            return
        time.sleep(1)
    raise SystemExit(f"Error: booting {name} failed: systemd says {state!r} after 60 s")


def apply_role(container: str, memory_mb: int, disk_class: str) -> None:
    """Run playbooks/mysql.yml against the container, for ``memory_mb`` of RAM."""
    with tempfile.TemporaryDirectory(prefix=PREFIX) as tmp:
        inv = Path(tmp, "hosts.yml")
        inv.write_text(
            "mysql:\n  hosts:\n"
            f"    {container}:\n"
            "      ansible_connection: containers.podman.podman\n"
            "      ansible_python_interpreter: /usr/bin/python3\n"
            f"      mysql_host_memory_mb: {memory_mb}\n"
            f"      mysql_host_disk_class: {disk_class}\n"
            # --network none: no private address; sysbench uses the socket.
            "      mysql_host_bind_address: 127.0.0.1\n"
        )
        cmd = ["ansible-playbook", "-i", str(inv), str(ROOT / "playbooks" / "mysql.yml")]
        log("+ " + " ".join(cmd))
        proc = subprocess.run(cmd, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=dict(os.environ, LANG="C"), check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout[-4000:])
            raise SystemExit(f"Error: applying the mysql_host role failed for {container} "
                             f"(ansible-playbook exit {proc.returncode}; output above)")


# ---------------------------------------------------------------------------
# Measuring


@dataclass
class Result:
    config: str
    round: int
    pool_mib: int
    tps: float
    p95_ms: float
    transactions: int
    status: dict[str, int]
    disk_reads: int
    disk_read_ms: int
    disk_writes: int
    cpu_cores: float
    cpu_ms: float
    usage_mib: int
    load: float

    @property
    def hit_rate(self) -> float:
        requests = self.status["Innodb_buffer_pool_read_requests"]
        return 1.0 - self.status["Innodb_buffer_pool_reads"] / requests if requests else float("nan")


def query(container: str, sql: str) -> str:
    return sh(container, f"mariadb -N -B -e {shquote(sql)}", f"query {sql[:40]!r}").strip()


def shquote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def status(container: str) -> dict[str, int]:
    names = ",".join(f"'{n}'" for n in STATUS_VARS)
    out = query(container, f"SHOW GLOBAL STATUS WHERE Variable_name IN ({names})")
    values = {}
    for line in out.splitlines():
        name, value = line.split("\t")
        values[name] = int(value)
    missing = set(STATUS_VARS) - set(values)
    if missing:
        raise SystemExit(f"Error: reading status failed in {container}: missing {', '.join(sorted(missing))}")
    return values


def sysbench_cmd(args: argparse.Namespace, action: str, threads: int, seconds: int = 0) -> str:
    cmd = (f"sysbench oltp_read_write --db-driver=mysql --mysql-socket={SOCKET} --mysql-user=root"
           f" --mysql-db=sbtest --tables={args.tables} --table-size={args.table_size}"
           f" --rand-type={args.rand_type} --threads={threads}")
    if action == "run":
        cmd += f" --time={seconds} --report-interval=0 --percentile=95"
    return f"{cmd} {action}"


def parse_run(output: str) -> tuple[int, float, float]:
    """(transactions, TPS, p95 ms) from sysbench's run report."""
    txn = re.search(r"transactions:\s+(\d+)\s+\(([\d.]+) per sec", output)
    p95 = re.search(r"95th percentile:\s+([\d.]+)", output)
    if not txn or not p95:
        raise SystemExit(f"Error: parsing sysbench output failed (no transactions or p95):\n{output[-1500:]}")
    return int(txn.group(1)), float(txn.group(2)), float(p95.group(1))


def use_config(container: str, tuned: bool) -> int:
    """Put the tuned drop-in in place (or remove it), restart, return the buffer pool in MiB."""
    sh(container, f"cp {KEEP} {DROPIN}" if tuned else f"rm -f {DROPIN}", "switching the drop-in")
    sh(container, "systemctl restart mariadb", "restarting mariadb")
    return int(query(container, "SELECT @@innodb_buffer_pool_size DIV 1048576"))


def measure(container: str, disk: Disk, cgroup: Cgroup, args: argparse.Namespace,
            config: str, rnd: int) -> Result:
    pool = use_config(container, config == "tuned")
    if args.warmup > 0:
        sh(container, sysbench_cmd(args, "run", args.threads, args.warmup), f"sysbench warm-up ({config})")
    before_status, before_disk, before_cpu = status(container), disk.stat(), cgroup.cpu_ns()
    start = time.monotonic()
    out = sh(container, sysbench_cmd(args, "run", args.threads, args.time), f"sysbench run ({config})")
    wall = time.monotonic() - start
    after_status, after_disk, after_cpu = status(container), disk.stat(), cgroup.cpu_ns()
    transactions, tps, p95 = parse_run(out)
    return Result(
        config=config, round=rnd, pool_mib=pool, tps=tps, p95_ms=p95, transactions=transactions,
        status={k: after_status[k] - before_status[k] for k in STATUS_VARS},
        disk_reads=after_disk[0] - before_disk[0], disk_read_ms=after_disk[3] - before_disk[3],
        disk_writes=after_disk[4] - before_disk[4],
        cpu_cores=(after_cpu - before_cpu) / 1e9 / wall, cpu_ms=(after_cpu - before_cpu) / 1e6,
        usage_mib=cgroup.usage() // 2**20,
        load=float(Path("/proc/loadavg").read_text().split()[0]),
    )


def row(label: str, results: list[Result]) -> str:
    txn = sum(r.transactions for r in results) or 1
    requests = sum(r.status["Innodb_buffer_pool_read_requests"] for r in results)
    misses = sum(r.status["Innodb_buffer_pool_reads"] for r in results)
    hit = 1.0 - misses / requests if requests else float("nan")
    reads = sum(r.disk_reads for r in results)
    read_ms = sum(r.disk_read_ms for r in results) / reads if reads else 0.0
    return (f"{label:<16} {statistics.mean(r.tps for r in results):9.1f} "
            f"{statistics.mean(r.p95_ms for r in results):8.2f} {100 * hit:8.2f}% "
            f"{misses / txn:10.2f} {reads / txn:10.2f} {read_ms:7.2f} "
            f"{sum(r.disk_writes for r in results) / txn:10.2f} "
            f"{statistics.mean(r.cpu_cores for r in results):6.2f} "
            f"{sum(r.cpu_ms for r in results) / txn:7.2f} "
            f"{max(r.usage_mib for r in results):8d} {statistics.mean(r.load for r in results):5.1f}")


def bounds(config: str, results: list[Result], threads: int) -> str:
    """Where a configuration's time per transaction goes, and the TPS each resource would allow.

    CPU: container CPU ms per transaction, at the cores it got and at every CPU
    of the machine. Disk: reads per transaction x their mean service time,
    spread over the sysbench threads (each waits for its own reads).
    """
    txn = sum(r.transactions for r in results) or 1
    cpu_ms = sum(r.cpu_ms for r in results) / txn
    cores = statistics.mean(r.cpu_cores for r in results)
    reads = sum(r.disk_reads for r in results)
    read_ms = sum(r.disk_read_ms for r in results) / reads if reads else 0.0
    io_ms = reads / txn * read_ms
    cpus = os.cpu_count() or 1
    io_cap = f"{threads * 1000 / io_ms:.0f}" if io_ms * 100000 > threads * 1000 else "> 100000"
    return (f"{config}: per transaction {cpu_ms:.2f} ms CPU and {reads / txn:.2f} disk reads x "
            f"{read_ms:.2f} ms = {io_ms:.2f} ms waiting on the disk; TPS allowed by the CPU at the "
            f"{cores:.2f} cores it got {cores * 1000 / cpu_ms:.0f}, by {cpus} idle CPUs "
            f"{cpus * 1000 / cpu_ms:.0f}; by disk waits over {threads} threads {io_cap}")


HEADER = (f"{'run':<16} {'TPS':>9} {'p95 ms':>8} {'hit rate':>9} {'pool rd/txn':>10} {'disk rd/txn':>10} "
          f"{'rd ms':>7} {'disk wr/txn':>10} {'cores':>6} {'cpu/txn':>7} {'mem MiB':>8} {'load':>5}")


def report(args: argparse.Namespace, results: list[Result], facts: dict[str, str]) -> None:
    print(f"MariaDB {facts['version']} ({args.distro}), container memory limit {facts['limit']}")
    print(f"datadir: ext4 on {facts['device']} (loop, direct I/O on), {facts['data']}")
    print(f"sysbench oltp_read_write --rand-type={args.rand_type}, {args.threads} threads, {args.time} s "
          f"measured after {args.warmup} s warm-up, {args.rounds} alternating round(s), restart before each")
    print(f"tuned drop-in ({facts['memory_mb']} MB, {args.disk_class}): {facts['tuned']}")
    print()
    print(HEADER)
    for r in results:
        print(row(f"{r.round} {r.config} {r.pool_mib}M", [r]))
    by = {c: [r for r in results if r.config == c] for c in ("default", "tuned")}
    print(row("mean default", by["default"]))
    print(row("mean tuned", by["tuned"]))
    tps = {c: statistics.mean(r.tps for r in rs) for c, rs in by.items()}
    p95 = {c: statistics.mean(r.p95_ms for r in rs) for c, rs in by.items()}
    print()
    print(f"ratio tuned/default: TPS {tps['tuned'] / tps['default']:.2f}x (higher is better), "
          f"p95 {p95['tuned'] / p95['default']:.2f}x (lower is better: {p95['default']:.2f} -> "
          f"{p95['tuned']:.2f} ms)")
    for config, rs in by.items():
        print(bounds(config, rs, args.threads))
    print(f"memory: limit {facts['limit']}, peak usage {facts['peak']}, OOM kills {facts['oom']}")
    print("hit rate = 1 - Innodb_buffer_pool_reads / Innodb_buffer_pool_read_requests (deltas over the "
          "measured run);\npool rd = Innodb_buffer_pool_reads; disk rd/wr = loop device I/Os, rd ms = their "
          "mean service time;\ncores = container CPU time / wall time, cpu/txn = its ms per transaction; "
          f"load = the machine's 1-min load average ({os.cpu_count()} CPUs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--distro", default="bookworm",
                        help="lab image: bookworm (MariaDB 10.11), trixie (11.8)")
    parser.add_argument("--memory-mb", type=int, default=4096,
                        help="container memory limit = the RAM the tuning is computed for (default 4096)")
    parser.add_argument("--disk-class", default="nvme", choices=("nvme", "ssd", "hdd"))
    parser.add_argument("--disk-mb", type=int, default=6144, help="size of the sparse datadir disk")
    parser.add_argument("--tables", type=int, default=8)
    parser.add_argument("--table-size", type=int, default=500000, help="rows per table")
    parser.add_argument("--rand-type", default="uniform",
                        choices=("uniform", "gaussian", "special", "pareto"))
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=45, help="unmeasured seconds after each restart")
    parser.add_argument("--time", type=int, default=90, help="measured seconds per run")
    parser.add_argument("--rounds", type=int, default=2, help="default/tuned pairs, order alternating")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("Error: the bench needs root (losetup, mount, privileged podman)\n"
                         "Hint: run it as root after `. scripts/env.sh`")
    if not os.environ.get("CONTAINERS_CONF"):
        raise SystemExit("Error: CONTAINERS_CONF is not set\nHint: `. scripts/env.sh` first")

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"Error: interrupted by signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    sysctls_before = host_sysctls()
    container = f"{PREFIX}mysql-{args.distro}"
    image = f"localhost/edgeops-lab:{args.distro}"
    if subprocess.run(["podman", "image", "exists", image], check=False).returncode != 0:
        raise SystemExit(f"Error: image {image} not found\nHint: edgeops lab image --distro {args.distro}")
    started = time.monotonic()
    disk = Disk(args.disk_mb)
    problems: list[str] = []
    try:
        disk.open()
        log(f"datadir disk: {disk.image} on {disk.device} (direct I/O), ext4 mounted at {disk.mnt}")
        start_container(container, image, args.memory_mb, disk.mnt)
        cgroup = Cgroup.of(container)
        limit = cgroup.limit()
        if limit != args.memory_mb * 2**20:
            raise SystemExit(f"Error: the memory limit failed for {container}: {cgroup.memory}/"
                             f"memory.limit_in_bytes is {limit}, not {args.memory_mb * 2**20}")
        log(f"memory.limit_in_bytes = {limit} ({cgroup.memory})")
        sh(container, "chown mysql:mysql /var/lib/mysql && mariadb-install-db --user=mysql "
                      "--datadir=/var/lib/mysql --skip-test-db >/dev/null", "initialising the datadir")
        apply_role(container, args.memory_mb, args.disk_class)
        sh(container, f"cp {DROPIN} {KEEP}", "keeping the tuned drop-in")
        tuned = sh(container, f"grep -v -e '^#' -e '^\\[' -e '^$' {KEEP}", "reading the drop-in")
        tuned_line = " ".join(ln.replace(" = ", "=") for ln in tuned.splitlines()
                              if not ln.startswith(("bind_address", "skip_name_resolve")))
        log("tuned drop-in: " + tuned_line)
        query(container, "CREATE DATABASE sbtest")
        log(f"preparing {args.tables} x {args.table_size} rows (tuned server) ...")
        sh(container, sysbench_cmd(args, "prepare", min(args.tables, 4)), "sysbench prepare")
        data_mib = int(sh(container, "du -sm /var/lib/mysql/sbtest", "sizing the data").split()[0])
        log(f"data set: {data_mib} MiB on disk (default buffer pool {DEFAULT_POOL_MIB} MiB)")

        results: list[Result] = []
        for rnd in range(1, args.rounds + 1):
            order = ["default", "tuned"] if rnd % 2 == 1 else ["tuned", "default"]
            for config in order:
                res = measure(container, disk, cgroup, args, config, rnd)
                results.append(res)
                log(f"round {rnd} {config:7s} pool {res.pool_mib} MiB: {res.tps:.1f} TPS, "
                    f"p95 {res.p95_ms} ms, hit {100 * res.hit_rate:.2f}%, "
                    f"disk reads/txn {res.disk_reads / res.transactions:.2f}")
        facts = {
            "version": query(container, "SELECT VERSION()"),
            "limit": f"{limit // 2**20} MiB (memory.limit_in_bytes {limit}, swap none)",
            "peak": f"{cgroup.peak() // 2**20} MiB (memory.max_usage_in_bytes)",
            "oom": str(cgroup.oom_kills()),
            "device": disk.device,
            "data": f"data set {data_mib} MiB ({args.tables} x {args.table_size} rows), "
                    f"default pool {DEFAULT_POOL_MIB} MiB",
            "memory_mb": str(args.memory_mb),
            "tuned": tuned_line,
        }
        report(args, results, facts)
    finally:
        podman("rm", "-f", "-t", "10", container, check=False)
        if podman("ps", "-a", "--filter", f"name=^{container}$", "--format", "{{.Names}}",
                  check=False).strip():
            problems.append(f"container {container} still exists")
        problems += disk.close()
        changed = {k: (v, host_sysctls().get(k)) for k, v in sysctls_before.items()
                   if host_sysctls().get(k) != v}
        for key, (old, new) in changed.items():
            problems.append(f"host sysctl {key} changed: {old} -> {new}")
        if problems:
            log("Error: cleanup incomplete: " + "; ".join(problems))
        else:
            print(f"cleanup verified: container, mount, {disk.device or 'loop device'} and "
                  f"{disk.workdir} removed; {len(sysctls_before)} host sysctls unchanged")
        log(f"bench wall time: {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
