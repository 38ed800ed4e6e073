"""The container runtime rule (one place: _kubeadm.container_runtime) and the kubelet configuration."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_config import kubeadm_config
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_runtime import kubeadm_runtime
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import problems


@pytest.mark.parametrize(("version", "runtime"), [
    ("1.10.13", "docker"), ("1.20.2", "docker"), ("v1.23.17", "docker"),
    ("1.24.0", "containerd"), ("1.34.1", "containerd"), ("1.40.0", "containerd"),
])
def test_auto_is_docker_up_to_1_23_and_containerd_after(version, runtime):
    assert kubeadm_runtime(version) == runtime
    assert kubeadm_runtime(version, "auto") == runtime


@pytest.mark.parametrize(("version", "choice", "socket"), [
    ("1.20.2", "auto", "/var/run/dockershim.sock"), ("1.23.0", "docker", "/var/run/dockershim.sock"),
    ("1.20.2", "containerd", ""), ("1.30.1", "auto", ""),
])
def test_socket_is_dockershims_named_and_containerds_left_to_kubeadm(version, choice, socket):
    assert kubeadm_runtime(version, choice, socket=True) == socket


def test_socket_refused_like_the_runtime():
    with pytest.raises(AnsibleFilterError, match="no dockershim"):
        kubeadm_runtime("1.24.0", "docker", socket=True)


def test_override_both_ways_and_docker_refused_without_dockershim():
    assert kubeadm_runtime("1.20.2", "containerd") == "containerd"
    assert kubeadm_runtime("1.23.0", "docker") == "docker"
    with pytest.raises(AnsibleFilterError, match="no dockershim"):
        kubeadm_runtime("1.24.0", "docker")
    with pytest.raises(AnsibleFilterError, match="not one of auto, docker, containerd"):
        kubeadm_runtime("1.20.2", "cri-o")
    with pytest.raises(AnsibleFilterError, match="not a version"):
        kubeadm_runtime("banana")


def test_setting_problems_names_the_runtime():
    base = {"kubeadm_kubernetes_version": "1.30.1", "control_planes": ["cp"], "play_hosts": ["cp"],
            "inventory_hostname": "cp"}
    assert problems("kubeadm", {**base, "kubeadm_container_runtime": "auto"}) == []
    found = problems("kubeadm", {**base, "kubeadm_container_runtime": "docker"})
    assert len(found) == 1 and found[0].startswith("kubeadm_container_runtime: ") and "dockershim" in found[0]


SPEC = {"advertise_address": "10.0.0.10", "node_name": "cp"}


def test_kubelet_configuration_is_a_third_init_document():
    docs = kubeadm_config({**SPEC, "kubelet_config": {"protectKernelDefaults": True}}, "1.20.2")
    assert [d["kind"] for d in docs] == ["InitConfiguration", "ClusterConfiguration", "KubeletConfiguration"]
    assert docs[2] == {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                       "protectKernelDefaults": True}
    # not given: the documents are as before
    assert len(kubeadm_config(SPEC, "1.20.2")) == 2


def test_kubelet_configuration_refused_where_kubeadm_cannot_read_it():
    with pytest.raises(AnsibleFilterError, match=r"1\.12 or newer"):
        kubeadm_config({**SPEC, "kubelet_config": {"protectKernelDefaults": True}}, "1.11.10")
    with pytest.raises(AnsibleFilterError, match="leave out apiVersion and kind"):
        kubeadm_config({**SPEC, "kubelet_config": {"kind": "KubeletConfiguration"}}, "1.20.2")
    with pytest.raises(AnsibleFilterError, match="must be a dict"):
        kubeadm_config({**SPEC, "kubelet_config": ["protectKernelDefaults"]}, "1.20.2")
