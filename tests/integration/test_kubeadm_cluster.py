"""A REAL Kubernetes 1.20.2 cluster on the lab, brought up by the collection's own site playbook.

Issue 14, items 3-5.  In order, one lab session:

1. ``edgeops lab up --kubernetes 1.20.2`` (edgeops/lab/kubernetes.py: the Kubernetes hosts as real nodes);
2. ``edgeops apply -i inventory/lab`` - the site playbook: sysctl_tuning, etcd_storage (the loop-device
   filesystem at /var/lib/etcd), then the kubeadm role: Docker (auto for 1.20), the .debs from the
   flat repository scripts/build_kubernetes.sh built, real ``kubeadm init`` on k8s-master-01 and real
   ``kubeadm join`` of the three workers (discovery by CA hash);
3. ``kubectl get nodes``: four nodes Ready, v1.20.2, docker://;
4. etcd's data dir /var/lib/etcd/data is on the loop device (findmnt), etcd runs with it and answers
   ``etcdctl endpoint status``;
5. a second ``edgeops apply`` changes nothing; ``edgeops drift`` exits 0;
6. no bootstrap token in any output, runner artifact, report, Ansible log or audit record;
7. ``edgeops lab down`` leaves no container, network, loop device or mount; the host's global sysctls
   (the kubelet's six included), its swap and its iptables rules are as before.

Needs root, podman, the lab image, the Kubernetes build (``bash scripts/build_kubernetes.sh``; a missing
build fails the test) and the Debian archive.  Run it under the lab lock, alone:
``flock /var/tmp/edgeops-podman.lock pytest -s tests/integration/test_kubeadm_cluster.py`` - the
``--kubernetes`` stage of scripts/test.sh does.  Takes about 10 minutes.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from edgeops.lab.topology import NETWORK, REFERENCE

ROOT = Path(__file__).resolve().parents[2]
RELEASE = "1.20.2"
MASTER = "k8s-master-01"
K8S_HOSTS = [h.name for h in REFERENCE if any(g.startswith("k8s_") for g in h.groups)]
ALL_HOSTS = [h.name for h in REFERENCE]
KUBECTL = ["kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"]
#: Global sysctls a kubelet would set (pkg/kubelet/cm setupKernelTunables) and others the lab must not move.
HOST_SYSCTLS = (
    "vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
    "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "fs/file-max", "fs/nr_open",
    "fs/inotify/max_user_watches", "fs/inotify/max_user_instances", "kernel/pid_max", "vm/max_map_count",
    "kernel/threads-max", "net/core/somaxconn", "net/ipv4/ip_local_port_range",
)
LAB_RULE = re.compile(r"KUBE|DOCKER|CNI|cni0|10\.244\.|10\.96\.|10\.213\.7\.")
TOKEN = re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b")


def _run(argv: list[str], *, check: bool = True, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed (rc={proc.returncode}):\n{proc.stdout[-4000:]}\n"
                    f"{proc.stderr[-4000:]}")
    return proc


def _exec(host: str, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return _run(["podman", "exec", host, *argv], check=check, timeout=120)


def host_state() -> dict[str, Any]:
    """What the lab must leave as it found it on the machine running it."""
    sysctls = {k: Path("/proc/sys", k).read_text().strip().replace("\t", " ") for k in HOST_SYSCTLS}
    rules = _run(["iptables-save"], check=False).stdout
    # Only rules the cluster or the lab could leave (other sessions' podman networks come and go).
    rules = "\n".join(line for line in rules.splitlines() if LAB_RULE.search(line))
    return {"sysctls": sysctls, "swaps": Path("/proc/swaps").read_text(), "iptables": rules}


@dataclass
class Session:
    state_dir: Path
    out: Path
    times: dict[str, float] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)  # every stdout/stderr the commands printed

    def edgeops(self, name: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        t0 = time.monotonic()
        proc = _run(["edgeops", *args], check=False)
        self.times[name] = time.monotonic() - t0
        self.outputs += [proc.stdout, proc.stderr]
        (self.out / f"{name}.out").write_text(proc.stdout + "\n--- stderr\n" + proc.stderr)
        print(f"\n[{name}] edgeops {' '.join(args)}: rc={proc.returncode} in {self.times[name]:.0f}s")
        if check and proc.returncode != 0:
            pytest.fail(f"edgeops {' '.join(args)} failed (rc={proc.returncode}):\n{proc.stdout[-4000:]}\n"
                        f"{proc.stderr[-6000:]}")
        return proc

    def run_args(self, name: str) -> list[str]:
        """Options of an apply/drift run: its report, artifacts and audit store in the session's dir."""
        return ["-i", "inventory/lab", "--format", "json", "-o", str(self.out / f"{name}.json"),
                "--audit-log", str(self.out / "audit.jsonl"), "--artifacts-dir", str(self.out / "artifacts"),
                "--keep-artifacts"]

    def report(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / f"{name}.json").read_text())
        return data


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """lab up --kubernetes, apply; always lab down and the host checks."""
    taken = [n for n in ALL_HOSTS if _run(["podman", "container", "exists", n], check=False).returncode == 0]
    if taken:
        pytest.fail(f"lab containers exist already ({', '.join(taken)}): another lab session is up; "
                    "run this test under flock /var/tmp/edgeops-podman.lock with the lab down")
    out = tmp_path_factory.mktemp("kubeadm-cluster")
    os.environ["ANSIBLE_LOG_PATH"] = str(out / "ansible.log")  # all Ansible prints, for the token check
    s = Session(state_dir=out / "state", out=out)
    before = host_state()
    lab = ["--state-dir", str(s.state_dir)]
    try:
        s.edgeops("lab-up", "lab", "up", "--kubernetes", RELEASE, *lab)
        s.edgeops("apply-1", "apply", *s.run_args("apply-1"))
        yield s
    finally:
        # For a failure's diagnosis (written after the token check has read the directory).
        for host in (MASTER, K8S_HOSTS[1]):
            diag = _run(["podman", "exec", host, "sh", "-c",
                         "journalctl -u kubelet -u docker -u edgeops-lab-images --no-pager | tail -150; "
                         "docker ps -a; docker images"], check=False)
            (s.out / f"diag-{host}.txt").write_text(diag.stdout + diag.stderr)
        down = s.edgeops("lab-down", "lab", "down", *lab, check=False)
        left = [n for n in ALL_HOSTS
                if _run(["podman", "container", "exists", n], check=False).returncode == 0]
        network = _run(["podman", "network", "exists", NETWORK], check=False).returncode == 0
        loops = _run(["losetup", "--list", "--noheadings", "--output", "NAME,BACK-FILE"]).stdout
        mounts = _run(["findmnt", "--list", "--noheadings", "--output", "TARGET,SOURCE"]).stdout
        after = host_state()
        print("\n[times] " + ", ".join(f"{k} {v:.0f}s" for k, v in s.times.items()))
        problems = []
        if down.returncode != 0:
            problems.append(f"edgeops lab down failed: {down.stderr[-2000:]}")
        if left:
            problems.append(f"containers left: {left}")
        if network:
            problems.append(f"network {NETWORK} left")
        if str(s.state_dir) in loops:
            problems.append(f"loop devices left: {loops}")
        if str(s.state_dir) in mounts or "/var/lib/etcd" in mounts:
            problems.append(f"mounts left: {mounts}")
        for key in before:
            if before[key] != after[key]:
                problems.append(f"host {key} changed:\nbefore {before[key]}\nafter {after[key]}")
        os.environ.pop("ANSIBLE_LOG_PATH", None)
        assert not problems, "\n".join(problems)


