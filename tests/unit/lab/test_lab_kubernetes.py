"""``edgeops lab up --kubernetes``: the lab-only node preparation and the inventory it writes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from edgeops.errors import UsageError
from edgeops.lab import kubernetes as k8s
from edgeops.lab.manager import Lab, LabConfig


def test_only_the_built_release():
    assert k8s.release("1.20.2").deb_revision == "00edgeops1"
    with pytest.raises(UsageError, match=r"only 1\.20\.2"):
        k8s.release("1.34.1")


def test_unknown_release_is_refused_before_podman(edgeops_cmd, tmp_path):
    proc = edgeops_cmd("lab", "up", "--kubernetes", "1.19.0", "--state-dir", str(tmp_path / "s"),
                       "--inventory-dir", str(tmp_path / "inv"))
    assert proc.returncode != 0 and "only 1.20.2" in proc.stderr
    assert not (tmp_path / "inv").exists()


@pytest.mark.parametrize("control_plane", [True, False])
def test_prepare_script_is_valid_shell_with_what_the_spike_measured(control_plane):
    script = k8s.prepare_script(k8s.release("1.20.2"), control_plane, k8s.node_subnet(1))
    assert subprocess.run(["bash", "-n"], input=script, text=True, check=False).returncode == 0
    for key, value in k8s.KUBELET_TUNABLES:
        assert f"bind_tunable {key} {value}\n" in script
    assert "exec /usr/sbin/runc" in script and "/usr/local/sbin/runc" in script
    assert '"subnet": "10.244.1.0/24"' in script
    assert "systemctl disable --now etcd.service mariadb.service" in script
    assert ("edgeops.local/kube-apiserver:v1.20.2" in script) is control_plane
    assert ("edgeops.local/etcd:3.4.13-0 /usr/bin/etcd" in script) is control_plane
    assert "edgeops.local/pause:3.2" in script


def test_runc_wrapper_clamps_only_negative_oom_score_adj(tmp_path: Path):
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    fake = tmp_path / "runc"
    fake.write_text("#!/bin/sh\necho real \"$@\"\n")
    fake.chmod(0o755)
    wrapper = tmp_path / "wrapper"
    wrapper.write_text(k8s.RUNC_WRAPPER.replace("/usr/sbin/runc", str(fake)))
    wrapper.chmod(0o755)
    for before, after in ((-998, 0), (-1, 0), (0, 0), (500, 500)):
        (bundle / "config.json").write_text(f'{{"process": {{"oomScoreAdj": {before}}}}}')
        out = subprocess.run([str(wrapper), "create", "--bundle", str(bundle), "c1"], capture_output=True,
                             text=True, check=True).stdout
        assert out.strip() == f"real create --bundle {bundle} c1"
        assert yaml.safe_load((bundle / "config.json").read_text())["process"]["oomScoreAdj"] == after


def test_inventory_gets_the_real_cluster_variables_on_kubernetes_hosts_only(tmp_path: Path):
    lab = Lab(LabConfig(state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv", kubernetes="1.20.2"))
    lab._write_inventory({"k8s-master-01": "/dev/loop7"})
    data = yaml.safe_load((tmp_path / "inv" / "hosts.yml").read_text())["all"]["children"]
    master = data["k8s_cluster"]["children"]["k8s_master"]["hosts"]["k8s-master-01"]
    assert master["kubeadm_kubernetes_version"] == "1.20.2"
    assert master["kubeadm_package_repository"] == "deb [trusted=yes] file:/srv/kubernetes ./"
    assert master["kubeadm_image_repository"] == "edgeops.local"
    assert master["kubeadm_ignore_preflight_errors"] == ["ImagePull"]
    assert master["kubeadm_skip_phases"] == ["addon/coredns", "addon/kube-proxy"]
    assert master["kubeadm_kubelet_configuration"]["protectKernelDefaults"] is True
    assert master["etcd_storage_device"] == "/dev/loop7"
    for worker in data["k8s_cluster"]["children"]["k8s_worker"]["hosts"].values():
        assert worker["kubeadm_kubernetes_version"] == "1.20.2"
    assert "kubeadm_kubernetes_version" not in data["mysql"]["hosts"]["mysql-01"]


def test_without_kubernetes_the_inventory_is_as_before(tmp_path: Path):
    lab = Lab(LabConfig(state_dir=tmp_path / "s", inventory_dir=tmp_path / "inv"))
    lab._write_inventory({})
    assert "kubeadm_" not in (tmp_path / "inv" / "hosts.yml").read_text()
