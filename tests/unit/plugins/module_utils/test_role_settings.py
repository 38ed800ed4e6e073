"""Tests for module_utils._role_settings: only the wrong settings are reported, all of them at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import CHECKS, problems

ROOT = Path(__file__).resolve().parents[4]
#: What the play supplies beside the defaults (facts and inventory).
CONTEXT = {
    "mysql_host": {"mysql_host_memory_mb": 15990, "mysql_host_vcpus": 4},
    "kubeadm": {"control_planes": ["cp-1"], "workers": ["w-1"], "play_hosts": ["cp-1", "w-1"],
                "inventory_hostname": "w-1"},
}


def settings(role: str, **changes) -> dict:
    values = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return {**values, **CONTEXT.get(role, {}), **changes}


@pytest.mark.parametrize("role", sorted(CHECKS))
def test_the_defaults_are_usable(role):
    assert problems(role, settings(role)) == []


def test_one_wrong_setting_is_the_only_one_named():
    """The issue's drill: only etcd_storage_max_fsync_p99_ms: 0 is wrong."""
    found = problems("etcd_storage", settings("etcd_storage", etcd_storage_max_fsync_p99_ms=0))
    assert found == ["etcd_storage_max_fsync_p99_ms must be greater than 0 (got 0); "
                     "set the p99 limit in milliseconds, e.g. 10"]


def test_every_wrong_setting_is_reported_at_once():
    found = problems("etcd_storage", settings(
        "etcd_storage", etcd_storage_max_fsync_p99_ms=-1, etcd_storage_min_size="big",
        etcd_storage_fstype="xfs", etcd_storage_label="thirteen-char", etcd_storage_mount_options=[]))
    assert [line.split()[0] for line in found] == [
        "etcd_storage_max_fsync_p99_ms", "etcd_storage_min_size", "etcd_storage_label",
        "etcd_storage_mount_options"]
    assert "1 to 12 characters for xfs" in found[2]


@pytest.mark.parametrize(("role", "changes", "starts"), [
    ("etcd_storage", {"etcd_storage_fsync_block_size": "1m", "etcd_storage_fsync_size": "512k"},
     "etcd_storage_fsync_block_size must not be larger than etcd_storage_fsync_size (524288 bytes)"),
    ("etcd_storage", {"etcd_storage_format_destroying_existing_data_on": "yes"},
     "etcd_storage_format_destroying_existing_data_on must be a /dev path or empty"),
    ("sysctl_tuning", {"sysctl_tuning_settings": {}},
     "sysctl_tuning_settings (with sysctl_tuning_extra_settings)"),
    ("sysctl_tuning", {"sysctl_tuning_nodeport_range": "32767-30000"},
     "sysctl_tuning_nodeport_range must read"),
    ("sysctl_tuning", {"sysctl_tuning_settings": {"net.ipv4.ip_local_port_range": "65000 1024"}},
     "sysctl_tuning_settings['net.ipv4.ip_local_port_range'] must be two ports LOW HIGH"),
    ("mysql_host", {"mysql_host_vcpus": 0}, "mysql_host_vcpus 0 (int) must be a positive integer"),
    ("kubeadm", {"control_planes": []}, "kubeadm_control_plane_group names an empty or missing"),
    ("kubeadm", {"play_hosts": ["w-1"]}, "the first control plane cp-1"),
    ("kubeadm", {"inventory_hostname": "db-1"}, "db-1 is in neither k8s_master nor k8s_worker"),
    ("kubeadm", {"control_planes": ["cp-1", "cp-2"], "kubeadm_kubernetes_version": "1.14.3",
                 "kubeadm_control_plane_endpoint": "lb:6443"}, "kubeadm_kubernetes_version cannot join 2"),
    ("kubeadm", {"control_planes": ["cp-1", "cp-2"]}, "kubeadm_control_plane_endpoint is required for 2"),
])
def test_each_rule(role, changes, starts):
    found = problems(role, settings(role, **changes))
    assert len(found) == 1 and found[0].startswith(starts), found


def test_unknown_role_and_bad_values():
    with pytest.raises(ValueError, match="known roles: etcd_storage, kubeadm, mysql_host, sysctl_tuning"):
        problems("nginx", {})
    with pytest.raises(ValueError, match="must be a dict"):
        problems("kubeadm", [])