def test_first_apply_brings_up_four_ready_nodes(session: Session) -> None:
    report = session.report("apply-1")
    assert report["exit_code"] == 0, report["summary"]
    kubeadm = {h["name"]: c["status"] for h in report["hosts"] for c in h["concerns"]
               if c["name"] == "kubeadm"}
    assert kubeadm == dict.fromkeys(K8S_HOSTS, "changed"), kubeadm
    t0 = time.monotonic()
    deadline = t0 + 240
    while True:
        nodes = _exec(MASTER, *KUBECTL, "get", "nodes", "--no-headers", check=False).stdout
        ready = {line.split()[0] for line in nodes.splitlines() if line.split()[1:2] == ["Ready"]}
        if ready == set(K8S_HOSTS) or time.monotonic() > deadline:
            break
        time.sleep(5)
    session.times["nodes Ready after apply"] = time.monotonic() - t0
    wide = _exec(MASTER, *KUBECTL, "get", "nodes", "-o", "wide").stdout
    print("\n" + wide)
    (session.out / "nodes.txt").write_text(wide)
    assert ready == set(K8S_HOSTS), wide
    for line in wide.splitlines()[1:]:
        assert f" v{RELEASE} " in line and "docker://" in line, line
    pods = _exec(MASTER, *KUBECTL, "get", "pods", "-n", "kube-system", "-o", "wide").stdout
    print(pods)
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert f"{component}-{MASTER} " in pods, pods
    # Real binaries from the local repository, not the stand-ins.
    for host in K8S_HOSTS:
        assert _exec(host, "kubeadm", "version", "-o", "short").stdout.strip() == f"v{RELEASE}"
        deb = _exec(host, "dpkg-query", "-W", "-f", "${Version}", "kubelet").stdout
        assert deb == f"{RELEASE}-00edgeops1", deb
        assert _exec(host, "test", "-e", "/usr/local/lib/edgeops-standin", check=False).returncode != 0


