"""AWX / Tower material in extensions/awx: wrappers, surveys, the awx.awx configuration playbook.

* every playbook passes ``ansible-playbook --syntax-check``;
* the wrappers are found by AWX's own playbook detection rule (awx_rules.py, with its source);
* survey specs pass AWX's survey validation and every awx.awx task's parameters pass the *real*
  argument spec of its module, loaded from the installed awx.awx collection;
* the drift-check job template's playbook, run as AWX runs it (``--check --diff``, the survey's
  extra vars) through ansible-runner with the ``edgeops.gitops.drift`` callback, writes a drift
  report that names what is out of sync on a fresh lab container, and changes nothing there.
  The container is the inventory's database host: the site playbook's mysql play runs whole on one
  node (the Kubernetes plays need a control plane with an etcd disk in the same run).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from awx_rules import could_be_playbook, project_playbooks, survey_spec_errors

ROOT = Path(__file__).resolve().parents[3]
AWX = ROOT / "extensions" / "awx"
PROJECT = AWX / "project"
COLLECTIONS = ROOT / ".cache" / "collections"
CONFIGURE = AWX / "configure_awx.yml"
BIN = Path(sys.executable).parent


def ansible_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1")
    env.update(extra)
    return env


def all_playbooks() -> list[Path]:
    found = [AWX / p for p in project_playbooks(str(AWX))]
    assert found, "no playbooks found under extensions/awx"
    return found


# --- syntax ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("playbook", all_playbooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_playbook_syntax(playbook: Path):
    cfg = PROJECT / "ansible.cfg" if playbook.parent == PROJECT else ROOT / "ansible.cfg"
    result = subprocess.run(
        [str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", str(playbook)],
        capture_output=True,
        text=True,
        env=ansible_env(ANSIBLE_CONFIG=str(cfg)),
        cwd=playbook.parent,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# --- AWX playbook detection ------------------------------------------------------------------------


def test_awx_lists_exactly_the_wrappers_in_the_project():
    assert project_playbooks(str(PROJECT)) == ["converge.yml", "drift_check.yml"]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("- name: x\n  import_playbook: edgeops.gitops.site\n", True),
        ("- import_playbook: edgeops.gitops.site\n", True),
        ("- hosts: all\n  tasks: []\n", True),
        ("$ANSIBLE_VAULT;1.1;AES256\n6162\n", True),
        # the FQCN spelling that ansible-lint prefers is invisible to AWX: why the wrappers use
        # the bare key (and why a collection playbook like edgeops.gitops.site needs a wrapper)
        ("- name: x\n  ansible.builtin.import_playbook: edgeops.gitops.site\n", False),
        ("collections:\n  - name: edgeops.gitops\n", False),
    ],
)
def test_awx_detection_rule(tmp_path: Path, text: str, found: bool):
    (tmp_path / "candidate.yml").write_text(text)
    assert (could_be_playbook(str(tmp_path), str(tmp_path), "candidate.yml") is not None) is found


def test_awx_skips_roles_tasks_vars_and_dot_directories(tmp_path: Path):
    for sub in ("roles/x/tasks", "group_vars", "host_vars", ".hidden", "tasks", "ok"):
        (tmp_path / sub).mkdir(parents=True)
        (tmp_path / sub / "play.yml").write_text("- hosts: all\n")
    (tmp_path / "play.yaml").write_text("- hosts: all\n")
    (tmp_path / "play.txt").write_text("- hosts: all\n")
    assert project_playbooks(str(tmp_path)) == ["ok/play.yml", "play.yaml"]


# --- survey specs and awx.awx parameters -----------------------------------------------------------


def install_collection_loader() -> None:
    """Ansible's collection finder, installed as the CLIs do it (once per process).

    Modules imported earlier through plain ``sys.path`` are dropped so the finder loads them.
    """
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader._collection_config import AnsibleCollectionConfig

    if AnsibleCollectionConfig.collection_finder is not None:
        return
    for name in [m for m in sys.modules if m.split(".")[0] == "ansible_collections"]:
        del sys.modules[name]
    init_plugin_loader([str(COLLECTIONS)])


def load_configure_tasks() -> list[tuple[str, dict]]:
    """(module, templated parameters) of every awx.awx task, rendered as Ansible would."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    install_collection_loader()
    loader = DataLoader()
    loader.set_basedir(str(AWX))
    play = loader.load_from_file(str(CONFIGURE), trusted_as_template=True)[0]
    templar = Templar(loader=loader, variables=dict(play["vars"], ansible_search_path=[str(AWX)]))
    tasks = []
    for task in play["tasks"]:
        modules = [k for k in task if k.startswith("awx.awx.")]
        assert len(modules) == 1, f"task {task.get('name')!r} uses no awx.awx module"
        tasks.append((modules[0], templar.template(task[modules[0]])))
    return tasks


