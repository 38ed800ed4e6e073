"""Every way of running appends to one audit chain: the real GitLab pipeline and AWX job.

- ``gitlab-ci-local`` 4.64.1 (``scripts/setup.sh`` installs it into ``.cache/npm``), shell
  executor, runs ``extensions/gitlab-ci/.gitlab-ci.yml`` unchanged in a configuration
  repository whose origin is a local bare remote; the audit chain is the ``edgeops-audit``
  branch of that same remote (``EDGEOPS_AUDIT_STORE=git+<remote>#edgeops-audit``).
- The AWX wrapper playbooks (``extensions/awx/project``) run through ``ansible-runner`` the way
  AWX runs a job: a private data directory with the project, extra vars from the survey spec
  and AWX's job variables, the job environment (``JOB_ID``, ``AWX_HOST``...); the
  ``edgeops.gitops.drift`` callback (enabled by the project's ansible.cfg) appends the record.
- The CLI drills: two applies at once from two clones; a push that fails mid-run.

Target: ``EDGEOPS_AUDIT_TEST_INVENTORY`` (an inventory file) or, by default, one host reached with
``ansible_connection: local`` that a tiny role of the configuration repository manages (a file
under the test's temporary directory); the lab is never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
GCL = ROOT / ".cache" / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"
VENV_BIN = Path(sys.executable).parent
HMAC_KEY = "ci-hmac-key-never-in-logs-0123456789"
BRANCH = "edgeops-audit"

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


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False,
                          input=stdin, timeout=600)
    if check:
        tail = f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert proc.returncode == 0, f"{cmd}: rc {proc.returncode}\n{tail}"
    return proc


@dataclass
class Lab:
    tmp: Path
    remote: Path
    config: Path
    probe: Path
    env: dict[str, str]

    @property
    def store(self) -> str:
        return f"git+{self.remote}#{BRANCH}"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return run(["git", *args], cwd=cwd or self.config, env=self.env).stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def edgeops(self, *args: str, cache: str = "cli", check: bool = True,
                extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "EDGEOPS_AUDIT_CACHE": str(self.tmp / "cache" / cache),
               "EDGEOPS_AUDIT_STORE": self.store, "EDGEOPS_AUDIT_HMAC_KEY": HMAC_KEY, **(extra_env or {})}
        return run([str(VENV_BIN / "edgeops"), *args], cwd=self.config, env=env, check=check)

    def pipeline(self, source: str, runner: str) -> subprocess.CompletedProcess[str]:
        """One gitlab-ci-local pipeline of the checked-out commit, as GitLab would start it."""
        variables = {
            "CI_PIPELINE_SOURCE": source, "GITLAB_USER_LOGIN": f"{source}-user",
            "EDGEOPS_AUDIT_STORE": self.store, "EDGEOPS_AUDIT_HMAC_KEY": HMAC_KEY,
            "EDGEOPS_PLAYBOOK": "site.yml",
            # the runner's own clone of the audit branch (each runner machine has one)
            "EDGEOPS_AUDIT_CACHE": str(self.tmp / "cache" / runner),
        }
        cmd = [str(GCL), "--force-shell-executor", "--no-color", "--max-job-name-padding", "0",
               "--ignore-predefined-vars",
               "CI_PIPELINE_SOURCE,GITLAB_USER_LOGIN"]
        for k, v in variables.items():
            cmd += ["--variable", f"{k}={v}"]
        if source == "merge_request_event":  # GitLab sets no CI_COMMIT_BRANCH in MR pipelines
            cmd += ["--unset-variable", "CI_COMMIT_BRANCH"]
        return run(cmd, cwd=self.config, env=self.env, check=False)

    def records(self) -> list[dict[str, Any]]:
        proc = self.edgeops("audit", "show", "--log", self.store, "--format", "json", cache="reader")
        return list(json.loads(proc.stdout))

    def unprobe(self) -> None:
        """Drift: remove the probe file on every target host (through Ansible, whatever the target)."""
        run([str(VENV_BIN / "ansible"), "all", "-i", str(self.config / "inventory"), "-m",
             "ansible.builtin.file", "-a", "path={{ probe_path }} state=absent"],
            cwd=self.config, env=self.env)


def _inventory(tmp: Path) -> dict[str, Any]:
    given = os.environ.get("EDGEOPS_AUDIT_TEST_INVENTORY")
    if given:
        return dict(yaml.safe_load(Path(given).read_text()))
    return {"all": {"hosts": {"probe-01": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "probe_path": str(tmp / "target" / "motd")}}}}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    assert GCL.exists(), "gitlab-ci-local is missing: run scripts/setup.sh"
    assert shutil.which("rsync"), "rsync is missing (gitlab-ci-local needs it): run scripts/setup.sh"
    tmp = tmp_path_factory.mktemp("audit-pipelines")
    (tmp / "target").mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("EDGEOPS_", "CI_", "GITLAB_", "AWX_"))
           and k not in ("ANSIBLE_CONFIG", "JOB_ID")}
    env.update({
        "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
        "EDGEOPS_ARTIFACTS_DIR": str(tmp / "artifacts"), "XDG_STATE_HOME": str(tmp / "state"),
        "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
        "ANSIBLE_LOCAL_TEMP": str(tmp / "ansible-tmp"), "NO_COLOR": "1",
    })
    remote, config = tmp / "config.git", tmp / "config"
    run(["git", "init", "-q", "--bare", str(remote)], env=env)
    run(["git", "init", "-q", "-b", "main", str(config)], env=env)
    files = {
        ".gitlab-ci.yml": (ROOT / "extensions" / "gitlab-ci" / ".gitlab-ci.yml").read_text(),
        "site.yml": SITE,
        "roles/probe/tasks/main.yml": ROLE_TASKS,
        "roles/probe/meta/main.yml": ROLE_META,
        "roles/probe/meta/argument_specs.yml": ROLE_SPECS,
        "inventory/hosts.yml": yaml.safe_dump(_inventory(tmp)),
        "inventory/group_vars/all.yml": "---\nprobe_content: managed by edgeops, version 1\n",
        ".gitignore": ".gitlab-ci-local/\n*.xml\n*.md\n*.json\n",
        ".ansible-lint": "---\nprofile: production\noffline: true\n",
    }
    # the AWX project files, as extensions/awx/README.md says: at the configuration repository's root
    for f in ("converge.yml", "drift_check.yml", "ansible.cfg"):
        files[f] = (ROOT / "extensions" / "awx" / "project" / f).read_text()
    for name, text in files.items():
        (config / name).parent.mkdir(parents=True, exist_ok=True)
        (config / name).write_text(text)
    lab = Lab(tmp, remote, config, tmp / "target" / "motd", env)
    lab.git("remote", "add", "origin", str(remote))
    lab.commit("desired state")
    lab.git("push", "-q", "origin", "main")
    lab.git("remote", "set-head", "origin", "main")
    yield lab


def awx_job(lab: Lab, playbook: str, survey: str, job_id: int, job_type: str,
            extra_env: dict[str, str] | None = None,
            offline: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a wrapper playbook with ansible-runner the way AWX runs a job of a job template.

    ``offline``: the audit remote is unreachable while the job runs (after the project checkout).
    """
    pdd = lab.tmp / f"awx-job-{job_id}"
    run(["git", "clone", "-q", "-b", "main", str(lab.remote), str(pdd / "project")], env=lab.env)
    revision = lab.git("rev-parse", "HEAD", cwd=pdd / "project").strip()
    spec = json.loads((ROOT / "extensions" / "awx" / "surveys" / survey).read_text())
    answers = {q["variable"]: {"text": "CHG-1234", "textarea": "Quarterly re-converge, see ticket."}
               .get(q["type"], q.get("default")) for q in spec["spec"]}
    extravars = {**answers, "awx_job_id": job_id, "awx_user_name": "carol",
                 "awx_job_template_name": spec["name"], "awx_job_launch_type": "manual",
                 "awx_project_revision": revision, "tower_job_id": job_id, "tower_user_name": "carol"}
    (pdd / "env").mkdir()
    (pdd / "env" / "extravars").write_text(json.dumps(extravars))
    (pdd / "env" / "envvars").write_text(json.dumps({
        "JOB_ID": str(job_id), "AWX_HOST": "https://awx.example.com", "PROJECT_REVISION": revision,
        "INVENTORY_ID": "3", "ANSIBLE_COLLECTIONS_PATH": lab.env["ANSIBLE_COLLECTIONS_PATH"],
        # injected by the "edgeops audit" credential type (extensions/awx/README.md)
        "EDGEOPS_AUDIT_STORE": lab.store, "EDGEOPS_AUDIT_HMAC_KEY": HMAC_KEY,
        "EDGEOPS_AUDIT_CACHE": str(pdd / "audit-clone"),
        "EDGEOPS_DRIFT_REPORT": str(pdd / "report.json"),
        **(extra_env or {}),
    }))
    (pdd / "inventory").mkdir()
    shutil.copy(lab.config / "inventory" / "hosts.yml", pdd / "inventory" / "hosts.yml")
    (pdd / "inventory" / "group_vars").mkdir()
    shutil.copy(lab.config / "inventory" / "group_vars" / "all.yml", pdd / "inventory" / "group_vars")
    if job_type == "check":
        (pdd / "env" / "cmdline").write_text("--check --diff")
    env = {k: v for k, v in lab.env.items() if not k.startswith("ANSIBLE_COLLECTIONS")}
    away = lab.remote.with_name("config-away.git")
    if offline:
        lab.remote.rename(away)
    try:
        return run([str(VENV_BIN / "ansible-runner"), "run", str(pdd), "-p", playbook, "-j"],
                   env=env, check=False)
    finally:
        if offline:
            away.rename(lab.remote)


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
    lab.git("checkout", "-q", "main")
    lab.git("merge", "-q", "--ff-only", "motd-v2")
    lab.git("push", "-q", "origin", "main")
    push = lab.pipeline("push", runner="runner-b")
    out = push.stdout + push.stderr
    assert push.returncode == 0, out[-4000:]
    assert "apply starting" in out, out[-4000:]
    assert "hash chain, append-only history and anchors intact" in out, out[-4000:]
    assert lab.probe.read_text() == "managed by edgeops, version 2\n" or os.environ.get(
        "EDGEOPS_AUDIT_TEST_INVENTORY")
    # 3. schedule, after somebody removed the file: scheduled-drift fails on drift
    lab.unprobe()
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
