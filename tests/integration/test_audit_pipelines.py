"""Every way of running appends to one audit chain: the real GitLab pipeline and AWX job.

The harness (tests/integration/audit_harness.py): ``gitlab-ci-local`` (shell executor) runs
``extensions/gitlab-ci/.gitlab-ci.yml`` unchanged in a configuration repository whose origin is
a local bare remote, the audit chain being the ``edgeops-audit`` branch of that remote; the AWX
wrapper playbooks run through ``ansible-runner`` as AWX runs a job.

Here the target is light: one host reached with ``ansible_connection: local`` that a tiny role
of the configuration repository manages (a file under the test's temporary directory), so the
pipeline's own logic (rules, exit codes, the record of each job) and the CLI drills (two applies
at once from two clones; a push that fails mid-run) run in seconds. The same pipelines against
the lab's five hosts, the real site playbook and real drift: tests/e2e/test_audit_lab.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from audit_harness import HMAC_KEY, VENV_BIN, Lab, awx_job, config_repository, run

SITE = """\
---
- name: Converge the probe host
  hosts: all
  gather_facts: false
  roles:
    - role: probe
"""
ROLE_TASKS = """\
---
- name: Write the probe file
  ansible.builtin.copy:
    dest: "{{ probe_path }}"
    content: "{{ probe_content }}\\n"
    mode: "0644"
"""
ROLE_META = """\
---
galaxy_info:
  author: edgeops
  description: the audit tests' probe concern
  license: GPL-3.0-or-later
  min_ansible_version: "2.15"
  platforms:
    - name: Debian
      versions: [bookworm]
dependencies: []
"""
ROLE_SPECS = """\
---
argument_specs:
  main:
    short_description: Write one file
    options:
      probe_path:
        type: path
        required: true
        description: The file.
      probe_content:
        type: str
        required: true
        description: Its content.
