"""The audit trail on the lab: real pipelines and a real AWX-style job, one chain (issue 15).

Run by scripts/test.sh's e2e stage after tests/e2e/run.sh (the demo check), so the lab is up
and converged. A configuration repository holds the lab's inventory (``inventory/lab``:
hosts.yml and group_vars/) with ``extensions/gitlab-ci/.gitlab-ci.yml`` and the AWX project,
unchanged; its origin is a local bare remote whose ``edgeops-audit`` branch is the audit store
(``git+file:///...#edgeops-audit``). Every run targets the five lab hosts over SSH with become
and the real site playbook (``edgeops.gitops.site``):

1. a hand fix on k8s-worker-1 (somaxconn at runtime and in its sysctl.d file), then the
   merge-request pipeline (gitlab-ci-local, shell executor): lint -> drift, exit 2 allowed;
2. the default-branch pipeline after the merge: drift (exit 2) -> apply heals -> audit verify;
3. a hand fix on mysql-01 (its MariaDB drop-in), then the scheduled pipeline: fails on drift;
4. the AWX "Converge" job template through ansible-runner (survey answers, AWX job variables
   and environment): heals mysql-01, outcome ``changed``, exit 0;
5. ``edgeops audit verify`` on a fresh clone of the audit remote: one chain, every record.

The lab ends as the demo left it: converged, the two hand fixes undone (checked on the hosts).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from audit_harness import HMAC_KEY, Lab, awx_job, config_repository, run  # noqa: E402
from demo_check import HOSTS, minted_secrets  # noqa: E402

from edgeops.commands.demo import HAND_FIXES  # noqa: E402

LAB_INVENTORY = ROOT / "inventory" / "lab"
#: The demo's two hand fixes: a sysctl on a worker, the MariaDB drop-in on mysql-01.
SYSCTL_FIX, MYSQL_FIX = (dict(zip(("host", "what", "script"), f, strict=True)) for f in HAND_FIXES)
SYSCTL_FILE = "/etc/sysctl.d/99-k8s-network.conf"
MYSQL_DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"


def on_host(host: str, script: str) -> str:
    """Run a shell script in a lab container as root (what somebody with a shell there does)."""
    return run(["podman", "exec", host, "sh", "-c", script]).stdout


def in_sync_on_hosts() -> dict[str, str]:
    """What the two hand fixes touch, read on the hosts themselves."""
    worker, mysql = SYSCTL_FIX["host"], MYSQL_FIX["host"]
    return {
        "somaxconn runtime": on_host(worker, "sysctl -n net.core.somaxconn").strip(),
        "somaxconn file": on_host(worker, f"grep '^net.core.somaxconn =' {SYSCTL_FILE}").strip(),
        "innodb_io_capacity": on_host(mysql, f"grep '^innodb_io_capacity =' {MYSQL_DROPIN}").strip(),
    }


CONVERGED = {
    "somaxconn runtime": "4096",
    "somaxconn file": "net.core.somaxconn = 4096",
    "innodb_io_capacity": "innodb_io_capacity = 2000",
}


def concerns(record: dict[str, Any], status: str) -> dict[str, dict[str, list[str]]]:
    """host -> {concern: item names} of one status (``drifted``, ``changed``) in a record."""
    return {h: dict(v[status]) for h, v in record["hosts"].items() if v.get(status)}


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    hosts_yml = LAB_INVENTORY / "hosts.yml"
    assert hosts_yml.exists(), f"{hosts_yml} is missing: run `edgeops lab up` first"
    assert in_sync_on_hosts() == CONVERGED, (
        "the lab is not as the demo leaves it (converged): run `edgeops demo --skip-lab-up` "
        "(or `edgeops apply -i inventory/lab`) first")
    files = {"inventory/hosts.yml": hosts_yml.read_text()}  # the lab writes it with its "---"
    for path in sorted((LAB_INVENTORY / "group_vars").rglob("*.yml")):
        files[str(Path("inventory") / path.relative_to(LAB_INVENTORY))] = path.read_text()
    with tempfile.TemporaryDirectory(prefix="edgeops-audit-lab-") as t:
        lab = config_repository(Path(t), files, playbook="edgeops.gitops.site", file_url=True)
        yield lab
        # the lab as the demo left it, whatever failed above: converged
        if in_sync_on_hosts() != CONVERGED:
            lab.edgeops("apply", "edgeops.gitops.site", "-i", "inventory", "--format", "json",
                        cache="teardown", check=False)


def scalars(data: Any) -> Iterator[Any]:
    """Every scalar in a JSON value (the values of mappings, the elements of lists)."""
    if isinstance(data, dict):
        for v in data.values():
            yield from scalars(v)
    elif isinstance(data, list):
        for v in data:
            yield from scalars(v)
    else:
        yield data


def keys(data: Any) -> Iterator[str]:
    """Every mapping key in a JSON value."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            yield from keys(v)
    elif isinstance(data, list):
        for v in data:
            yield from keys(v)


