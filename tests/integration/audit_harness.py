"""A configuration repository, its bare remote, gitlab-ci-local pipelines and AWX-style jobs.

Shared by tests/integration/test_audit_pipelines.py (a light local host) and
tests/e2e/test_audit_lab.py (the lab): a configuration repository whose origin is a local bare
remote; the audit chain is the ``edgeops-audit`` branch of that same remote
(``EDGEOPS_AUDIT_STORE=git+<remote>#edgeops-audit``).

- ``gitlab-ci-local`` 4.64.1 (``scripts/setup.sh`` installs it into ``.cache/npm``), shell
  executor, runs the repository's ``.gitlab-ci.yml`` (``extensions/gitlab-ci/.gitlab-ci.yml``,
  unchanged) as GitLab would start a pipeline.
- :func:`awx_job` runs a wrapper playbook of ``extensions/awx/project`` through
  ``ansible-runner`` the way AWX runs a job: a private data directory with the project, extra
  vars from the survey spec and AWX's job variables, the job environment (``JOB_ID``,
  ``AWX_HOST``...); the ``edgeops.gitops.drift`` callback (enabled by the project's
  ansible.cfg) appends the record.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
GCL = ROOT / ".cache" / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"
VENV_BIN = Path(sys.executable).parent
HMAC_KEY = "ci-hmac-key-never-in-logs-0123456789"
BRANCH = "edgeops-audit"
#: The AWX project files, at the configuration repository's root (extensions/awx/README.md).
AWX_PROJECT_FILES = ("converge.yml", "drift_check.yml", "ansible.cfg")


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
    """The configuration repository, its remote and the environment every runner starts from."""

    tmp: Path
    remote: Path
    config: Path
    env: dict[str, str]
    playbook: str = "site.yml"
    #: name the remote by a file:// URL (git+file:///...#edgeops-audit) rather than by its path
    file_url: bool = False

    @property
    def store(self) -> str:
        url = self.remote.as_uri() if self.file_url else str(self.remote)
        return f"git+{url}#{BRANCH}"

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return run(["git", *args], cwd=cwd or self.config, env=self.env).stdout

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)

    def merge_and_push(self, branch: str) -> None:
        """Merge ``branch`` into main (fast-forward, as after an approved merge request) and push."""
        self.git("checkout", "-q", "main")
        self.git("merge", "-q", "--ff-only", branch)
        self.git("push", "-q", "origin", "main")

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
            "EDGEOPS_PLAYBOOK": self.playbook,
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


def clean_env(tmp: Path) -> dict[str, str]:
    """This process's environment without any EDGEOPS_/CI_/AWX_ setting: each runner sets its own."""
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
    return env


def config_repository(tmp: Path, files: dict[str, str], playbook: str = "site.yml",
                      file_url: bool = False) -> Lab:
    """A configuration repository with ``files``, the pipeline and the AWX project, pushed to its remote."""
    assert GCL.exists(), "gitlab-ci-local is missing: run scripts/setup.sh"
    assert shutil.which("rsync"), "rsync is missing (gitlab-ci-local needs it): run scripts/setup.sh"
    env = clean_env(tmp)
    remote, config = tmp / "config.git", tmp / "config"
    run(["git", "init", "-q", "--bare", str(remote)], env=env)
    run(["git", "init", "-q", "-b", "main", str(config)], env=env)
    files = {
        ".gitlab-ci.yml": (ROOT / "extensions" / "gitlab-ci" / ".gitlab-ci.yml").read_text(),
        ".gitignore": ".gitlab-ci-local/\n*.xml\n*.md\n*.json\n",
        ".ansible-lint": "---\nprofile: production\noffline: true\n",
        **{f: (ROOT / "extensions" / "awx" / "project" / f).read_text() for f in AWX_PROJECT_FILES},
        **files,
    }
    for name, text in files.items():
        (config / name).parent.mkdir(parents=True, exist_ok=True)
        (config / name).write_text(text)
    lab = Lab(tmp, remote, config, env, playbook, file_url)
    lab.git("remote", "add", "origin", str(remote))
    lab.commit("desired state")
    lab.git("push", "-q", "origin", "main")
    lab.git("remote", "set-head", "origin", "main")
    return lab


def awx_job(lab: Lab, playbook: str, survey: str, job_id: int, job_type: str,
            extra_env: dict[str, str] | None = None,
            offline: bool = False) -> subprocess.CompletedProcess[str]:
    """Run a wrapper playbook with ansible-runner the way AWX runs a job of a job template.

    The job's report is ``<tmp>/awx-job-<job_id>/report.json``. ``extra_env``: more job
    environment (what a credential injects); ``offline``: the audit remote is unreachable while
    the job runs (after the project checkout).
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
    # AWX syncs the job's inventory (hosts, group_vars) into the private data directory
    shutil.copytree(lab.config / "inventory", pdd / "inventory")
    # both job templates have diff_mode: true (extensions/awx/configure_awx.yml); check adds --check
    (pdd / "env" / "cmdline").write_text("--check --diff" if job_type == "check" else "--diff")
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
