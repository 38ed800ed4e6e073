"""The catalogue of bad inputs (bad_inputs.yml): each is refused, before anything changes, with a
message naming the input, the value and the fix -- and naming no valid setting.

Roles run for real (ansible-playbook, check mode, localhost, one play per case, all in one run):
the refusal must come from the role's first check -- argument_specs or the preflight's settings
check -- so no task of the role ran before it.  Filters are called, modules run through
AnsibleModule in a temporary directory (sysctl_profile on a stand-in /proc/sys), the inventory
plugin through ansible-inventory, the command line as ``python -m edgeops``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
CASES = yaml.safe_load((HERE / "bad_inputs.yml").read_text(encoding="utf-8"))
#: The tasks a refusal may come from: the role's first checks, before anything else runs.
FIRST_CHECKS = (
    "Validating arguments against arg spec 'main'",
    "Preflight | Check the settings",  # mysql_host (its version probe must not run on wrong settings)
    "Check the settings, write, apply and verify the profile in one call",
    "Check the settings, pick and probe the device, refuse what is not ours to format, plan "
    "(one read-only call)",
    "Check the settings, read and compare the node in one call (swap, modules, sysctls, files, packages, "
    "binaries, cluster)",
)


def role_defaults(role: str) -> dict:
    return yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))


def forbidden(case: dict) -> list[str]:
    """The valid settings the message must not name."""
    if case["kind"] == "role":
        return [name for name in role_defaults(case["role"])
                if name not in case["input"] and name not in case.get("related", [])]
    return list(case.get("forbid", []))


def case_id(case: dict) -> str:
    return str(case["id"])


@pytest.fixture(scope="module")
def role_refusals(tmp_path_factory) -> dict:
    """Run every role case in one ansible-playbook run; the message and failing task per case."""
    tmp = tmp_path_factory.mktemp("role-refusals")
    inventory = tmp / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        "k8s_master": {"hosts": {"localhost": {"ansible_connection": "local",
                                               "ansible_python_interpreter": sys.executable}}},
        "k8s_worker": {"hosts": {}}}}}))
    plays = [{"name": "Facts once", "hosts": "localhost", "gather_facts": True,
              "gather_subset": ["!all", "!min", "hardware"], "tasks": []}]
    for case in [c for c in CASES if c["kind"] == "role"]:
        seen = f"{{{{ __refusals | default({{}}) | combine({{'{case['id']}': %s}}) }}}}"
        plays.append({
            "name": case["id"], "hosts": "localhost", "gather_facts": False, "vars": case["input"],
            "tasks": [{"block": [
                {"name": "The role",
                 "ansible.builtin.include_role": {"name": f"edgeops.gitops.{case['role']}"}},
                {"name": "Accepted",
                 "ansible.builtin.set_fact": {"__refusals": seen % "{'accepted': true}"}}],
                "rescue": [{"name": "Refused", "ansible.builtin.set_fact": {"__refusals": seen % (
                    "{'msg': ansible_failed_result.msg, 'task': ansible_failed_task.name}")}}]}]})
    plays.append({"name": "Results", "hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "Write them", "check_mode": False, "ansible.builtin.copy": {
            "dest": str(tmp / "refusals.json"), "content": "{{ __refusals | default({}) | to_json }}"}}]})
    playbook = tmp / "refusals.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_RETRY_FILES_ENABLED": "0"}
    proc = subprocess.run(["ansible-playbook", "--check", "-i", str(inventory), str(playbook)],
                          capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    results = tmp / "refusals.json"
    out = json.loads(results.read_text()) if results.exists() else {}
    for case in [c for c in CASES if c["kind"] == "role"]:
        out.setdefault(case["id"], {"run": proc.stdout[-3000:]})
    return out


def refuse_filter(case: dict) -> str:
    from ansible.errors import AnsibleFilterError

    name = case["filter"]
    module = __import__(f"ansible_collections.edgeops.gitops.plugins.filter.{name}", fromlist=[name])
    function = getattr(module, name)
    data = case["input"]
    if name == "kubeadm_config":  # a valid spec with the bad field in it
        data = {"advertise_address": "10.0.0.5", "host_addresses": ["10.0.0.5"], **data}
    with pytest.raises(AnsibleFilterError) as err:
        function(data, *case.get("args", []), **case.get("kwargs", {}))
    return str(err.value)


def refuse_module(case: dict, tmp_path: Path, monkeypatch, capsys) -> str:
    from ansible.module_utils.testing import patch_module_args

    name = case["module"]
    module = __import__(f"ansible_collections.edgeops.gitops.plugins.modules.{name}", fromlist=[name])
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    args = {"_ansible_check_mode": False, "_ansible_tmpdir": str(tmp_path), **case["args"]}
    if name == "fsync_latency":
        args.setdefault("path", str(work))
    if name == "sysctl_profile":
        proc = tmp_path / "proc" / "net" / "core"
        proc.mkdir(parents=True)
        (proc / "somaxconn").write_text("4096\n")
        (tmp_path / "proc" / "net" / "ipv4").mkdir()
        (tmp_path / "proc" / "net" / "ipv4" / "tcp_max_syn_backlog").write_text("1024\n")
        args.update(proc_root=str(tmp_path / "proc"), apply=True)
        args.setdefault("path", str(work / "99.conf"))
    monkeypatch.setattr("ansible.module_utils._internal.is_controller", False)
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        module.main()
    result = json.loads(capsys.readouterr().out)
    assert exc.value.code == 1 and result.get("failed"), result
    assert list(work.iterdir()) == [], "the module left something behind"
    if name == "sysctl_profile":
        assert (tmp_path / "proc" / "net" / "core" / "somaxconn").read_text() == "4096\n"
        assert (tmp_path / "proc" / "net" / "ipv4" / "tcp_max_syn_backlog").read_text() == "1024\n"
    return str(result["msg"])


def refuse_inventory(case: dict, tmp_path: Path) -> str:
    if case["state"] is not None:
        (tmp_path / "terraform.tfstate").write_text(json.dumps(case["state"]))
    config = tmp_path / "prod.terraform_state.yml"
    config.write_text(yaml.safe_dump({"plugin": "edgeops.gitops.terraform_state",
                                      "state_file": "terraform.tfstate"}))
    before = sorted(p.name for p in tmp_path.iterdir())
    env = {**os.environ, "ANSIBLE_INVENTORY_ENABLED": "edgeops.gitops.terraform_state",
           "ANSIBLE_INVENTORY_UNPARSED_FAILED": "true", "ANSIBLE_NOCOLOR": "1"}
    proc = subprocess.run(["ansible-inventory", "-i", str(config), "--list"], capture_output=True,
                          text=True, env=env, check=False)
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return " ".join(proc.stderr.split())


def refuse_cli(case: dict, tmp_path: Path) -> str:
    env = {**os.environ, "EDGEOPS_AUDIT_LOG": str(tmp_path / "audit" / "audit.jsonl"),
           "EDGEOPS_ARTIFACTS_DIR": str(tmp_path / "artifacts"), "NO_COLOR": "1"}
    proc = subprocess.run([sys.executable, "-m", "edgeops", *case["argv"]], capture_output=True, text=True,
                          env=env, cwd=ROOT, check=False)
    assert proc.returncode in (1, 64), (proc.returncode, proc.stdout, proc.stderr)
    assert list(tmp_path.iterdir()) == [], "the command created its audit log or artifacts"
    return proc.stderr


def test_the_catalogue_is_large_and_covers_every_kind():
    kinds = {c["kind"] for c in CASES}
    assert len(CASES) >= 30
    assert kinds == {"role", "filter", "module", "inventory", "cli"}
    assert len({c["id"] for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_bad_input_is_refused_naming_only_what_is_wrong(case, role_refusals, tmp_path, monkeypatch, capsys):
    kind = case["kind"]
    if kind == "role":
        got = role_refusals[case["id"]]
        assert "msg" in got, f"the role did not refuse {case['input']}: {got}"
        assert got["task"].startswith(FIRST_CHECKS), f"refused late, by {got['task']!r}: {got['msg']}"
        message = str(got["msg"])
    elif kind == "filter":
        message = refuse_filter(case)
    elif kind == "module":
        message = refuse_module(case, tmp_path, monkeypatch, capsys)
    elif kind == "inventory":
        message = refuse_inventory(case, tmp_path)
    else:
        message = refuse_cli(case, tmp_path)
    for needle in case["expect"]:
        assert str(needle) in message, f"{needle!r} missing from: {message}"
    named = [name for name in forbidden(case) if name in message]
    assert named == [], f"valid settings named in: {message}"
