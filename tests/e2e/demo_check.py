"""End-to-end checks of the GitOps loop on the lab (run by tests/e2e/run.sh).

1. ``edgeops demo --skip-lab-up`` runs green (apply, drift 0, hand fix,
   drift 2 on exactly the edited hosts, apply heals, drift 0, audit).
2. Every JSON report validates against docs/drift-report.schema.json; every
   JUnit file parses as JUnit with one test case per host x concern.
3. Check-mode purity: hashes of /etc on every host, the etcd mount and the
   runtime values the roles manage (sysctls, MariaDB globals) are identical
   before and after ``edgeops drift``.
4. No secrets anywhere: the bootstrap tokens and certificate keys the kubeadm
   stand-in minted, a credential in the environment and the audit HMAC key
   appear in none of the reports, the audit log, the runner artifacts or the
   console output.
5. ``edgeops audit verify`` passes (HMAC checked) and fails on a tampered copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
HOSTS = ("k8s-master-01", "k8s-worker-0", "k8s-worker-1", "k8s-worker-2", "mysql-01")
SYSCTLS = (
    "net.ipv4.ip_local_port_range", "net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.ip_local_reserved_ports", "fs.file-max", "net.ipv4.ip_forward",
    "net.bridge.bridge-nf-call-iptables",
)
SNAPSHOT = (
    "find /etc -xdev -type f -print0 | sort -z | xargs -0 sha256sum; "
    f"sysctl {' '.join(SYSCTLS)} 2>&1; "
    "findmnt -n -o SOURCE,TARGET,FSTYPE,OPTIONS /var/lib/etcd 2>&1; "
    "if command -v mariadb >/dev/null && systemctl -q is-active mariadb; then "
    "mariadb -N -e \"SHOW GLOBAL VARIABLES WHERE Variable_name LIKE 'innodb%' "
    "OR Variable_name IN ('max_connections','bind_address')\"; fi"
)
FAILURES: list[str] = []


def check(ok: bool, what: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}  {what}", flush=True)
    if not ok:
        FAILURES.append(what)


def sh(host: str, script: str) -> str:
    proc = subprocess.run(["podman", "exec", host, "sh", "-c", script], capture_output=True, text=True,
                          check=False)
    return proc.stdout


def snapshot() -> dict[str, str]:
    return {h: hashlib.sha256(sh(h, SNAPSHOT).encode()).hexdigest() for h in HOSTS}


def edgeops(env: dict[str, str], log: Path, *args: str) -> int:
    with log.open("a", encoding="utf-8") as fh:
        fh.write(f"\n$ edgeops {' '.join(args)}\n")
        fh.flush()
        proc = subprocess.run([sys.executable, "-m", "edgeops", *args], cwd=ROOT, env=env,
                              stdout=fh, stderr=subprocess.STDOUT, check=False)
    return proc.returncode


def minted_secrets() -> list[str]:
    path = sh("k8s-master-01", "cat /var/lib/kubeadm-standin/store-path 2>/dev/null").strip()
    if not path:
        return []
    try:
        data = json.loads(sh("k8s-master-01", f"cat {path}"))
    except ValueError:
        return []
    return [str(t) for t in data.get("bootstrap_tokens", []) + data.get("certificate_keys", []) if t]


def main() -> int:
    """Run the checks; extra arguments are inventories (-i X -i Y; default inventory/lab)."""
    argv = sys.argv[1:]
    inventories = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a in ("-i", "--inventory")]
    inv_args = [x for inv in (inventories or ["inventory/lab"]) for x in ("-i", inv)]
    schema = json.loads((ROOT / "docs" / "drift-report.schema.json").read_text())
    with tempfile.TemporaryDirectory(prefix="edgeops-e2e-") as t:
        tmp = Path(t)
        env_secret = "e2e-" + secrets.token_hex(12)
        hmac_key = "hmac-" + secrets.token_hex(12)
        env = {
            **os.environ,
            "EDGEOPS_AUDIT_LOG": str(tmp / "audit" / "audit.jsonl"),
            "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts"),
            "EDGEOPS_AUDIT_HMAC_KEY": hmac_key,
            "EDGEOPS_E2E_DB_PASSWORD": env_secret,  # a credential in the environment of the run
            "NO_COLOR": "1",
        }
        console = tmp / "console.log"
        reports = tmp / "reports"

        rc = edgeops(env, console, "demo", "--skip-lab-up", *inv_args, "--report-dir", str(reports))
        check(rc == 0, f"edgeops demo runs green (exit {rc}; log below on failure)")
        if rc != 0:
            print(console.read_text()[-6000:])

        for path in sorted(reports.glob("*.json")):
            try:
                jsonschema.validate(json.loads(path.read_text()), schema)
                check(True, f"{path.name} validates against the report schema")
            except jsonschema.ValidationError as exc:
                check(False, f"{path.name} validates against the report schema: {exc.message}")
        for path in sorted(reports.glob("*.xml")):
            report = json.loads(path.with_suffix(".json").read_text())
            root = ET.parse(path).getroot()
            cases = root.findall("./testsuite/testcase")
            n = sum(max(len(h["concerns"]), 1 if h["status"] == "unreachable" else 0)
                    for h in report["hosts"])
            check(root.tag == "testsuites" and len(cases) == n == int(root.get("tests", -1)),
                  f"{path.name} is JUnit with one test case per host x concern ({len(cases)})")
        drift_steps = sorted(reports.glob("*-drift.json"))
        codes = [json.loads(p.read_text())["exit_code"] for p in drift_steps]
        check(codes == [0, 2, 0], f"drift exit codes over the demo are 0, 2, 0 (got {codes})")
        drifts = [json.loads(p.read_text()) for p in drift_steps]
        unchecked = [sum(r["summary"]["concerns"]["unchecked"] for r in [d]) for d in drifts]
        check(unchecked == [0] * len(drifts), f"no unchecked concern in any drift report (got {unchecked})")
        # The hand-fix report is the one that found drift (exit 2), wherever it sorts.
        items = sorted(
            (h["name"], c["name"], c["status"], i["key"], i["before"], i["after"], tuple(i["where"]))
            for d in drifts if d["exit_code"] == 2
            for h in d["hosts"] for c in h["concerns"] for i in c["items"]
        )
        want = [
            ("k8s-worker-1", "sysctl_tuning", "drifted", "net.core.somaxconn", "1024", "4096",
             ("file", "runtime")),
            ("mysql-01", "mysql_host", "drifted", "innodb_io_capacity", "500", "2000", ("file",)),
        ]
        check(items == want, f"the hand-fix drift report lists exactly the two items (got {items})")

        before = snapshot()
        rc = edgeops(env, console, "drift", *inv_args, "-o", str(reports / "purity.json"))
        after = snapshot()
        check(rc == 0, f"drift after the demo is in sync (exit {rc})")
        changed = [h for h in HOSTS if before[h] != after[h]]
        check(not changed, "check mode changed nothing: /etc, etcd mount, sysctls, MariaDB globals identical "
                           f"before/after drift on {len(HOSTS)} hosts (changed: {changed or 'none'})")

        rc = edgeops(env, console, "audit", "verify")
        check(rc == 0, "audit verify passes with the HMAC key")
        rc = edgeops(env, console, "audit", "show", "--format", "json")
        records = [json.loads(line) for line in (tmp / "audit" / "audit.jsonl").read_text().splitlines()]
        check(len(records) == 6 and all("hmac" in r for r in records),
              f"6 signed audit records (demo 5 + purity drift): {len(records)}")
        drift_records = [r for r in records if r.get("outcome") == "drift"]
        hand_fix = drift_records[0] if len(drift_records) == 1 else {}
        check(hand_fix.get("hosts", {}).get("k8s-worker-1", {}).get("drifted") == {
                  "sysctl_tuning": ["net.core.somaxconn"]}
              and "1024" not in json.dumps(hand_fix.get("hosts")),
              "the one drift record names k8s-worker-1's concern and item, without values")
        tampered = tmp / "tampered.jsonl"
        lines = (tmp / "audit" / "audit.jsonl").read_text().splitlines(keepends=True)
        # Tamper with the hand-fix drift record, found by its content, not by its position.
        at = next((i for i, line in enumerate(lines) if json.loads(line).get("outcome") == "drift"), None)
        check(at is not None, "the audit log holds the hand-fix drift record to tamper with")
        rec = json.loads(lines[at or 0])
        rec["actor"]["user"] = "somebody-else"
        lines[at or 0] = json.dumps(rec) + "\n"
        tampered.write_text("".join(lines))
        proc = subprocess.run([sys.executable, "-m", "edgeops", "audit", "verify", "--log", str(tampered)],
                              cwd=ROOT, env=env, capture_output=True, text=True, check=False)
        check(proc.returncode == 1 and f"seq {rec['seq']}:" in proc.stdout,
              f"audit verify names seq {rec['seq']} (the tampered drift record) in a tampered copy")
        tampered.unlink()

        needles = [s for s in [env_secret, hmac_key, *minted_secrets()] if len(s) >= 8]
        check(len(needles) >= 3, f"secrets to look for: env credential, HMAC key and {len(needles) - 2} "
                                 "kubeadm tokens/keys from the stand-in's store")
        hits = []
        for path in tmp.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                hits += [f"{path.relative_to(tmp)}" for s in needles if s.encode() in data]
        searched = sum(1 for p in tmp.rglob("*") if p.is_file())
        check(not hits, "no secret in reports, audit log, runner artifacts or console output "
                        f"({searched} files searched; hits: {hits or 'none'})")
    print(f"\n{'e2e: all checks passed' if not FAILURES else f'e2e: {len(FAILURES)} check(s) failed'}")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