class _Captured(Exception):
    pass


def awx_argument_spec(module: str, monkeypatch: pytest.MonkeyPatch) -> tuple[dict, dict]:
    """The real argument spec of awx.awx.<module>: run its main() up to module creation."""
    short = module.rsplit(".", 1)[-1]
    mod = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{short}")
    from ansible_collections.awx.awx.plugins.module_utils.controller_api import ControllerModule

    seen: dict = {}

    def capture(argument_spec=None, **kwargs):
        seen["spec"], seen["kwargs"] = argument_spec, kwargs
        raise _Captured

    monkeypatch.setattr(mod, "ControllerAPIModule", capture)
    with pytest.raises(_Captured):
        mod.main()
    spec = dict(ControllerModule.AUTH_ARGSPEC)
    spec.update(seen["spec"])
    return spec, seen["kwargs"]


def validate(module: str, params: dict, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    spec, kwargs = awx_argument_spec(module, monkeypatch)
    validator = ArgumentSpecValidator(
        spec,
        **{
            k: kwargs[k]
            for k in (
                "mutually_exclusive",
                "required_together",
                "required_one_of",
                "required_if",
                "required_by",
            )
            if k in kwargs
        },
    )
    return validator.validate(json.loads(json.dumps(params))).error_messages


CONFIGURE_TASKS = load_configure_tasks()


@pytest.mark.parametrize(
    ("module", "params"), CONFIGURE_TASKS, ids=[f"{m}:{p['name']}" for m, p in CONFIGURE_TASKS]
)
def test_awx_task_parameters_match_module_argument_spec(module, params, monkeypatch):
    assert validate(module, params, monkeypatch) == []


def test_argument_spec_validation_catches_mistakes(monkeypatch):
    """The validator is the real thing: a typo or a bad choice is refused."""
    errors = validate(
        "awx.awx.job_template",
        {"name": "x", "job_type": "dry-run", "diff_mod": True},
        monkeypatch,
    )
    assert any("job_type" in e for e in errors)
    assert any("diff_mod" in e for e in errors)


def job_templates() -> dict[str, dict]:
    return {p["name"]: p for m, p in CONFIGURE_TASKS if m == "awx.awx.job_template"}


def test_run_and_check_templates_and_schedule():
    templates = job_templates()
    converge, check = templates["edgeops converge"], templates["edgeops drift check"]
    assert converge["job_type"] == "run"
    assert check["job_type"] == "check"
    assert check["diff_mode"] is True
    listed = project_playbooks(str(PROJECT))
    assert converge["playbook"] in listed and check["playbook"] in listed
    (schedule,) = [p for m, p in CONFIGURE_TASKS if m == "awx.awx.schedule"]
    assert schedule["unified_job_template"] == check["name"]
    assert "FREQ=DAILY" in schedule["rrule"]
    # a scheduled launch cannot answer a survey: every required question needs a default
    # or an answer in the schedule's extra_data
    for question in check["survey_spec"]["spec"]:
        if question["required"]:
            assert question.get("default") not in (None, "") or question["variable"] in schedule["extra_data"]


@pytest.mark.parametrize("survey", sorted((AWX / "surveys").glob("*.json")), ids=lambda p: p.name)
def test_survey_spec_is_valid_for_awx(survey: Path):
    spec = json.loads(survey.read_text())
    assert survey_spec_errors(spec) == []


def test_surveys_are_the_ones_the_templates_post():
    templates = job_templates()
    for name, survey in (("edgeops converge", "converge"), ("edgeops drift check", "drift_check")):
        assert templates[name]["survey_enabled"] is True
        assert templates[name]["survey_spec"] == json.loads((AWX / "surveys" / f"{survey}.json").read_text())


def test_surveys_never_override_desired_state():
    """Git is the single source of truth: no survey question sets a role variable."""
    roles = [p.name for p in (ROOT / "roles").iterdir() if p.is_dir()]
    for survey in (AWX / "surveys").glob("*.json"):
        for question in json.loads(survey.read_text())["spec"]:
            assert question["variable"].startswith("edgeops_"), question["variable"]
            assert not any(question["variable"].startswith(f"{r}_") for r in roles)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "x", "description": "", "spec": []}, "doesn't contain any items"),
        (
            {
                "name": "x",
                "description": "",
                "spec": [{"type": "bool", "question_name": "q", "variable": "v", "required": True}],
            },
            "not one of the allowed",
        ),
        (
            {
                "name": "x",
                "description": "",
                "spec": [
                    {
                        "type": "multiplechoice",
                        "question_name": "q",
                        "variable": "v",
                        "required": True,
                        "choices": ["a"],
                        "default": "b",
                    }
                ],
            },
            "Default choice must be answered",
        ),
        (
            {
                "name": "x",
                "description": "",
                "spec": [{"type": "integer", "question_name": "q", "variable": "v", "required": "yes"}],
            },
            "'required' in survey question 0 expected to be boolean",
        ),
    ],
)
def test_survey_rule_rejects_bad_specs(spec, message):
    errors = survey_spec_errors(spec)
    assert errors and message in errors[0]


