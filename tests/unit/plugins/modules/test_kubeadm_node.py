"""Tests for the edgeops.gitops.kubeadm_node module: each part of the plan read from fake files.

The real node (systemd container with the stand-in binaries) is covered by the kubeadm
molecule scenario, whose check-mode and drift steps go through this module.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from types import SimpleNamespace

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils._items import missing_packages, service_items
from ansible_collections.edgeops.gitops.plugins.modules import kubeadm_node


@pytest.fixture
def proc(proc_tree):
    return proc_tree


def test_swap_areas_and_fstab_entries():
    assert kubeadm_node.active_swaps("Filename Type Size Used Priority\n") == []
    assert kubeadm_node.active_swaps("Filename Type Size Used Priority\n/swap.img file 1 0 -2\n") == [
        "/swap.img"
    ]
    fstab = (
        "UUID=a / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n"
        "# /old none swap sw 0 0\n#/x none swap sw 0 0\nUUID=b /data xfs defaults 0 0\n"
    )
    assert kubeadm_node.fstab_swaps(fstab) == ["/swap.img none swap sw 0 0"]


def test_files_absent_different_and_wrong_mode():
    files = {"/etc/a": "one\ntwo\n", "/etc/b": "# head\nSystemdCgroup = false\n", "/etc/c": "same\n"}
    modes = {"/etc/b": 0o644, "/etc/c": 0o644}
    specs = [
        {"path": "/etc/a", "content": "x\n", "mode": "0644"},
        {"path": "/etc/b", "content": "# head\nSystemdCgroup = true\n", "mode": "0644"},
        {"path": "/etc/c", "content": "same\n", "mode": "0600"},
        {"path": "/etc/d", "content": "a\nb\n", "mode": "0600"},
    ]
    items = kubeadm_node.file_items(
        specs, read=files.get, stat=lambda p: SimpleNamespace(st_mode=stat.S_IFREG | modes.get(p, 0o644))
    )
    assert items == [
        {
            "key": "content",
            "before": "2 line(s) not in Git",
            "after": "1 line(s) from Git",
            "where": ["file"],
            "path": "/etc/a",
        },
        {"key": "SystemdCgroup", "before": "false", "after": "true", "where": ["file"], "path": "/etc/b"},
        {"key": "mode", "before": "0644", "after": "0600", "where": ["file"], "path": "/etc/c"},
        {
            "key": "content",
            "before": "absent",
            "after": "2 line(s) from Git",
            "where": ["file"],
            "path": "/etc/d",
        },
    ]


def test_sysctls_follow_the_profile_rules_and_name_unloaded_keys(proc, tmp_path):
    path = str(tmp_path / "90-kubeadm.conf")
    (proc / "net/ipv4/ip_forward").parent.mkdir(parents=True, exist_ok=True)
    (proc / "net/ipv4/ip_forward").write_text("0\n")
    wanted = {"net.ipv4.ip_forward": 1, "net.bridge.bridge-nf-call-iptables": 1}
    items = kubeadm_node.sysctl_items(wanted, path, proc_root=str(proc))
    keys = {i["key"]: i for i in items}
    assert keys["net.bridge.bridge-nf-call-iptables"]["before"] == "absent (its module is not loaded)"
    assert keys["net.ipv4.ip_forward"]["after"] == "1"
    assert "0" in keys["net.ipv4.ip_forward"]["before"]
    # in sync: runtime and file both say 1
    (proc / "net/ipv4/ip_forward").write_text("1\n")
    Path(path).write_text("net.ipv4.ip_forward = 1\n")
    again = kubeadm_node.sysctl_items(
        {"net.ipv4.ip_forward": 1}, path, proc_root=str(proc), read=lambda p: Path(p).read_text()
    )
    assert again == []


def fake_run(outputs):
    def run(argv):
        return outputs.get(argv[0], (1, "", ""))

    return run


def test_missing_packages_read_from_dpkg_status():
    out = "conntrack ii \nsocat un \n"
    assert missing_packages(["conntrack", "socat", "ethtool"], fake_run({"dpkg-query": (1, out, "")})) == [
        "socat",
        "ethtool",
    ]


def test_services_must_be_enabled_and_active():
    def run(argv):
        return (0, "enabled\n", "") if argv[1] == "is-enabled" else (3, "inactive\n", "")

    assert service_items(["containerd"], run) == [
        {"key": "service containerd", "before": "enabled, inactive", "after": "enabled, active"}
    ]


@pytest.mark.parametrize("check_mode", [True, False])
def test_module_plan_is_drift_in_check_mode_only(monkeypatch, capsys, module_args, check_mode):
    monkeypatch.setattr(
        kubeadm_node, "read_file", {"/proc/swaps": "Filename\n", "/etc/fstab": ""}.get
    )
    monkeypatch.setattr(
        kubeadm_node,
        "binary_versions",
        lambda run: {"kubeadm": "v1.34.1", "kubelet": "missing", "kubectl": "present"},
    )
    monkeypatch.setattr(kubeadm_node, "missing_packages", lambda packages, run: [])
    monkeypatch.setattr(kubeadm_node.os.path, "exists", lambda p: False)
    args = {"version": "v1.34.1", "cluster": "join", "_ansible_check_mode": check_mode, "_ansible_diff": True}
    module_args(args)
    with pytest.raises(SystemExit):
        kubeadm_node.main()
    out = json.loads(capsys.readouterr().out)
    assert out["plan"] == ["kubernetes packages", "cluster"]
    assert out["binaries_ok"] is False and out["node_done"] is False
    assert out["changed"] is check_mode
    assert "kubelet missing" in out["diff"]["before"]


def _installed(monkeypatch, versions):
    monkeypatch.setattr(kubeadm_node, "read_file", {"/proc/swaps": "Filename\n", "/etc/fstab": ""}.get)
    monkeypatch.setattr(kubeadm_node, "binary_versions", lambda run: versions)
    monkeypatch.setattr(kubeadm_node, "missing_packages", lambda packages, run: [])


@pytest.mark.parametrize(
    ("version", "installed", "repository", "message"),
    [
        # This role does not upgrade: another release installed is refused.
        ("v1.34.1", {"kubeadm": "v1.34.1", "kubelet": "v1.34.0", "kubectl": "present"}, "",
         "installed kubeadm v1.34.1 / kubelet v1.34.0 differ from kubeadm_kubernetes_version v1.34.1"),
        ("v1.20.2", {"kubeadm": "v1.19.9", "kubelet": "missing", "kubectl": "missing"}, "http://repo",
         "installed kubeadm v1.19.9 / kubelet missing differ"),
        # Missing binaries of a release pkgs.k8s.io does not serve, and no repository.
        ("v1.20.2", {"kubeadm": "missing", "kubelet": "missing", "kubectl": "missing"}, "",
         "kubeadm/kubelet/kubectl v1.20.2 are not installed on this node and pkgs.k8s.io only serves "
         "Kubernetes 1.24 and later (the old apt.kubernetes.io repositories that had 1.20 no longer exist)"),
    ],
)
def test_module_refuses_binaries_it_cannot_pin(
    monkeypatch, capsys, module_args, version, installed, repository, message
):
    _installed(monkeypatch, installed)
    module_args({"version": version, "package_repository": repository, "_ansible_check_mode": True})
    with pytest.raises(SystemExit):
        kubeadm_node.main()
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] is True
    assert message in out["msg"]
    assert "plan" not in out


@pytest.mark.parametrize(
    ("version", "installed", "repository"),
    [
        ("v1.20.2", {"kubeadm": "missing", "kubelet": "missing", "kubectl": "missing"}, "file:/srv/repo ./"),
        ("v1.24.0", {"kubeadm": "missing", "kubelet": "missing", "kubectl": "missing"}, ""),
        ("v1.20.2", {"kubeadm": "v1.20.2", "kubelet": "v1.20.2", "kubectl": "present"}, ""),
    ],
)
def test_module_plans_binaries_it_can_pin(monkeypatch, capsys, module_args, version, installed, repository):
    _installed(monkeypatch, installed)
    module_args({"version": version, "package_repository": repository, "_ansible_check_mode": True})
    with pytest.raises(SystemExit):
        kubeadm_node.main()
    out = json.loads(capsys.readouterr().out)
    assert not out.get("failed"), out.get("msg")
    assert out["binaries_ok"] is (installed["kubeadm"] == version)


def test_module_refuses_wrong_settings_before_reading_anything(monkeypatch, capsys, module_args):
    def no_read(*_args, **_kwargs):
        raise AssertionError("read the node although the settings are wrong")

    monkeypatch.setattr(kubeadm_node, "read_file", no_read)
    monkeypatch.setattr(kubeadm_node, "binary_versions", no_read)
    module_args({"version": "v1.34.1", "settings_check": {"role": "kubeadm", "problems": [
        "kubeadm_pod_subnet x (got 'y'); fix it", "kubeadm_worker_group z"]}})
    with pytest.raises(SystemExit):
        kubeadm_node.main()
    out = json.loads(capsys.readouterr().out)
    assert out["failed"] is True
    assert out["msg"] == ("kubeadm settings are not usable: kubeadm_pod_subnet x (got 'y'); fix it; "
                          "kubeadm_worker_group z. Nothing was changed.")
