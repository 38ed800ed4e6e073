"""Verify the kubeadm flow against the stand-ins' records and the real files.

Reads what the stand-ins recorded (/var/log/kubeadm-standin.jsonl: arguments,
with bootstrap tokens only as SHA-256) and the cluster store on the master
(the one place the stand-in, like kubeadm's etcd, keeps the tokens), then:
init ran once on the master, each worker joined once with a minted token,
check mode after converge reports nothing on nodes in sync and reports a
removed kubelet.conf, a converge run through ansible-runner heals it (a new
token is minted, only that node joins), bad input is refused, and no
token appears in any output, runner artifact or file other than the store.

Each test stands alone: it reads what it needs from the records, judges the
healing run by what changed during it, and passes in any order.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

DISTRO = os.environ.get("EDGEOPS_DISTRO", "bookworm")
VERSION = os.environ.get("KUBEADM_VERSION", "1.34.1")
MINOR = int(VERSION.split(".")[1])
MASTER = f"kubeadm-{DISTRO}-master"
WORKERS = [f"kubeadm-{DISTRO}-worker-0", f"kubeadm-{DISTRO}-worker-1"]
EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
SCENARIO = Path(os.environ["MOLECULE_SCENARIO_DIRECTORY"])
INVENTORY = os.environ.get("MOLECULE_INVENTORY_FILE", str(EPHEMERAL / "inventory"))
# The one minor -> apiVersion table, imported from the checkout under the collection's own name
# (.cache/collections/ansible_collections/edgeops/gitops is scripts/setup.sh's link to it): it
# imports its sibling module_utils that way.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / ".cache" / "collections"))
_kubeadm = importlib.import_module("ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm")
EXPECTED_API = _kubeadm.api_for(MINOR).version


def sh(host: str, cmd: str, check: bool = True) -> str:
    proc = subprocess.run(["podman", "exec", host, "sh", "-c", cmd], capture_output=True, text=True,
                          check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} on {host}: rc={proc.returncode} {proc.stderr}")
    return proc.stdout


def records(host: str) -> list:
    text = sh(host, "cat /var/log/kubeadm-standin.jsonl 2>/dev/null || true")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def ok(host: str, command: str) -> list:
    return [r for r in records(host) if r["command"] == command and r["rc"] == 0]


def digest(token: str) -> str:
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def store() -> tuple:
    path = sh(MASTER, "cat /var/lib/kubeadm-standin/store-path").strip()
    return path, json.loads(sh(MASTER, f"cat {path}"))


def address(host: str) -> str:
    return sh(host, "hostname -I").split()[0]


ENV = {**os.environ, "ANSIBLE_LOG_PATH": str(EPHEMERAL / "ansible.log"), "ANSIBLE_NOCOLOR": "1",
       "ANSIBLE_FORCE_COLOR": "0"}


def playbook(*extra: str) -> str:
    env = ENV
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "converge.yml"), *extra],
                          capture_output=True, text=True, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    return proc.stdout


def recap(output: str) -> dict:
    plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
    found = re.finditer(r"^(\S+)\s+: ok=\d+\s+changed=(\d+)", plain, re.M)
    return {m.group(1): int(m.group(2)) for m in found}


def test_init_ran_once_on_the_master_only():
    inits = ok(MASTER, "init")
    assert len(inits) == 1, inits
    assert inits[0]["config_api_versions"] == [f"kubeadm.k8s.io/{EXPECTED_API}"]
    assert inits[0]["version"] == f"v{VERSION}"
    assert inits[0]["endpoint"].startswith(address(MASTER) + ":")
    for worker in WORKERS:
        assert ok(worker, "init") == []
    for name in ("admin.conf", "kubelet.conf", "manifests/kube-apiserver.yaml", "manifests/etcd.yaml"):
        sh(MASTER, f"test -s /etc/kubernetes/{name}")
    assert "--data-dir=/var/lib/etcd" in sh(MASTER, "cat /etc/kubernetes/manifests/etcd.yaml")


def test_each_worker_joined_once_with_the_minted_token():
    minted = [r["token_sha256"] for r in ok(MASTER, "token create")]
    assert minted, "no join command was minted"
    for worker in WORKERS:
        every = ok(worker, "join")
        assert all(j["token_sha256"] in minted for j in every), (worker, every)
        # The converge that built the cluster minted the first token (one per run) and joined each
        # worker once with it; a later healing run mints its own token.
        joins = [j for j in every if j["token_sha256"] == minted[0]]
        assert len(joins) == 1, (worker, joins)
        assert joins[0]["config_api_version"] == f"kubeadm.k8s.io/{EXPECTED_API}"
        assert joins[0]["argv"] == ["join", "--config", "/dev/stdin"]  # config on stdin, not on disk
        sh(worker, "test -s /etc/kubernetes/kubelet.conf")
        if MINOR >= 11:
            assert joins[0]["kubelet_node_ip"] == address(worker)
        else:
            dropin = sh(worker, "cat /etc/systemd/system/kubelet.service.d/20-edgeops-node-ip.conf")
            assert f"--node-ip={address(worker)}" in dropin


def test_prerequisites_are_in_place():
    for host in [MASTER, *WORKERS]:
        assert sh(host, "cat /etc/modules-load.d/kubeadm.conf").split()[-2:] == ["overlay", "br_netfilter"]
        conf = sh(host, "cat /etc/sysctl.d/90-kubeadm.conf")
        assert "net.ipv4.ip_forward = 1" in conf and "net.bridge.bridge-nf-call-iptables = 1" in conf
        assert sh(host, "cat /proc/sys/net/ipv4/ip_forward").strip() == "1"
        cgroup = "true" if MINOR >= 22 else "false"
        assert f"SystemdCgroup = {cgroup}" in sh(host, "cat /etc/containerd/config.toml")
        assert sh(host, "systemctl is-active containerd").strip() == "active"


def test_drift_is_reported_and_healed_through_runner():
    import ansible_runner

    lost = WORKERS[1]
    joins_before = {host: len(ok(host, "join")) for host in WORKERS}
    minted_before = len(ok(MASTER, "token create"))
    inits_before = len(ok(MASTER, "init"))
    sh(lost, "rm /etc/kubernetes/kubelet.conf")
    # check mode reports the lost node and nothing on the nodes that are in sync
    changed = recap(playbook("--check", "--diff"))
    assert changed[lost] > 0 and changed[WORKERS[0]] == 0 and changed[MASTER] == 0, changed
    artifacts = Path(tempfile.mkdtemp(prefix="kubeadm-runner-", dir=str(EPHEMERAL)))
    result = ansible_runner.run(
        private_data_dir=str(artifacts), playbook=str(SCENARIO / "converge.yml"), inventory=INVENTORY,
        envvars={k: v for k, v in ENV.items() if k.startswith(("ANSIBLE_", "MOLECULE_"))},
        quiet=True)
    assert result.rc == 0, result.stdout.read()[-3000:]
    joins = ok(lost, "join")
    assert len(joins) == joins_before[lost] + 1
    minted = [r["token_sha256"] for r in ok(MASTER, "token create")]
    assert len(minted) == minted_before + 1
    assert joins[-1]["token_sha256"] == minted[-1]
    assert len(ok(WORKERS[0], "join")) == joins_before[WORKERS[0]]
    assert len(ok(MASTER, "init")) == inits_before


def test_token_is_nowhere_but_the_cluster_store():
    path, data = store()
    tokens = data["bootstrap_tokens"] + data["certificate_keys"]
    assert data["bootstrap_tokens"], "converge minted no join token"
    pattern = "|".join(tokens)
    # every output and runner artifact of this scenario
    hits = subprocess.run(["grep", "-rlE", pattern, str(EPHEMERAL)], capture_output=True, text=True,
                          check=False).stdout.split()
    assert hits == [], hits
    assert (EPHEMERAL / "ansible.log").stat().st_size > 0
    # every file on every node, except the store (where kubeadm's etcd keeps them)
    for host in [MASTER, *WORKERS]:
        found = sh(host, f"grep -rlE '{pattern}' /etc /var /root /tmp /run /home /opt /usr/local "
                         "2>/dev/null || true").split()
        expected = [path] if host == MASTER else []
        assert found == expected, (host, found)
    for host in [MASTER, *WORKERS]:
        for rec in records(host):
            assert not any(t in json.dumps(rec) for t in tokens)
            if rec.get("token_sha256"):
                assert rec["token_sha256"] in {digest(t) for t in tokens}


def test_bad_input_is_refused_before_any_change():
    """bad_input.yml runs the role with each bad input of the issue; each fails in preflight."""
    listing = "ls -l --time-style=+%s /etc/modules-load.d /etc/sysctl.d /etc/kubernetes /etc/containerd"
    before = sh(MASTER, listing)
    proc = subprocess.run(["ansible-playbook", "-i", INVENTORY, str(SCENARIO / "bad_input.yml")],
                          capture_output=True, text=True, env=ENV, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert recap(proc.stdout)[MASTER] == 0
    assert sh(MASTER, listing) == before