# --- the check job template, run as AWX runs it ----------------------------------------------------

DISTRO = os.environ.get("EDGEOPS_DISTRO", "bookworm")
CONTAINER = f"awxcheck-{DISTRO}"
IMAGE = f"localhost/edgeops-lab:{DISTRO}"
# what the mysql play would change on a fresh node: its config tree and the service state
STATE_PROBE = (
    "find /etc/mysql /etc/sysctl.d /etc/systemd/system -type f -exec md5sum {} + | sort; "
    "systemctl is-enabled mariadb; systemctl is-active mariadb; true"
)


def node_state(container: str) -> str:
    return _podman("exec", container, "sh", "-c", STATE_PROBE).stdout


def _podman(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def lab_container():
    if shutil.which("podman") is None:
        pytest.skip("podman is not installed")
    if _podman("image", "exists", IMAGE, check=False).returncode != 0:
        pytest.skip(f"{IMAGE} not built yet (edgeops lab image --distro {DISTRO})")
    _podman("rm", "-f", "-t", "0", CONTAINER, check=False)
    _podman(
        "run",
        "-d",
        "--name",
        CONTAINER,
        "--hostname",
        CONTAINER,
        "--privileged",
        "--systemd=always",
        IMAGE,
        "/usr/local/sbin/edgeops-init",
    )
    try:
        # systemd finished booting: the service states the check compares are settled
        deadline = time.monotonic() + 120
        while True:
            state = _podman("exec", CONTAINER, "systemctl", "is-system-running", "--wait", check=False)
            if state.stdout.strip() in ("running", "degraded"):
                break
            assert time.monotonic() < deadline, f"systemd did not boot: {state.stdout}{state.stderr}"
            time.sleep(1)
        yield CONTAINER
    finally:
        _podman("rm", "-f", "-t", "0", CONTAINER, check=False)


def awx_cmdline(template: dict) -> str:
    """The ansible-playbook options AWX derives from a job template (job_type, diff_mode)."""
    options = []
    if template.get("job_type") == "check":
        options.append("--check")
    if template.get("diff_mode"):
        options.append("--diff")
    return " ".join(options)


def survey_defaults(template: dict) -> dict:
    return {
        q["variable"]: q["default"]
        for q in template["survey_spec"]["spec"]
        if q.get("default") not in (None, "")
    }


@pytest.mark.podman
def test_check_job_template_reports_drift_through_the_callback(lab_container, tmp_path):
    import ansible_runner

    template = job_templates()["edgeops drift check"]
    (schedule,) = [p for m, p in CONFIGURE_TASKS if m == "awx.awx.schedule"]
    extravars = {**survey_defaults(template), **schedule["extra_data"]}
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "hosts.yml").write_text(
        yaml.safe_dump(
            {
                "all": {
                    "vars": {
                        "ansible_connection": "containers.podman.podman",
                        "ansible_python_interpreter": "/usr/bin/python3",
                    },
                    "children": {"mysql": {"hosts": {lab_container: {"mysql_host_memory_mb": 16384}}}},
                }
            }
        )
    )
    for vars_file in (ROOT / "inventory" / "example" / "group_vars").glob("*.yml"):
        shutil.copy(vars_file, inventory / "group_vars" / vars_file.name)
    report_path = tmp_path / "drift.json"
    (tmp_path / "runner").mkdir()
    before = node_state(lab_container)
    assert "my.cnf" in before  # the probe sees the package's files

    run = ansible_runner.run(
        private_data_dir=str(tmp_path / "runner"),
        project_dir=str(PROJECT),  # AWX runs the job from the project checkout
        playbook=template["playbook"],
        inventory=str(inventory),
        extravars=extravars,
        cmdline=awx_cmdline(template),
        envvars={
            # AWX reads the project's ansible.cfg (callbacks_enabled = edgeops.gitops.drift)
            "ANSIBLE_CONFIG": str(PROJECT / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
            "EDGEOPS_DRIFT_REPORT": str(report_path),
        },
        quiet=True,
        timeout=600,
    )
    stdout = run.stdout.read() if run.stdout else ""
    assert awx_cmdline(template) == "--check --diff"
    assert run.status in ("successful", "failed"), (run.status, stdout[-4000:])
    starts = [e for e in run.events if e["event"] == "playbook_on_start"]
    assert starts and starts[0]["event_data"]["playbook"] == "drift_check.yml", stdout[-4000:]
    assert report_path.exists(), stdout[-4000:]

    report = json.loads(report_path.read_text())
    assert report["mode"] == "check" and report["run"]["check"] is True
    assert report["run"]["playbook"] == "drift_check.yml"
    (host,) = [h for h in report["hosts"] if h["name"] == lab_container]
    # one concern per role: the facts the wrapper gathers are no concern of their own
    assert [c["name"] for c in host["concerns"]] == ["mysql_host"], json.dumps(host, indent=1)[:4000]
    # a fresh node has none of the desired state: the check reports the drop-in's settings as items ...
    drifted = [c for c in host["concerns"] if c["status"] == "drifted"]
    items = {(i["key"], i.get("path")) for c in drifted for i in c["items"]}
    assert ("innodb_buffer_pool_size", "/etc/mysql/mariadb.conf.d/90-edgeops.cnf") in items, drifted
    # ... and nothing failed: the wrapper, the surveys' extra vars and --check --diff fit together
    assert not [c for c in host["concerns"] if c["status"] in ("failed", "unreachable")], host
    assert host["status"] == "drifted"
    assert (report["outcome"], report["exit_code"]) == ("drift", 2)
    assert report["summary"]["concerns"]["drifted"] == len(drifted)
    assert run.status == "successful"  # a check run that finds drift is a successful AWX job
    # check mode changed nothing on the node
    assert node_state(lab_container) == before


# --- the "edgeops audit" credential type -------------------------------------------------------------
CREDENTIAL_TYPE = AWX / "credential_type.yml"


def audit_module():
    """The collection's audit implementation (through the collection loader, as Ansible loads it)."""
    install_collection_loader()
    return importlib.import_module("ansible_collections.edgeops.gitops.plugins.plugin_utils._audit")


def render_injectors(inputs: dict[str, str], filename: str) -> dict[str, str]:
    """The job environment AWX builds from the injectors: Jinja2, sandboxed, undefined is an error."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    injectors = yaml.safe_load(CREDENTIAL_TYPE.read_text())["injectors"]
    jinja = ImmutableSandboxedEnvironment(undefined=StrictUndefined)
    namespace = {**inputs, "tower": {"filename": {"signing_key": filename}}}
    return {var: jinja.from_string(template).render(**namespace)
            for var, template in injectors["env"].items()}


def test_audit_credential_type_injects_exactly_what_the_audit_trail_reads():
    audit = audit_module()
    spec = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    fields = {f["id"]: f for f in spec["inputs"]["fields"]}
    env = spec["injectors"]["env"]
    # one home for the names: the injector sets exactly the variables _audit.ENVIRONMENT names,
    # each from the input field of the same key
    assert set(env) == set(audit.ENVIRONMENT.values())
    assert set(fields) == set(audit.ENVIRONMENT)
    for field, var in audit.ENVIRONMENT.items():
        assert f"{{{{ {field}" in env[var] or f"if ({field} " in env[var], (var, env[var])
    assert audit.ENVIRONMENT == {"store": audit.STORE_ENV, "hmac_key": audit.HMAC_ENV,
                                 "signing_key": audit.SIGN_ENV, "spool": audit.SPOOL_ENV}
    # the callback reads the store from the same variable
    from ansible_collections.edgeops.gitops.plugins.callback import drift
    assert {"name": audit.STORE_ENV} in yaml.safe_load(drift.DOCUMENTATION)["options"]["audit_store"]["env"]
    # secrets are marked secret, so AWX encrypts and masks them
    assert fields["hmac_key"].get("secret") is True and fields["signing_key"].get("secret") is True
    assert spec["inputs"]["required"] == ["store"]
    # configure_awx.yml posts this file, untemplated by Ansible (AWX renders the injectors)
    (task,) = [p for m, p in CONFIGURE_TASKS if m == "awx.awx.credential_type"]
    assert task["inputs"] == spec["inputs"] and task["injectors"] == spec["injectors"]
    assert (task["name"], task["kind"]) == (spec["name"], "cloud")


def test_audit_credential_type_environment_is_read_by_the_audit_trail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    audit = audit_module()
    keyfile = tmp_path / "signing_key"
    keyfile.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    full = render_injectors({"store": "git+ssh://git@gl.example.com/ops/c.git#edgeops-audit",
                             "hmac_key": "k" * 32, "signing_key": "KEY", "spool": "/srv/awx-spool"},
                            str(keyfile))
    for var, value in full.items():
        monkeypatch.setenv(var, value)
    store = audit.open_store()
    assert isinstance(store, audit.GitStore) and store.url == "ssh://git@gl.example.com/ops/c.git"
    assert store.branch == "edgeops-audit" and store.spool_dir == Path("/srv/awx-spool")
    assert audit.hmac_key() == b"k" * 32
    assert audit.signing_options(os.environ[audit.SIGN_ENV]) == (
        ["-c", "gpg.format=ssh", "-c", f"user.signingKey={keyfile}"], ["-s"])
    # only the required field: nothing optional is switched on by an empty value
    minimal = render_injectors({"store": "git+ssh://git@gl.example.com/ops/c.git"}, str(keyfile))
    for var, value in minimal.items():
        monkeypatch.setenv(var, value)
    assert audit.hmac_key() is None and audit.open_store().spool_dir is None
    assert audit.signing_options(os.environ[audit.SIGN_ENV]) == (["-c", "tag.gpgsign=false"], ["-a"])
