#!/usr/bin/env python3
"""fio against edgeops.gitops.fsync_latency on the same fresh filesystem.

Creates a sparse file, a loop device, an ext4 filesystem mounted (noatime)
under /var/tmp, then alternates runs of

    fio --rw=write --ioengine=sync --fdatasync=1 --bs=2300 --size=22m

and the module's measurement (module_utils/_fsync.py, imported from the checkout)
with the same size and block size, and prints both p99s, their ratio and
both run times. Everything it created is removed afterwards, also on error
or Ctrl-C. Needs root, fio, losetup, mkfs.ext4. Prints figures; asserts nothing.

    sudo python3 bench/fsync_probe.py [--rounds 5] [--size 22m] [--block-size 2300]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, LANG="C", LC_ALL="C")


def load_fsync():
    """module_utils/_fsync.py under the name the collection gives it (it imports _size so)."""
    sys.path.insert(0, str(ROOT / ".cache" / "collections"))  # scripts/setup.sh makes the link
    return importlib.import_module("ansible_collections.edgeops.gitops.plugins.module_utils._fsync")


def run(*argv: str) -> str:
    proc = subprocess.run(argv, env=ENV, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (rc {proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def fio_run(directory: str, size: int, block_size: int) -> dict:
    started = time.monotonic()
    out = run("fio", "--name=etcd-fsync", f"--directory={directory}", "--rw=write", "--ioengine=sync",
              "--fdatasync=1", f"--bs={block_size}", f"--size={size}", "--unlink=1",
              "--output-format=json")
    wall = time.monotonic() - started
    job = json.loads(out[out.index("{"):])["jobs"][0]
    sync = job["sync"]["lat_ns"]
    pct = sync.get("percentile", {})
    return {
        "p50_ms": pct.get("50.000000", 0) / 1e6,
        "p99_ms": pct.get("99.000000", 0) / 1e6,
        "samples": sync.get("N", 0),
        "wall_s": wall,
    }


def ours_run(fsync, directory: str, size: int, block_size: int) -> dict:
    started = time.monotonic()
    figures = fsync.measure(directory, size, block_size)
    wall = time.monotonic() - started
    return {"p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"], "samples": figures["samples"],
            "wall_s": wall}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--size", default="22m")
    parser.add_argument("--block-size", default="2300")
    parser.add_argument("--disk-size", default="4g", help="size of the sparse loop disk")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("Error: needs root (losetup, mkfs, mount)", file=sys.stderr)
        return 1
    if shutil.which("fio") is None:
        print("Error: fio is not installed (apt-get install fio)", file=sys.stderr)
        return 1
    fsync = load_fsync()
    parse_size = importlib.import_module(fsync.__name__.replace("._fsync", "._size")).parse_size
    size = parse_size(args.size, "--size", positive=True, error=fsync.FsyncError)
    block_size = parse_size(args.block_size, "--block-size", positive=True, error=fsync.FsyncError)
    size -= size % block_size  # both tools then write the same whole blocks
    workdir = Path(tempfile.mkdtemp(prefix="edgeops-fsync-bench.", dir="/var/tmp"))
    image, mnt = workdir / "disk.img", workdir / "mnt"
    device = None
    mounted = False
    try:
        with image.open("wb") as handle:
            handle.truncate(parse_size(args.disk_size, "--disk-size", positive=True, error=fsync.FsyncError))
        device = run("losetup", "--find", "--show", str(image)).strip()
        run("mkfs.ext4", "-q", "-L", "fsync-bench", device)
        mnt.mkdir()
        run("mount", "-o", "noatime", device, str(mnt))
        mounted = True
        print(f"# {device} ext4 on {image} mounted at {mnt}; size {size} bytes, block {block_size}; "
              f"{args.rounds} alternating rounds", file=sys.stderr)
        fio_rows, our_rows = [], []
        print(f"{'round':>5} {'first':>6} {'fio p99 ms':>11} {'ours p99 ms':>12} {'p99 ratio':>9} "
              f"{'fio s':>7} {'ours s':>7} {'time ratio':>10}")
        for i in range(args.rounds):
            if i % 2 == 0:
                f = fio_run(str(mnt), size, block_size)
                o = ours_run(fsync, str(mnt), size, block_size)
            else:
                o = ours_run(fsync, str(mnt), size, block_size)
                f = fio_run(str(mnt), size, block_size)
            fio_rows.append(f)
            our_rows.append(o)
            first = "fio" if i % 2 == 0 else "ours"
            print(f"{i + 1:>5} {first:>6} {f['p99_ms']:>11.3f} {o['p99_ms']:>12.3f} "
                  f"{o['p99_ms'] / f['p99_ms']:>9.2f} {f['wall_s']:>7.2f} {o['wall_s']:>7.2f} "
                  f"{o['wall_s'] / f['wall_s']:>10.2f}", flush=True)
        med = statistics.median
        fp99, op99 = med(r["p99_ms"] for r in fio_rows), med(r["p99_ms"] for r in our_rows)
        fwall, owall = med(r["wall_s"] for r in fio_rows), med(r["wall_s"] for r in our_rows)
        print(f"median: fio p99 {fp99:.3f} ms, fsync_latency p99 {op99:.3f} ms, ratio {op99 / fp99:.2f} "
              f"(target 0.75-1.25); fio {fwall:.2f} s, fsync_latency {owall:.2f} s, "
              f"ratio {owall / fwall:.2f} (target <= 1.2); samples fio {fio_rows[0]['samples']} "
              f"ours {our_rows[0]['samples']}")
        fp50, op50 = med(r["p50_ms"] for r in fio_rows), med(r["p50_ms"] for r in our_rows)
        pair = med(o["p99_ms"] / f["p99_ms"] for f, o in zip(fio_rows, our_rows, strict=True))
        print(f"median p50: fio {fp50:.3f} ms, fsync_latency {op50:.3f} ms, ratio {op50 / fp50:.2f}; "
              f"median of the per-round p99 ratios {pair:.2f}")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine load average (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")
    finally:
        if mounted:
            subprocess.run(["umount", str(mnt)], env=ENV, check=False)
        if device:
            subprocess.run(["losetup", "--detach", device], env=ENV, check=False)
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
