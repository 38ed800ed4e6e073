"""The kubeadm role installs the real Kubernetes 1.20.2 packages from the local flat apt repository.

``scripts/build_kubernetes.sh`` builds kubeadm, kubelet and the control plane 1.20.2 from Debian 12's
source package ``kubernetes`` and packages them, with Debian's own kubectl (``kubernetes-client``),
as .debs of version 1.20.2-00edgeops1 in a flat repository under
/var/cache/edgeops/kubernetes/<source version>/repo/.  ``scripts/test.sh`` runs that build before
this test (a second run only checks the cache); a missing repository fails the test, never skips it.

The role's entry point ``packages`` (tasks/packages.yml: the read of edgeops.gitops.kubeadm_node and
tasks/install.yml, the install step of the main entry point) runs against a private systemd
container of the lab image, with the repository bind-mounted read-only at /srv/kubernetes and named
by ``kubeadm_package_repository``; the other packages (kubernetes-client, iptables, conntrack, ...)
come from the Debian archive, as on a real node.  Nothing is installed on the machine running the
test.  In order:

1. ``--check --diff`` before converge reports the install (kubeadm_node's plan, the repository)
   and installs nothing;
2. converge installs kubeadm, kubelet and kubectl at 1.20.2-00edgeops1 from that repository, held;
   the installed /usr/bin/kubeadm and /usr/bin/kubelet are the built binaries and report v1.20.2;
   the kubelet unit (with kubeadm's drop-in) is enabled;
3. a second converge changes nothing;
4. ``--check --diff`` after converge changes nothing.

Needs root, podman, the lab image localhost/edgeops-lab:bookworm (``edgeops lab image``) and the
Debian archive.  The container has a unique name and is always removed.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build_kubernetes.sh"
PLAYBOOK = Path(__file__).with_name("kubeadm_packages.yml")
IMAGE = "localhost/edgeops-lab:bookworm"
RELEASE = "1.20.2"
DEB_VERSION = "1.20.2-00edgeops1"
REPO_MOUNT = "/srv/kubernetes"
PACKAGES = ("kubeadm", "kubelet", "kubectl")
BOOT_TIMEOUT = 180.0
ROLE_PREFIX = "edgeops.gitops.kubeadm : "
#: The task of tasks/packages.yml that reads the node (edgeops.gitops.kubeadm_node).
READ_TASK = (
    "Check the release, read the installed kubeadm, kubelet and kubectl "
    "(in check mode, their install is the change)"
)


def _run(argv: list[str], *, check: bool = True,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def cache_dir() -> Path:
    """The build's cache directory, with a complete flat repository in repo/."""
    out = Path(_run(["bash", str(BUILD), "--print-dir"]).stdout.strip())
    repo = out / "repo"
    missing = [f for f in ("Packages", "Release", ".complete") if not (repo / f).is_file()]
    if missing:
        pytest.fail(f"the flat apt repository {repo} is not built (no {', '.join(missing)}): "
                    "run 'bash scripts/build_kubernetes.sh' (scripts/test.sh runs it before this test)")
    return out


