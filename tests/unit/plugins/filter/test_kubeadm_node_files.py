"""The node's files in one call: which files a node gets, and what is in them, per release."""

from __future__ import annotations

import json

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_node_files import kubeadm_node_files

SPEC = {"advertise_address": "10.0.0.10", "node_name": "cp1", "host_addresses": ["10.0.0.10"]}
MODULES = ["overlay", "br_netfilter"]


def files(version, **kw):
    return kubeadm_node_files(SPEC, version, modules=MODULES, **kw)


def test_a_worker_of_a_containerd_release_gets_modules_and_containerd_only():
    got = files("1.34.1")
    assert list(got) == ["modules_load", "containerd"]
    assert got["modules_load"] == {
        "path": "/etc/modules-load.d/kubeadm.conf", "mode": "0644",
        "content": "# Managed by edgeops.gitops.kubeadm: container runtime and kube-proxy need these.\n"
                   "overlay\nbr_netfilter\n",
    }
    assert "        SystemdCgroup = true\n" in got["containerd"]["content"]
    assert "# containerd for Kubernetes v1.34.1: the kubelet's cgroup driver is\n# systemd " in (
        got["containerd"]["content"])


def test_containerd_left_alone_when_the_role_does_not_configure_it():
    assert list(files("1.34.1", configure_containerd=False)) == ["modules_load"]
    assert list(files("1.34.1", configure_containerd="false")) == ["modules_load"]


@pytest.mark.parametrize(("version", "driver"), [
    ("1.20.2", "cgroupfs"), ("1.22.0", "systemd"), ("1.23.17", "systemd"),
])
def test_docker_releases_get_daemon_json_with_kubeadms_cgroup_driver(version, driver):
    got = files(version)
    assert list(got) == ["modules_load", "docker_daemon"]
    daemon = json.loads(got["docker_daemon"]["content"])
    assert daemon["exec-opts"] == [f"native.cgroupdriver={driver}"]
    assert got["docker_daemon"]["path"] == "/etc/docker/daemon.json"


def test_containerd_before_1_22_uses_cgroupfs():
    got = files("1.21.0", runtime="containerd")
    assert "        SystemdCgroup = false\n" in got["containerd"]["content"]


def test_only_1_10_gets_the_kubelet_drop_in_with_its_flags():
    got = files("1.10.13")
    assert "kubelet_dropin" in got
    assert got["kubelet_dropin"]["content"].endswith(
        '[Service]\nEnvironment="KUBELET_EXTRA_ARGS=--node-ip=10.0.0.10"\n')
    assert "kubelet_dropin" not in files("1.11.0")


def test_the_first_control_plane_gets_the_init_documents_as_yaml():
    got = files("1.34.1", first=True)
    assert list(got)[-1] == "init_config"
    assert got["init_config"]["mode"] == "0600"
    docs = list(yaml.safe_load_all(got["init_config"]["content"]))
    assert [d["kind"] for d in docs] == ["InitConfiguration", "ClusterConfiguration"]
    assert docs[1]["kubernetesVersion"] == "v1.34.1"
    assert "init_config" not in files("1.34.1", first=False)


def test_bad_input_is_refused_naming_it():
    with pytest.raises(AnsibleFilterError, match="pod_subnet"):
        kubeadm_node_files({**SPEC, "pod_subnet": "10.244.0.0/33"}, "1.34.1", first=True)
    with pytest.raises(AnsibleFilterError, match="no dockershim"):
        files("1.30.0", runtime="docker")
