"""The GitLab CI template (extensions/gitlab-ci/.gitlab-ci.yml): structure, rules and needs.

The ``rules:``/``workflow:`` conditions are evaluated for the pipelines that matter (merge request,
push to a feature branch, push to the default branch, schedule) with a small evaluator of the
GitLab expression subset the template uses (it refuses anything else), then every job's ``needs``
must be in the same pipeline and an earlier or the same stage, as GitLab requires. The ``edgeops``
command lines are parsed by the real ``edgeops`` argument parser.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CI_FILE = ROOT / "extensions" / "gitlab-ci" / ".gitlab-ci.yml"
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


def pipeline_jobs(env: dict[str, str]) -> set[str] | None:
    """The jobs of the pipeline GitLab creates for ``env``; None when workflow creates none."""
    if rules_decide(CI.get("workflow", {}).get("rules"), env) == "never":
        return None
    return {name for name in JOBS if rules_decide(job(name).get("rules"), env) != "never"}


EXPECTED = {
    "merge_request": {"lint", "drift"},
    "feature_push": {"lint", "drift"},
    "feature_push_with_open_mr": None,  # the merge request pipeline runs instead
    "default_branch_push": {"lint", "drift", "apply"},
    "schedule": {"scheduled-drift"},
}


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_jobs_per_pipeline(pipeline):
    assert pipeline_jobs(PIPELINES[pipeline]) == EXPECTED[pipeline]


@pytest.mark.parametrize("pipeline", sorted(PIPELINES))
def test_needs_are_in_the_same_pipeline_and_not_later_stages(pipeline):
    jobs = pipeline_jobs(PIPELINES[pipeline]) or set()
    stages = CI["stages"]
    for name in jobs:
        spec = job(name)
        for need in spec.get("needs", []):
            need = need["job"] if isinstance(need, dict) else need
            assert need in jobs, f"{pipeline}: {name} needs {need}, which is not in the pipeline"
            assert stages.index(job(need)["stage"]) <= stages.index(spec["stage"])


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


def test_apply_default_branch_only_after_drift_and_keeps_audit_log():
    spec = job("apply")
    assert set(spec["needs"]) >= {"drift"}
    assert spec["resource_group"]  # applies never overlap
    assert spec["interruptible"] is False
    assert spec["artifacts"]["when"] == "always"
    assert spec["artifacts"]["expire_in"] == "never"
    audit_dir = CI["variables"]["EDGEOPS_AUDIT_LOG"].split("/")[0] + "/"
    assert audit_dir in spec["artifacts"]["paths"]
    assert any("--audit-log" in line and "$EDGEOPS_AUDIT_LOG" in line for line in spec["script"])


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