@dataclass
class Node:
    """A private systemd container of the lab image, and how to run the playbook against it."""

    name: str
    inventory: Path

    def sh(self, script: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(["podman", "exec", self.name, "sh", "-c", script], check=check)

    def play(self, *options: str) -> dict[str, Any]:
        """ansible-playbook through the JSON callback; its parsed output (stats, plays, tasks)."""
        env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json", ANSIBLE_NOCOLOR="1")
        proc = _run(["ansible-playbook", "-i", str(self.inventory), str(PLAYBOOK), *options],
                    check=False, env=env)
        try:
            result: dict[str, Any] = json.loads(proc.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"ansible-playbook {' '.join(options)} printed no JSON (rc={proc.returncode}):\n"
                        f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        stats = result["stats"][self.name]
        if proc.returncode != 0 or stats["failures"] or stats["unreachable"]:
            pytest.fail(f"ansible-playbook {' '.join(options)} failed (rc={proc.returncode}): "
                        f"{json.dumps(_failed(result, self.name), indent=1)[-4000:]}\n{proc.stderr[-2000:]}")
        return result


def _tasks(result: dict[str, Any], host: str) -> list[tuple[str, dict[str, Any]]]:
    """(task name without the role's prefix, this host's result) of every task that ran, in order."""
    return [(t["task"]["name"].removeprefix(ROLE_PREFIX), t["hosts"][host])
            for play in result["plays"] for t in play["tasks"] if host in t["hosts"]]


def _failed(result: dict[str, Any], host: str) -> list[tuple[str, Any]]:
    return [(name, r.get("msg") or r) for name, r in _tasks(result, host) if r.get("failed")]


def _changed(result: dict[str, Any], host: str) -> list[str]:
    return [name for name, r in _tasks(result, host) if r.get("changed")]


def _task(result: dict[str, Any], host: str, name: str) -> dict[str, Any]:
    found = [r for n, r in _tasks(result, host) if n == name]
    assert found, f"no task {name!r} ran; tasks: {[n for n, _r in _tasks(result, host)]}"
    return found[0]


@pytest.fixture(scope="module")
def node(cache_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    if _run(["podman", "image", "exists", IMAGE], check=False).returncode != 0:
        pytest.fail(f"the lab image {IMAGE} is missing: build it with 'edgeops lab image --distro bookworm'")
    name = f"edgeops-kubeadm-packages-{uuid.uuid4().hex[:8]}"
    tmp = tmp_path_factory.mktemp("kubeadm-packages")
    inventory = tmp / "inventory.yml"
    inventory.write_text(yaml.safe_dump({"all": {"hosts": {name: {
        "ansible_connection": "containers.podman.podman",
        "ansible_python_interpreter": "/usr/bin/python3",
        "kubeadm_kubernetes_version": RELEASE,
        "kubeadm_package_repository": f"deb [trusted=yes] file:{REPO_MOUNT} ./",
        "kubeadm_package_revision": DEB_VERSION.split("-", 1)[1],
    }}}}), encoding="utf-8")
    try:
        _run(["podman", "run", "--detach", "--name", name, "--hostname", "kubeadm-packages",
              "--privileged", "--systemd=always", "--label", "edgeops.test=kubeadm-packages",
              "--volume", f"{cache_dir / 'repo'}:{REPO_MOUNT}:ro",
              IMAGE, "/usr/local/sbin/edgeops-init"])
        deadline = time.monotonic() + BOOT_TIMEOUT
        state = ""
        while state not in ("running", "degraded"):
            if time.monotonic() > deadline:
                pytest.fail(f"systemd did not finish booting in {name} within {BOOT_TIMEOUT:.0f}s "
                            f"(state {state!r}); podman logs {name}")
            time.sleep(1)
            proc = _run(["podman", "exec", name, "systemctl", "is-system-running"], check=False)
            state = proc.stdout.strip()
        yield Node(name, inventory)
    finally:
        subprocess.run(["podman", "rm", "--force", "--time", "5", name], capture_output=True, check=False)


def test_check_mode_before_converge_reports_the_install_and_installs_nothing(node: Node) -> None:
    result = node.play("--check", "--diff")
    read = _task(result, node.name, READ_TASK)
    assert read["changed"], read
    assert read["plan"] == ["kubernetes packages"], read["plan"]
    assert read["changes"][0]["before"] == "kubeadm missing, kubelet missing, kubectl missing"
    assert read["changes"][0]["after"] == f"kubeadm, kubelet, kubectl v{RELEASE}"
    assert _task(result, node.name, "Repository")["changed"]
    # apt cannot plan with a repository that is not configured yet, nor dpkg hold unknown packages:
    # both wait for the real run, and the read's plan above is the report.
    for task in ("Kubeadm, kubelet and kubectl pinned to the release", "Hold the packages at that version"):
        assert _task(result, node.name, task).get("skipped"), _task(result, node.name, task)
    # Nothing was installed or configured.
    for pkg in PACKAGES:
        proc = node.sh(f"dpkg-query -W -f '${{Status}}' {pkg}", check=False)
        assert "ok installed" not in proc.stdout, f"check mode installed {pkg}: {proc.stdout}"
    assert node.sh("test -e /etc/apt/sources.list.d/kubernetes.list", check=False).returncode != 0
    assert node.sh("command -v kubeadm", check=False).returncode != 0


def test_converge_installs_the_built_packages_pinned_and_held(node: Node, cache_dir: Path) -> None:
    result = node.play()
    changed = _changed(result, node.name)
    for task in ("Repository", "Kubeadm, kubelet and kubectl pinned to the release",
                 "Hold the packages at that version"):
        assert task in changed, f"{task!r} did not change; changed: {changed}"

    status = node.sh("dpkg-query -W -f '${Package} ${Version} ${Status}\\n' " + " ".join(PACKAGES)).stdout
    assert sorted(status.splitlines()) == sorted(f"{p} {DEB_VERSION} hold ok installed" for p in PACKAGES)
    # From the local repository (the only source of that version), not from anywhere else.
    for pkg in PACKAGES:
        policy = node.sh(f"LANG=C apt-cache policy {pkg}").stdout
        lines = policy.splitlines()
        at = next(i for i, line in enumerate(lines) if line.strip().startswith(f"*** {DEB_VERSION} "))
        sources = [line.strip() for line in lines[at + 1:] if line.startswith("        ")]
        assert any(f"file:{REPO_MOUNT} ./ Packages" in s for s in sources), policy
    assert node.sh("cat /etc/apt/sources.list.d/kubernetes.list").stdout.strip() \
        == f"deb [trusted=yes] file:{REPO_MOUNT} ./"

    # The installed binaries are the ones the build made, and the packages own them.
    for binary in ("kubeadm", "kubelet"):
        built = _run(["sha256sum", str(cache_dir / "bin" / binary)]).stdout.split()[0]
        assert node.sh(f"sha256sum /usr/bin/{binary}").stdout.split()[0] == built
        assert node.sh(f"dpkg -S /usr/bin/{binary}").stdout.strip() == f"{binary}: /usr/bin/{binary}"
    assert node.sh("kubeadm version -o short").stdout.strip() == f"v{RELEASE}"
    assert node.sh("kubelet --version").stdout.strip() == f"Kubernetes v{RELEASE}"
    assert node.sh("dpkg -S /usr/bin/kubectl").stdout.startswith("kubernetes-client: ")
    assert f"v{RELEASE}" in node.sh("kubectl version --client").stdout
    # The kubelet unit as upstream's packages ship it: enabled, with kubeadm's drop-in.
    assert node.sh("systemctl is-enabled kubelet.service").stdout.strip() == "enabled"
    unit = node.sh("systemctl cat kubelet.service").stdout
    assert "kubelet.service.d/10-kubeadm.conf" in unit
    assert "--config=/var/lib/kubelet/config.yaml" in unit


def test_second_converge_changes_nothing(node: Node) -> None:
    result = node.play()
    assert result["stats"][node.name]["changed"] == 0, _changed(result, node.name)


def test_check_mode_after_converge_changes_nothing(node: Node) -> None:
    result = node.play("--check", "--diff")
    assert result["stats"][node.name]["changed"] == 0, _changed(result, node.name)
    assert _task(result, node.name, READ_TASK)["plan"] == []
