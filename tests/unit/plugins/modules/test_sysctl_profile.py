"""Tests for the edgeops.gitops.sysctl_profile module, driven through AnsibleModule.

/proc/sys is stood in for by a temporary tree (../module_utils/sysctl_proc_tree.yml);
kernel.ngroups_max links to the real, read-only kernel file.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.edgeops.gitops.plugins.modules import sysctl_profile

REFERENCE = {
    "net.ipv4.ip_local_port_range": "1024 65000",
    "net.ipv4.ip_local_reserved_ports": "30000-32767",
    "net.core.somaxconn": 4096,
    "net.ipv4.tcp_max_syn_backlog": 4096,
    "fs.file-max": 2097152,
}


@pytest.fixture
def proc(proc_tree):
    return proc_tree


@pytest.fixture
def run(proc, tmp_path, capsys, module_args):
    conf = tmp_path / "99-k8s-network.conf"

    def _run(settings, check=False, diff=False, **args):
        args.setdefault("path", str(conf))
        args.update(settings=settings, proc_root=str(proc),
                    _ansible_check_mode=check, _ansible_diff=diff, _ansible_tmpdir=str(tmp_path))
        module_args(args)
        with pytest.raises(SystemExit) as exc:
            sysctl_profile.main()
        result = json.loads(capsys.readouterr().out)
        result["rc"] = exc.value.code
        result["by_key"] = {entry["key"]: entry for entry in result.get("keys", [])}
        return result

    _run.conf = conf
    return _run


def kernel(proc, key):
    return " ".join((proc / key.replace(".", "/")).read_text().split())


def test_converge_then_idempotent(run, proc):
    first = run(REFERENCE, keep_higher=["fs.file-max"])
    assert first["rc"] == 0 and first["changed"] and first["file_changed"]
    assert kernel(proc, "net.ipv4.ip_local_port_range") == "1024 65000"
    assert kernel(proc, "net.ipv4.ip_local_reserved_ports") == "30000-32767"
    assert kernel(proc, "net.ipv4.tcp_max_syn_backlog") == "4096"
    report = first["by_key"]
    assert report["net.ipv4.tcp_max_syn_backlog"]["runtime_before"] == "512"
    assert report["net.ipv4.tcp_max_syn_backlog"]["runtime_after"] == "4096"
    assert report["net.ipv4.tcp_max_syn_backlog"]["status"] == "changed"
    # somaxconn already 4096 at runtime: only the file changes for it
    assert report["net.core.somaxconn"]["runtime_before"] == "4096"
    lines = run.conf.read_text().splitlines()
    assert lines[0].startswith("# Managed by Ansible (edgeops.gitops.sysctl_profile)")
    assert "net.ipv4.ip_local_port_range = 1024 65000" in lines
    assert oct(run.conf.stat().st_mode & 0o777) == "0o644"

    second = run(REFERENCE, keep_higher=["fs.file-max"])
    assert not second["changed"]
    assert {entry["status"] for entry in second["keys"]} == {"in_sync"}


def test_check_mode_changes_nothing_and_reports_everything(run, proc):
    result = run(REFERENCE, check=True, diff=True)
    assert result["changed"]
    assert not run.conf.exists()
    assert kernel(proc, "net.ipv4.ip_local_port_range") == "32768 60999"
    statuses = {key: entry["status"] for key, entry in result["by_key"].items()}
    assert set(statuses.values()) == {"changed"}
    assert result["by_key"]["net.ipv4.ip_local_port_range"]["runtime_after"] == "32768 60999"
    assert result["diff"]["before"] == ""
    assert "net.core.somaxconn = 4096" in result["diff"]["after"]


def test_drift_in_file_and_runtime_is_reported_exactly(run, proc):
    run(REFERENCE, keep_higher=["fs.file-max"])
    (proc / "net/core/somaxconn").write_text("128\n")
    edited = run.conf.read_text().replace("tcp_max_syn_backlog = 4096", "tcp_max_syn_backlog = 1024")
    run.conf.write_text(edited)
    drift = run(REFERENCE, check=True, keep_higher=["fs.file-max"])
    assert drift["changed"]
    changed = {k: e for k, e in drift["by_key"].items() if e["status"] != "in_sync"}
    assert sorted(changed) == ["net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog"]
    assert changed["net.core.somaxconn"]["runtime_before"] == "128"
    assert changed["net.core.somaxconn"]["file_before"] == "4096"
    assert changed["net.ipv4.tcp_max_syn_backlog"]["file_before"] == "1024"
    assert kernel(proc, "net.core.somaxconn") == "128"

    heal = run(REFERENCE, keep_higher=["fs.file-max"])
    assert heal["changed"] and kernel(proc, "net.core.somaxconn") == "4096"
    assert "tcp_max_syn_backlog = 4096" in run.conf.read_text()


def test_tabs_in_kernel_output_are_not_drift(run, proc):
    run({"net.ipv4.ip_local_port_range": "1024 65000"})
    (proc / "net/ipv4/ip_local_port_range").write_text("1024\t65000\n")
    assert not run({"net.ipv4.ip_local_port_range": [1024, 65000]})["changed"]


def test_owns_the_file_whole(run):
    run({"net.core.somaxconn": 4096, "net.ipv4.tcp_max_syn_backlog": 4096})
    result = run({"net.core.somaxconn": 4096}, diff=True)
    assert result["changed"]
    assert result["by_key"]["net.ipv4.tcp_max_syn_backlog"]["status"] == "removed"
    assert "tcp_max_syn_backlog" not in run.conf.read_text()
    assert "tcp_max_syn_backlog" in result["diff"]["before"]


def test_keep_higher_keeps_and_reports(run):
    result = run(REFERENCE, keep_higher=["fs.file-max"])
    entry = result["by_key"]["fs.file-max"]
    assert entry["kept_higher"] and entry["requested"] == "2097152"
    assert entry["value"] == "9223372036854775807"
    assert "fs.file-max = 9223372036854775807" in run.conf.read_text()


def test_without_keep_higher_the_limit_would_be_lowered(run, proc):
    run({"fs.file-max": 2097152})
    assert kernel(proc, "fs.file-max") == "2097152"


@pytest.mark.parametrize("check", [True, False])
def test_read_only_key_is_a_warning_not_a_failure(run, check):
    result = run({"kernel.ngroups_max": 5, "net.core.somaxconn": 1024}, check=check)
    assert result["rc"] == 0 and not result.get("failed")
    entry = result["by_key"]["kernel.ngroups_max"]
    assert entry["status"] == "not_applied_read_only"
    assert entry["runtime_after"] == entry["runtime_before"] != "5"
    assert any("kernel.ngroups_max: not applied at runtime" in str(w) for w in result["warnings"])
    assert result["by_key"]["net.core.somaxconn"]["status"] == "changed"
    assert run.conf.exists() is (not check)
    if not check:
        assert "kernel.ngroups_max = 5" in run.conf.read_text()


def test_apply_false_writes_only_the_file(run, proc):
    result = run({"net.core.somaxconn": 1024}, apply=False)
    assert result["changed"]
    assert kernel(proc, "net.core.somaxconn") == "4096"
    assert "net.core.somaxconn = 1024" in run.conf.read_text()


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"net.core.somaxconnn": 4096}, ["net.core.somaxconnn", "unknown key"]),
        ({"net.core.somaxconn": "many"}, ["net.core.somaxconn", "'many'", "not numeric"]),
        ({"net.ipv4.ip_local_port_range": "65000 1024"}, ["net.ipv4.ip_local_port_range", "inverted"]),
        ({"net.ipv4.ip_local_port_range": "1000 65000"},
         ["net.ipv4.ip_local_port_range", "below net.ipv4.ip_unprivileged_port_start"]),
        ({"net.ipv4.ip_local_reserved_ports": "30000:32767"},
         ["net.ipv4.ip_local_reserved_ports", "not a port"]),
    ],
)
def test_bad_input_is_refused_before_any_change(run, proc, settings, words):
    before = {key: kernel(proc, key) for key in ("net.core.somaxconn", "net.ipv4.tcp_max_syn_backlog")}
    result = run(dict(settings, **{"net.ipv4.tcp_max_syn_backlog": 8192}))
    assert result["rc"] == 1 and result["failed"]
    for word in words:
        assert word in result["msg"]
    assert "nothing changed" in result["msg"]
    assert not run.conf.exists()
    assert {key: kernel(proc, key) for key in before} == before


def test_wrong_role_settings_are_refused_before_anything_is_read_or_written(run, proc):
    before = kernel(proc, "net.core.somaxconn")
    problems = ["sysctl_tuning_nodeport_range must read LOW-HIGH (got 'abc'); e.g. 30000-32767"]
    result = run({"net.core.somaxconn": 8191}, settings_check={"role": "sysctl_tuning", "problems": problems})
    assert result["rc"] == 1 and result["failed"]
    assert result["msg"] == f"sysctl_tuning settings are not usable: {problems[0]}. Nothing was changed."
    assert "keys" not in result
    assert not run.conf.exists()
    assert kernel(proc, "net.core.somaxconn") == before


def test_an_empty_settings_check_lets_the_module_run(run, proc):
    result = run({"net.core.somaxconn": 8191}, settings_check={"role": "sysctl_tuning", "problems": []})
    assert result["rc"] == 0 and result["changed"]
    assert kernel(proc, "net.core.somaxconn") == "8191"


@pytest.mark.parametrize(("path", "words"), [
    ("99-k8s-network.conf", ["'99-k8s-network.conf'", "must be an absolute file path"]),
    ("/nonexistent-edgeops/99.conf",
     ["'/nonexistent-edgeops/99.conf'", "directory /nonexistent-edgeops does not exist"]),
])
def test_unwritable_path_is_refused_before_the_runtime_changes(run, proc, tmp_path, monkeypatch, path, words):
    """Before the fix the runtime values were applied first, then writing the file failed."""
    monkeypatch.chdir(tmp_path)
    before = kernel(proc, "net.core.somaxconn")
    result = run({"net.core.somaxconn": 8192}, path=path)
    assert result["rc"] == 1 and result["failed"]
    for word in [*words, "nothing changed"]:
        assert word in result["msg"]
    assert kernel(proc, "net.core.somaxconn") == before
    assert not (tmp_path / "99-k8s-network.conf").exists()


def test_verify_failure_rolls_back_and_leaves_the_file(run, proc):
    (proc / "zz").mkdir()
    (proc / "zz" / "sink").symlink_to("/dev/null")
    result = run({"net.ipv4.tcp_max_syn_backlog": 8192, "zz.sink": 5})
    assert result["failed"] and "verify failed for zz.sink" in result["msg"]
    assert kernel(proc, "net.ipv4.tcp_max_syn_backlog") == "512"
    assert not run.conf.exists()