def test_etcd_data_dir_is_the_loop_device_filesystem(session: Session) -> None:
    inventory = yaml.safe_load((ROOT / "inventory/lab/hosts.yml").read_text())
    device = inventory["all"]["children"]["k8s_cluster"]["children"]["k8s_master"]["hosts"][MASTER][
        "etcd_storage_device"]
    source = _exec(MASTER, "findmnt", "-n", "-o", "SOURCE", "--target", "/var/lib/etcd/data").stdout.strip()
    print(f"\nfindmnt /var/lib/etcd/data: {source} (etcd_storage_device {device})")
    assert source == device and source.startswith("/dev/loop"), (source, device)
    manifest = _exec(MASTER, "cat", "/etc/kubernetes/manifests/etcd.yaml").stdout
    assert "--data-dir=/var/lib/etcd/data" in manifest
    assert _exec(MASTER, "test", "-d", "/var/lib/etcd/data/member/wal", check=False).returncode == 0
    status = _exec(MASTER, "env", "ETCDCTL_API=3", "etcdctl", "--endpoints=https://127.0.0.1:2379",
                   "--cacert=/etc/kubernetes/pki/etcd/ca.crt",
                   "--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt",
                   "--key=/etc/kubernetes/pki/apiserver-etcd-client.key",
                   "endpoint", "status", "-w", "table").stdout
    print(status)
    assert "127.0.0.1:2379" in status and "true" in status, status  # it is the leader


def test_second_apply_changes_nothing_and_drift_is_clean(session: Session) -> None:
    session.edgeops("apply-2", "apply", *session.run_args("apply-2"))
    report = session.report("apply-2")
    changed = {h["name"]: h["stats"]["changed"] for h in report["hosts"]}
    print(f"\nsecond apply: changed per host {changed}")
    assert sum(changed.values()) == 0, json.dumps(
        [(h["name"], c["name"], c["tasks"]) for h in report["hosts"] for c in h["concerns"]
         if c["status"] != "in_sync"], indent=1)
    drift = session.edgeops("drift", "drift", *session.run_args("drift"), check=False)
    print(f"drift exit code {drift.returncode}")
    assert drift.returncode == 0, session.report("drift")["summary"]


def test_no_bootstrap_token_anywhere(session: Session) -> None:
    table = _exec(MASTER, "kubeadm", "token", "list").stdout
    listed = [line.split()[0] for line in table.splitlines()[1:] if TOKEN.fullmatch(line.split()[0])]
    # kubeadm init's own token and the one the role minted for the workers
    assert len(listed) >= 2, listed
    secrets = set(listed) | {t.split(".", 1)[1] for t in listed}
    texts = {f"output {i}": t for i, t in enumerate(session.outputs)}
    for path in session.out.rglob("*"):
        if path.is_file() and session.state_dir not in path.parents:  # not the 8 GiB etcd disk image
            texts[str(path)] = path.read_text(errors="replace")
    assert any("audit.jsonl" in name for name in texts) and any("artifacts" in name for name in texts)
    leaks = sorted(name for name, text in texts.items() if any(s in text for s in secrets))
    assert not leaks, f"a bootstrap token is in {leaks}"
    shaped = sorted(name for name, text in texts.items() if TOKEN.search(text))
    assert not shaped, f"something shaped like a bootstrap token is in {shaped}"