def timed(what: str, fn: Any, *args: Any) -> Any:
    """``fn(*args)``; print how long it took, and each gitlab-ci-local job's own line."""
    t0 = time.monotonic()
    result = fn(*args)
    print(f"{what}: {time.monotonic() - t0:.0f}s", flush=True)
    for line in (result.stdout + result.stderr).splitlines():
        if " finished in " in line or " exited with " in line or "failed with" in line:
            print(f"  {line.strip()}", flush=True)
    return result


def test_pipelines_and_awx_on_the_lab_append_to_one_chain(lab: Lab) -> None:
    tokens = minted_secrets()
    assert tokens, "no kubeadm token minted on k8s-master-01: has the demo run?"

    # 1. merge request, with k8s-worker-1 edited by hand: lint -> drift (exit 2, allowed)
    on_host(SYSCTL_FIX["host"], SYSCTL_FIX["script"])
    lab.git("checkout", "-q", "-b", "runbook-note")
    kubeadm_vars = lab.config / "inventory" / "group_vars" / "all" / "kubeadm.yml"
    kubeadm_vars.write_text(kubeadm_vars.read_text() + "# reviewed for the quarterly audit\n")
    lab.commit("kubeadm vars: reviewed")
    mr = timed("merge-request pipeline", lab.pipeline, "merge_request_event", "runner-a")
    out = mr.stdout + mr.stderr
    assert mr.returncode == 0, out[-6000:]
    assert "lint starting" in out and "drift starting" in out and "apply starting" not in out, out[-6000:]

    # 2. default branch after the merge: drift (exit 2) -> apply heals -> audit verify
    lab.merge_and_push("runbook-note")
    push = timed("default-branch pipeline", lab.pipeline, "push", "runner-b")
    out = push.stdout + push.stderr
    assert push.returncode == 0, out[-6000:]
    assert "apply starting" in out, out[-6000:]
    assert "hash chain, append-only history and anchors intact" in out, out[-6000:]
    assert in_sync_on_hosts()["somaxconn runtime"] == "4096"
    assert in_sync_on_hosts()["somaxconn file"] == "net.core.somaxconn = 4096"

    # 3. schedule, with mysql-01's drop-in edited by hand: scheduled-drift fails on drift
    on_host(MYSQL_FIX["host"], MYSQL_FIX["script"])
    sched = timed("scheduled pipeline", lab.pipeline, "schedule", "runner-a")
    out = sched.stdout + sched.stderr
    assert sched.returncode != 0 and "scheduled-drift" in out, out[-6000:]
    assert "lint starting" not in out and "apply starting" not in out, out[-6000:]

    # 4. AWX: the Converge job template heals mysql-01
    converge = timed("AWX converge job", awx_job, lab, "converge.yml", "converge.json", 42, "run")
    assert converge.returncode == 0, converge.stdout[-6000:]
    assert "audit: record" in converge.stdout, converge.stdout[-3000:]
    report = json.loads((lab.tmp / "awx-job-42" / "report.json").read_text())
    assert (report["outcome"], report["exit_code"]) == ("changed", 0), report["summary"]
    assert in_sync_on_hosts() == CONVERGED

    # the records: who, which hosts, which concerns and items drifted or changed (names only)
    records = lab.records()
    summary = [(r["seq"], r["command"], (r["actor"].get("ci") or {}).get("CI_PIPELINE_SOURCE")
                or r["actor"].get("ci_user"), r["exit_code"], r["outcome"]) for r in records]
    assert summary == [
        (1, "drift", "merge_request_event", 2, "drift"),
        (2, "drift", "push", 2, "drift"),
        (3, "apply", "push", 0, "changed"),
        (4, "drift", "schedule", 2, "drift"),
        (5, "apply", "carol", 0, "changed"),
    ], summary
    assert [r["run"]["runner"] for r in records] == ["edgeops"] * 4 + ["ansible-playbook"], records
    for r in records:
        assert sorted(r["hosts"]) == sorted(HOSTS), r["hosts"]
        assert all(h["status"] != "unreachable" for h in r["hosts"].values()), r["hosts"]
        assert r["config_repo"]["commit"], r
    worker, mysql = SYSCTL_FIX["host"], MYSQL_FIX["host"]
    sysctl_items = {worker: {"sysctl_tuning": ["net.core.somaxconn"]}}
    assert concerns(records[0], "drifted") == sysctl_items, records[0]["hosts"]
    assert concerns(records[1], "drifted") == sysctl_items, records[1]["hosts"]
    assert concerns(records[2], "changed") == sysctl_items, records[2]["hosts"]
    for seq, st in ((3, "drifted"), (4, "changed")):  # the drop-in's setting, by name
        found = concerns(records[seq], st)
        assert list(found) == [mysql] and list(found[mysql]) == ["mysql_host"], records[seq]["hosts"]
        assert "innodb_io_capacity" in found[mysql]["mysql_host"], found
    assert records[4]["actor"]["job_url"] == "https://awx.example.com/#/jobs/playbook/42"
    assert records[4]["change"] == {"ticket": "CHG-1234", "reason": "Quarterly re-converge, see ticket."}
    assert records[2]["actor"]["ci_user"] == "push-user" and records[2]["actor"]["job_url"]

    # names only, never values (the hand fixes' 1024 and 500, and the desired 4096 and 2000);
    # no secret in any output or artifact of any run
    leaves = [leaf for r in records for leaf in scalars(r["hosts"])]
    assert not {"1024", "500", "4096", "2000"} & {str(leaf) for leaf in leaves}, records
    assert not {"before", "after", "value"} & set(keys(records)), records
    text = json.dumps(records)
    needles = [HMAC_KEY, *tokens]
    outputs = {"merge-request pipeline": mr.stdout + mr.stderr, "default-branch pipeline":
               push.stdout + push.stderr, "scheduled pipeline": sched.stdout + sched.stderr,
               "AWX job": converge.stdout + converge.stderr, "records": text}
    for path in lab.tmp.rglob("*"):
        # Inputs, not outputs: the AWX job's env/ is what the credential injected (the HMAC key),
        # and ansible-runner's artifacts/<ident>/command repeats that environment (AWX keeps the
        # private data directory to itself and deletes it after the job).
        if path.is_file() and ".git" not in path.parts and path.parent.name != "env" \
                and not (path.name == "command" and path.parent.parent.name == "artifacts"):
            outputs[str(path.relative_to(lab.tmp))] = path.read_text(errors="replace")
    hits = [f"{where}: {n[:6]}..." for where, t in outputs.items() for n in needles if n in t]
    assert not hits, hits

    # acceptance: a fresh clone of the audit remote verifies the one chain, HMACs included
    assert lab.store.startswith("git+file:///"), lab.store
    fresh = lab.edgeops("audit", "verify", "--log", lab.store, cache="fresh-auditor", check=False)
    print(fresh.stdout, flush=True)
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert f"OK: {len(records)} records" in fresh.stdout and "HMAC checked" in fresh.stdout, fresh.stdout
    assert len(records) == 5