"""


def unprobe(lab: Lab) -> None:
    """Drift: remove the probe file on the target host (through Ansible)."""
    run([str(VENV_BIN / "ansible"), "all", "-i", str(lab.config / "inventory"), "-m",
         "ansible.builtin.file", "-a", "path={{ probe_path }} state=absent"],
        cwd=lab.config, env=lab.env)


def _inventory(tmp: Path) -> dict[str, Any]:
    return {"all": {"hosts": {"probe-01": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "probe_path": str(tmp / "target" / "motd")}}}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("audit-pipelines")
    (tmp / "target").mkdir()
    yield config_repository(tmp, {
        "site.yml": SITE,
        "roles/probe/tasks/main.yml": ROLE_TASKS,
        "roles/probe/meta/main.yml": ROLE_META,
        "roles/probe/meta/argument_specs.yml": ROLE_SPECS,
        "inventory/hosts.yml": yaml.safe_dump(_inventory(tmp)),
        "inventory/group_vars/all.yml": "---\nprobe_content: managed by edgeops, version 1\n",
    })


def test_pipelines_and_awx_append_to_one_chain(lab: Lab) -> None:
    # 1. merge request: lint -> drift (exit 2, allowed)
    lab.git("checkout", "-q", "-b", "motd-v2")
    (lab.config / "inventory" / "group_vars" / "all.yml").write_text(
        "---\nprobe_content: managed by edgeops, version 2\n")
    lab.commit("motd v2")
    mr = lab.pipeline("merge_request_event", runner="runner-a")
    out = mr.stdout + mr.stderr
    assert mr.returncode == 0, out[-4000:]
    assert "lint starting" in out and "drift starting" in out and "apply starting" not in out, out[-4000:]
    # 2. default branch after the merge: drift (exit 2) -> apply with the audit push
    lab.merge_and_push("motd-v2")
    push = lab.pipeline("push", runner="runner-b")
    out = push.stdout + push.stderr
    assert push.returncode == 0, out[-4000:]
    assert "apply starting" in out, out[-4000:]
    assert "hash chain, append-only history and anchors intact" in out, out[-4000:]
    assert (lab.tmp / "target" / "motd").read_text() == "managed by edgeops, version 2\n"
    # 3. schedule, after somebody removed the file: scheduled-drift fails on drift
    unprobe(lab)
    sched = lab.pipeline("schedule", runner="runner-a")
    out = sched.stdout + sched.stderr
    assert sched.returncode != 0 and "scheduled-drift" in out, out[-4000:]
    assert "lint starting" not in out and "apply starting" not in out
    for p in (mr, push, sched):
        assert HMAC_KEY not in p.stdout + p.stderr
    # 4. AWX: the drift check job template (job type check), then converge
    check = awx_job(lab, "drift_check.yml", "drift_check.json", 41, "check")
    assert check.returncode == 0, check.stdout[-4000:]
    converge = awx_job(lab, "converge.yml", "converge.json", 42, "run")
    assert converge.returncode == 0, converge.stdout[-4000:]
    for p in (check, converge):
        assert HMAC_KEY not in p.stdout + p.stderr
        assert "audit: record" in p.stdout, p.stdout[-3000:]

    records = lab.records()
    awx_reports = [json.loads((lab.tmp / f"awx-job-{j}" / "report.json").read_text()) for j in (41, 42)]
    summary = [(r["seq"], r["command"], (r["actor"].get("ci") or {}).get("CI_PIPELINE_SOURCE")
                or r["actor"].get("ci_user"), r["exit_code"]) for r in records]
    assert summary == [
        (1, "drift", "merge_request_event", 2),
        (2, "drift", "push", 2),
        (3, "apply", "push", 0),
        (4, "drift", "schedule", 2),
        # the callback's record says what the callback's report says (the light target is in
        # none of edgeops.gitops.site's groups: no host, outcome "error")
        (5, "drift", "carol", awx_reports[0]["exit_code"]),
        (6, "apply", "carol", awx_reports[1]["exit_code"]),
    ], summary
    assert [r["run"]["runner"] for r in records] == ["edgeops"] * 4 + ["ansible-playbook"] * 2
    assert records[2]["hosts"] and all(h.get("changed") for h in records[2]["hosts"].values())
    assert records[4]["actor"]["job_url"] == "https://awx.example.com/#/jobs/playbook/41"
    assert records[5]["change"] == {"ticket": "CHG-1234", "reason": "Quarterly re-converge, see ticket."}
    assert records[2]["actor"]["ci_user"] == "push-user" and records[2]["actor"]["job_url"]
    assert all(r["config_repo"]["commit"] for r in records)
    text = json.dumps(records)
    assert "version 2" not in text and HMAC_KEY not in text  # names only, never values

    # acceptance: a fresh clone of the audit remote verifies the one chain, HMACs included
    fresh = lab.edgeops("audit", "verify", "--log", lab.store, cache="fresh-auditor")
    assert "OK: 6 records" in fresh.stdout and "HMAC checked" in fresh.stdout, fresh.stdout
    (lab.tmp / "acceptance.txt").write_text(fresh.stdout)


def test_two_applies_at_once_from_two_clones(lab: Lab) -> None:
    before = len(lab.records())
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def apply(clone: str) -> None:
        results[clone] = lab.edgeops("apply", "site.yml", "-i", "inventory", "--format", "json",
                                     cache=clone, check=False)

    threads = [threading.Thread(target=apply, args=(c,)) for c in ("clone-1", "clone-2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results.values():
        assert r.returncode == 0, r.stderr[-3000:]
    records = lab.records()
    assert [r["seq"] for r in records] == list(range(1, before + 3))
    assert [r["command"] for r in records[before:]] == ["apply", "apply"]
    verdict = lab.edgeops("audit", "verify", "--log", lab.store, cache="fresh-2")
    assert f"OK: {before + 2} records" in verdict.stdout, verdict.stdout


def test_push_fails_mid_run_then_the_next_run_pushes_it(lab: Lab) -> None:
    before = len(lab.records())
    away = lab.remote.with_name("config-away.git")
    lab.remote.rename(away)
    try:
        failed = lab.edgeops("drift", "site.yml", "-i", "inventory", "--format", "json",
                             cache="laptop", check=False)
    finally:
        away.rename(lab.remote)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert "the audit record was not pushed" in failed.stderr and "next" in failed.stderr, failed.stderr
    assert len(lab.records()) == before  # nothing reached the remote
    again = lab.edgeops("drift", "site.yml", "-i", "inventory", "--format", "json",
                        cache="laptop", check=False)
    assert again.returncode in (0, 2), again.stderr[-3000:]
    records = lab.records()
    assert len(records) == before + 2 and [r["command"] for r in records[-2:]] == ["drift", "drift"]
    verdict = lab.edgeops("audit", "verify", "--log", lab.store, cache="fresh-3")
    assert f"OK: {before + 2} records" in verdict.stdout, verdict.stdout


def test_awx_push_fails_the_record_waits_in_the_spool_and_the_next_job_publishes_it(lab: Lab) -> None:
    """AWX: the job's disk goes with the job; the spool (a path exposed to jobs) keeps the record."""
    before = len(lab.records())
    spool = lab.tmp / "awx-spool"  # AWX: Settings > Jobs > Paths to expose to isolated jobs
    spool.mkdir()
    env = {"EDGEOPS_AUDIT_SPOOL": str(spool)}
    failed = awx_job(lab, "converge.yml", "converge.json", 51, "run", extra_env=env, offline=True)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0, out[-3000:]  # AWX marks the job failed
    assert f"saved in the audit spool {spool}" in out and "EDGEOPS_AUDIT_SPOOL" in out, out[-3000:]
    [entry] = sorted(spool.glob("*.json"))
    spooled = json.loads(entry.read_text())["record"]
    assert spooled["actor"]["job_url"] == "https://awx.example.com/#/jobs/playbook/51"
    assert HMAC_KEY not in entry.read_text() and HMAC_KEY not in out
    assert len(lab.records()) == before  # nothing reached the remote
    shutil.rmtree(lab.tmp / "awx-job-51")  # the job's disk, and its audit clone, go away with the job
    # the next job, on another runner (a fresh private data directory and clone), publishes it first
    check = awx_job(lab, "drift_check.yml", "drift_check.json", 52, "check", extra_env=env)
    assert check.returncode == 0, (check.stdout + check.stderr)[-3000:]
    assert sorted(spool.glob("*.json")) == []
    records = lab.records()
    jobs = [(r["actor"].get("ci") or {}).get("JOB_ID") for r in records[before:]]
    assert jobs == ["51", "52"], jobs  # every record once, in order, none lost or duplicated
    assert records[before]["time"] == spooled["time"] and records[before]["hosts"] == spooled["hosts"]
    verdict = lab.edgeops("audit", "verify", "--log", lab.store, cache="fresh-spool")
    assert f"OK: {before + 2} records" in verdict.stdout and "HMAC checked" in verdict.stdout, verdict.stdout
