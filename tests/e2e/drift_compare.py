#!/usr/bin/env python3
"""The concern report finds the same drift as the task-by-task roles did, on the lab's drill cases.

Issue 13 replaced each role's check-mode task chain by one read-only module call per concern.
This check proves the behaviour did not change where it matters, on the lab (converged, e.g. by
the demo) and one drill per concern, all at once:

- k8s-master-01, etcd_storage: ``noatime`` dropped from the etcd fstab entry, remounted relatime;
- k8s-worker-1, sysctl_tuning: ``net.core.somaxconn`` lowered at runtime and in the file;
- k8s-worker-2, kubeadm: ``br_netfilter`` removed from ``/etc/modules-load.d/kubeadm.conf``;
- mysql-01, mysql_host: ``innodb_io_capacity`` changed in the drop-in.

Then, on the same drifted state, side by side:

- ``edgeops drift`` (today's collection);
- the baseline: plain ``ansible-playbook edgeops.gitops.site --check --diff`` of the collection
  at ``bench/drift_scale.py``'s ``BASELINE`` (the last commit whose roles checked state task by
  task), with that commit's ``edgeops.gitops.drift`` callback writing its report.

Both must find exactly the four (host, concern) pairs above, and nothing else. ``edgeops apply``
then heals the lab and ``edgeops drift`` must be clean again, so later steps find it converged.
Audit records go to a temporary log: the lab's own trail is not touched.

    . scripts/env.sh && python tests/e2e/drift_compare.py [-i inventory/lab]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from drift_scale import BASELINE, baseline_collection, drifted  # noqa: E402

MYSQL_DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"
DRILLS = (
    ("k8s-master-01", "etcd_storage",
     r"sed -i -E 's#^(UUID=\S+\s+/var/lib/etcd\s+\S+\s+)noatime#\1defaults#' /etc/fstab && "
     "grep -Eq '^UUID=\\S+\\s+/var/lib/etcd\\s+\\S+\\s+defaults' /etc/fstab && "
     "mount -o remount,relatime /var/lib/etcd"),
    ("k8s-worker-1", "sysctl_tuning",
     "sysctl -q -w net.core.somaxconn=1024 && "
     "sed -i 's/^net.core.somaxconn = .*/net.core.somaxconn = 1024/' /etc/sysctl.d/99-k8s-network.conf"),
    ("k8s-worker-2", "kubeadm",
     "grep -qx br_netfilter /etc/modules-load.d/kubeadm.conf && "
     "sed -i '/^br_netfilter$/d' /etc/modules-load.d/kubeadm.conf"),
    ("mysql-01", "mysql_host",
     f"grep -q '^innodb_io_capacity = ' {MYSQL_DROPIN} && "
     f"sed -i 's/^innodb_io_capacity = .*/innodb_io_capacity = 500/' {MYSQL_DROPIN}"),
)
# The items today's report must name for each drill (a file's lines that are not key = value
# are one "content" item).
WANT_ITEMS = {
    ("k8s-worker-2", "kubeadm"): {"content"},
    ("k8s-master-01", "etcd_storage"): {"fstab", "mount_options"},
    ("k8s-worker-1", "sysctl_tuning"): {"net.core.somaxconn"},
    ("mysql-01", "mysql_host"): {"innodb_io_capacity"},
}
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {what}", flush=True)
    if not ok:
        FAILURES.append(what)


def run(cmd: list[str], env: dict[str, str], log: Path) -> int:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n")
        fh.flush()
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False)
    return proc.returncode


def main() -> int:
    argv = sys.argv[1:]
    inventory = argv[argv.index("-i") + 1] if "-i" in argv[:-1] else "inventory/lab"
    want = sorted((host, concern) for host, concern, _ in DRILLS)
    with tempfile.TemporaryDirectory(prefix="edgeops-drift-compare-") as t:
        tmp = Path(t)
        log = tmp / "console.log"
        env = {**os.environ, "EDGEOPS_AUDIT_LOG": str(tmp / "audit.jsonl"),
               "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts")}
        try:
            rc = run(["edgeops", "drift", "-i", inventory, "-o", str(tmp / "before.json")], env, log)
            check(rc == 0, f"the lab starts converged (edgeops drift exit {rc})")
            for host, concern, script in DRILLS:
                proc = subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True,
                                      text=True, check=False)
                check(proc.returncode == 0, f"drill applied on {host} ({concern}) {proc.stderr.strip()}")

            new_report = tmp / "new.json"
            rc = run(["edgeops", "drift", "-i", inventory, "-o", str(new_report)], env, log)
            check(rc == 2, f"edgeops drift finds drift (exit {rc}, want 2)")
            new = drifted(new_report)

            old_report = tmp / "baseline.json"
            base_env = {**env,
                        "ANSIBLE_COLLECTIONS_PATH": f"{baseline_collection(BASELINE, tmp / 'baseline')}"
                                                    f":{env.get('ANSIBLE_COLLECTIONS_PATH', '')}",
                        "ANSIBLE_CALLBACKS_ENABLED": "edgeops.gitops.drift",
                        "EDGEOPS_DRIFT_REPORT": str(old_report),
                        "EDGEOPS_DRIFT_AUDIT": "false"}
            rc = run(["ansible-playbook", "edgeops.gitops.site", "-i", inventory, "--check", "--diff"],
                     base_env, log)
            check(rc == 0, f"the baseline check ({BASELINE}) ran (exit {rc})")
            old = drifted(old_report)

            print(f"drilled:          {want}\nedgeops drift:    {new}\nbaseline {BASELINE}: {old}")
            check(new == want, "edgeops drift finds exactly the drilled (host, concern) pairs")
            check(old == want, f"the baseline ({BASELINE}) finds exactly the drilled (host, concern) pairs")
            check(new == old, "both find the same drift")
            report = json.loads(new_report.read_text())
            items = {(h["name"], c["name"]): {i["key"] for i in c.get("items", [])}
                     for h in report.get("hosts", []) for c in h.get("concerns", [])
                     if c.get("status") != "in_sync"}
            print(f"items named by edgeops drift: {items}")
            for pair, keys in WANT_ITEMS.items():
                check(items.get(pair) == keys, f"{pair[0]} {pair[1]}: items {sorted(items.get(pair, ()))}, "
                                               f"want {sorted(keys)}")
        finally:
            rc = run(["edgeops", "apply", "-i", inventory], env, log)
            check(rc == 0, f"edgeops apply heals the drills (exit {rc})")
            rc = run(["edgeops", "drift", "-i", inventory, "-o", str(tmp / "after.json")], env, log)
            check(rc == 0, f"the lab is converged again (edgeops drift exit {rc})")
            if FAILURES:
                print(log.read_text()[-20000:])
    print(f"\n{len(FAILURES)} check(s) failed" if FAILURES else "\nall checks passed")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
