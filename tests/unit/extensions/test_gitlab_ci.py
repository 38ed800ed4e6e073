"""The GitLab CI template (extensions/gitlab-ci/.gitlab-ci.yml): structure, rules and needs.

Which jobs each pipeline gets (merge request, push to a feature branch, push to the default
branch, schedule) is decided by the real ``gitlab-ci-local`` (``--list-json``, in a Git checkout
holding the template), and every job's ``needs`` must be in the same pipeline and an earlier or the
same stage, as GitLab requires. ``gitlab-ci-local`` does not apply ``workflow:rules`` to its job
list, so the one workflow case (a branch with an open merge request runs no branch pipeline) is
still checked with a small evaluator of the expression subset the template uses.
tests/integration/test_audit_pipelines.py runs the pipelines themselves. The ``edgeops`` command
lines are parsed by the real ``edgeops`` argument parser.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CI_FILE = ROOT / "extensions" / "gitlab-ci" / ".gitlab-ci.yml"
GCL = ROOT / ".cache" / "npm" / "node_modules" / ".bin" / "gitlab-ci-local"
RESERVED = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script",
}  # fmt: skip

CI = yaml.safe_load(CI_FILE.read_text())
JOBS = {k: v for k, v in CI.items() if k not in RESERVED and not k.startswith(".")}


def job(name: str) -> dict:
    """A job with its ``extends`` merged (one level deep, as the template uses it)."""
    merged: dict = {}
    for parent in (
        [JOBS[name].get("extends")]
        if isinstance(JOBS[name].get("extends"), str)
        else (JOBS[name].get("extends") or [])
    ):
        merged.update(CI[parent])
    merged.update(JOBS[name])
    return merged


# --- a tiny evaluator for GitLab `if:` expressions -----------------------------------------------

_TERM = re.compile(r"""^\s*(?P<lhs>\$\w+)\s*(?:(?P<op>==|!=)\s*(?P<rhs>\$\w+|"[^"]*"|'[^']*'))?\s*$""")


def evaluate(expression: str, env: dict[str, str]) -> bool:
    def value(token: str) -> str | None:
        if token.startswith("$"):
            return env.get(token[1:]) or None  # unset and empty are the same in GitLab
        return token[1:-1]

    def term(text: str) -> bool:
        m = _TERM.match(text)
        if not m:
            raise ValueError(f"expression not understood by the test evaluator: {text!r}")
        lhs = value(m["lhs"])
        if not m["op"]:
            return lhs is not None
        rhs = value(m["rhs"])
        return (lhs == rhs) if m["op"] == "==" else (lhs != rhs)

    if "(" in expression or "=~" in expression:
        raise ValueError(f"expression not understood by the test evaluator: {expression!r}")
    return any(all(term(t) for t in alt.split("&&")) for alt in expression.split("||"))


def rules_decide(rules: list[dict] | None, env: dict[str, str]) -> str:
    """``when`` of the first matching rule (no rules: on_success); 'never' when none matches."""
    if rules is None:
        return "on_success"
    for rule in rules:
        unknown = set(rule) - {"if", "when", "allow_failure"}
        assert not unknown, f"rule keys the test does not evaluate: {unknown}"
        if "if" not in rule or evaluate(rule["if"], env):
            return rule.get("when", "on_success")
    return "never"


BASE = {"CI_DEFAULT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push"}
PIPELINES = {
    "merge_request": {
        **BASE,
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "7",
    },
    "feature_push": {**BASE, "CI_COMMIT_BRANCH": "feature/x"},
    "feature_push_with_open_mr": {**BASE, "CI_COMMIT_BRANCH": "feature/x", "CI_OPEN_MERGE_REQUESTS": "g/p!7"},
    "default_branch_push": {**BASE, "CI_COMMIT_BRANCH": "main"},
    "schedule": {**BASE, "CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main"},
}


def workflow_creates(env: dict[str, str]) -> bool:
    """Whether ``workflow:rules`` create a pipeline for ``env`` (the evaluator above)."""
    return rules_decide(CI.get("workflow", {}).get("rules"), env) != "never"


@pytest.fixture(scope="module")
def listed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict]]:
    """Per pipeline: gitlab-ci-local's job list (name -> job), rules evaluated by the real runner."""
    assert GCL.exists(), "gitlab-ci-local is missing: run scripts/setup.sh"
    repo = tmp_path_factory.mktemp("gitlab-ci")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("CI_", "GITLAB_"))},
           "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com", "LANG": "C"}

    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True)

    git("init", "-q", "-b", "main")
    (repo / ".gitlab-ci.yml").write_text(CI_FILE.read_text())
    git("add", ".gitlab-ci.yml")
    git("commit", "-q", "-m", "ci")
    git("branch", "feature/x")
    out: dict[str, dict[str, dict]] = {}
    for name, pipeline in PIPELINES.items():
        if not workflow_creates(pipeline):
            continue
        # a merge request pipeline runs on the source branch and has no CI_COMMIT_BRANCH
        git("checkout", "-q", pipeline.get("CI_COMMIT_BRANCH", "feature/x"))
        cmd = [str(GCL), "--list-json", "--variable", f"CI_PIPELINE_SOURCE={pipeline['CI_PIPELINE_SOURCE']}",
               "--ignore-predefined-vars", "CI_PIPELINE_SOURCE"]
        if "CI_COMMIT_BRANCH" not in pipeline:
            cmd += ["--unset-variable", "CI_COMMIT_BRANCH"]
        proc = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        out[name] = {j["name"]: j for j in json.loads(proc.stdout) if j["when"] != "never"}
    return out


def pipeline_jobs(listed: dict[str, dict[str, dict]], pipeline: str) -> set[str] | None:
    """The jobs of the pipeline GitLab creates; None when workflow creates none."""
    return set(listed[pipeline]) if pipeline in listed else None


EXPECTED = {
    "merge_request": {"lint", "drift"},
    "feature_push": {"lint", "drift"},
    "feature_push_with_open_mr": None,  # the merge request pipeline runs instead
    "default_branch_push": {"lint", "drift", "apply"},
    "schedule": {"scheduled-drift"},
}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_jobs_per_pipeline(listed, pipeline):
    assert pipeline_jobs(listed, pipeline) == EXPECTED[pipeline]


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_needs_are_in_the_same_pipeline_and_not_later_stages(listed, pipeline):
    jobs = listed.get(pipeline, {})
    stages = CI["stages"]
    for name, spec in jobs.items():
        for need in spec.get("needs") or []:
            need = need["job"] if isinstance(need, dict) else need
            assert need in jobs, f"{pipeline}: {name} needs {need}, which is not in the pipeline"
            assert stages.index(jobs[need]["stage"]) <= stages.index(spec["stage"])


def test_stages_in_order_and_every_job_in_one():
    assert CI["stages"] == ["lint", "drift", "apply"]
    for name in JOBS:
        assert job(name)["stage"] in CI["stages"], name


def test_lint_is_ansible_lint_production():
    assert any("ansible-lint --profile production" in line for line in job("lint")["script"])


@pytest.mark.parametrize("name", ["drift", "scheduled-drift"])
def test_drift_jobs_publish_junit_test_report(name):
    spec = job(name)
    (command,) = [line for line in spec["script"] if line.startswith("edgeops drift")]
    argv = shlex.split(command)
    assert argv[argv.index("--format") + 1] == "junit"
    report = argv[argv.index("--output") + 1]
    assert spec["artifacts"]["reports"]["junit"] == report
    assert spec["artifacts"]["when"] == "always"  # the report matters most when drift is found


def test_drift_exit_code_two_fails_only_the_scheduled_check():
    assert job("drift")["allow_failure"] == {"exit_codes": [2]}
    assert "allow_failure" not in job("scheduled-drift")


def test_apply_default_branch_only_after_drift_and_records_to_the_shared_store():
    spec = job("apply")
    assert set(spec["needs"]) >= {"drift"}
    assert spec["resource_group"]  # applies never overlap
    assert spec["interruptible"] is False
    assert any(line.startswith("edgeops apply") for line in spec["script"])
    assert "edgeops audit verify" in spec["script"]
    # no job keeps its own audit log: every job that runs edgeops needs the shared store
    for name in ("drift", "apply", "scheduled-drift"):
        assert "EDGEOPS_AUDIT_STORE" in "\n".join(job(name)["before_script"])
        assert "audit/" not in (job(name).get("artifacts") or {}).get("paths", [])
    assert "EDGEOPS_AUDIT_LOG" not in CI["variables"]


def test_evaluator_is_strict():
    with pytest.raises(ValueError):
        evaluate("$CI_COMMIT_BRANCH =~ /^release/", {})
    assert evaluate('$A == "x" && $B', {"A": "x", "B": "1"})
    assert not evaluate('$A == "x" && $B', {"A": "x"})
    assert evaluate('$A != "x" || $B', {"A": "x", "B": "y"})


def _edgeops_commands():
    for name in JOBS:
        for line in job(name).get("script", []):
            if line.startswith("edgeops "):
                yield name, line


@pytest.mark.parametrize(("name", "line"), list(_edgeops_commands()))
def test_edgeops_command_lines_parse(name, line):
    from edgeops.cli import build_parser

    values = {k: str(v) for k, v in CI["variables"].items()}
    argv = shlex.split(re.sub(r"\$(\w+)", lambda m: values.get(m[1], "x"), line))[1:]
    args = build_parser().parse_args(argv)
    assert args.command == argv[0]
