#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.kubeadm_node."""

from __future__ import annotations

DOCUMENTATION = r"""
module: kubeadm_node
short_description: Read a Kubernetes node's kubeadm prerequisites and cluster state, and plan what differs
version_added: 0.2.0
author:
  - edgeops contributors (@edgeops)
description:
  - The whole state the C(kubeadm) role manages on one node, read and compared in one read-only call -
    active swap and swap entries in C(/etc/fstab), kernel modules, the bridge and forwarding sysctls (file
    and runtime, with the rules of M(edgeops.gitops.sysctl_profile)), the files the role writes
    (modules-load list, containerd configuration, kubeadm configuration, kubelet drop-in), the packages
    kubeadm's preflight needs, services that must be enabled and running, the installed kubeadm, kubelet
    and kubectl, and whether the node is initialised or joined.
  - Returns the plan as RV(changes) (the drift report's items) and RV(plan) (their keys). It never changes
    anything itself; the role runs its tasks, and C(kubeadm init) or C(join), only when the plan says so.
  - In check mode a non-empty plan is reported as a change, so a drift check of the concern is this one call.
extends_documentation_fragment:
  - edgeops.gitops.attributes.PLAN_MODULE
  - edgeops.gitops.attributes.SETTINGS_CHECK
options:
  version:
    description: The pinned release, as kubeadm prints it (V(v1.34.1)).
    type: str
    required: true
  kernel_modules:
    description:
      - Modules that must be present; each counts as present when its O(kernel_modules[].evidence)
        path exists.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The module.
        type: str
        required: true
      evidence:
        description: A path that exists when the module is built in or loaded.
        type: path
        required: true
  sysctls:
    description: Runtime kernel settings the node needs, and the file that keeps them.
    type: dict
    default: {}
  sysctl_path:
    description: The file under C(/etc/sysctl.d) that keeps O(sysctls).
    type: path
    default: /etc/sysctl.d/90-kubeadm.conf
  files:
    description: Files the role writes, with their whole content and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: The file.
        type: path
        required: true
      content:
        description: Its content.
        type: str
        required: true
      mode:
        description: Its mode, octal.
        type: str
        default: "0644"
  packages:
    description: Debian packages that must be installed.
    type: list
    elements: str
    default: []
  services:
    description: Systemd services that must be enabled and running.
    type: list
    elements: str
    default: []
  cluster:
    description:
      - V(init) - the node is the first control plane (done when C(/etc/kubernetes/admin.conf) exists);
        V(join) - it joins (done when C(/etc/kubernetes/kubelet.conf) exists); V(none) - do not look.
    type: str
    choices: [init, join, none]
    default: none
  package_repository:
    description:
      - The apt repository the binaries of O(version) come from (the role's C(kubeadm_package_repository));
        empty means pkgs.k8s.io.
      - The module fails, changing nothing, when an installed kubeadm or kubelet is of another release (it
        does not upgrade), or when the binaries are missing and cannot come from pkgs.k8s.io (which only
        serves Kubernetes 1.24 and later) because no repository is given.
    type: str
    default: ""
notes:
  - The kubeadm and kubelet versions come from C(kubeadm version -o short) and C(kubelet --version).
"""

EXAMPLES = r"""
- name: Kubeadm node - read and plan (the drift check of the concern)
  edgeops.gitops.kubeadm_node:
    version: v1.34.1
    kernel_modules:
      - {name: br_netfilter, evidence: /proc/sys/net/bridge/bridge-nf-call-iptables}
    sysctls: {net.ipv4.ip_forward: 1}
    packages: [conntrack, socat]
    cluster: join
  register: node
"""

RETURN = r"""
plan:
  description: The keys of RV(changes).
  returned: always
  type: list
  elements: str
changes:
  description: What differs from the desired state, one item per key (the drift report's items).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description:
        - What differs - C(swap), C(module br_netfilter), a sysctl key, C(packages), C(cluster); for a file
          (RV(changes[].path)) a key of it, C(content) (lines that are not key = value) or C(mode).
      type: str
    before:
      description: What is there.
      type: str
    after:
      description: What the role puts there.
      type: str
    path:
      description: The file it is about, when there is one.
      type: str
installed:
  description:
    - The installed C(kubeadm) and C(kubelet) versions and whether C(kubectl) is present
      (V(missing) when not).
  returned: always
  type: dict
  sample: {kubeadm: v1.34.1, kubelet: v1.34.1, kubectl: present}
binaries_ok:
  description: kubeadm and kubelet are of O(version) and kubectl is present.
  returned: always
  type: bool
node_done:
  description: The node is initialised (O(cluster=init)) or joined (O(cluster=join)).
  returned: always
  type: bool
missing_modules:
  description: The O(kernel_modules) not present.
  returned: always
  type: list
  elements: str
"""

import os
import shutil
from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.edgeops.gitops.plugins.module_utils import _sysctl
from ansible_collections.edgeops.gitops.plugins.module_utils._items import (
    Item,
    Run,
    missing_packages,
    plan_result,
    read_file,
    service_items,
    text_items,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import pinned_problem
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import (
    SETTINGS_CHECK_OPTION,
    refuse_wrong_settings,
)

DONE_FILES = {"init": "/etc/kubernetes/admin.conf", "join": "/etc/kubernetes/kubelet.conf"}


def active_swaps(text: str) -> list[str]:
    """The swap areas in /proc/swaps (its first line is a header)."""
    return [line.split()[0] for line in text.splitlines()[1:] if line.strip()]


def fstab_swaps(text: str) -> list[str]:
    """Active (not commented) swap entries of /etc/fstab."""
    return [
        line
        for line in text.splitlines()
        if line.split()
        and not line.lstrip().startswith("#")
        and len(line.split()) > 2
        and line.split()[2] == "swap"
    ]


def file_items(files: list[dict[str, Any]], read: Callable[[str], str | None] = read_file,
               stat: Callable[[str], Any] = os.stat) -> list[Item]:
    """Items for each file whose content (the drift report's rule for files) or mode differs."""
    items: list[Item] = []
    for spec in files:
        have = read(spec["path"])
        if have != spec["content"]:
            items.extend(text_items(have, spec["content"], spec["path"]))
        if have is not None:
            mode, want_mode = stat(spec["path"]).st_mode & 0o7777, int(spec["mode"], 8)
            if mode != want_mode:
                items.append(
                    {
                        "key": "mode",
                        "before": f"{mode:04o}",
                        "after": f"{want_mode:04o}",
                        "where": ["file"],
                        "path": spec["path"],
                    }
                )
    return items


def sysctl_items(sysctls: dict[str, Any], path: str, proc_root: str = _sysctl.PROC_SYS,
                 read: Callable[[str], str | None] = read_file) -> list[Item]:
    """The sysctl_profile rules, read-only: one item per key whose file or runtime value differs."""
    present = {k: v for k, v in sysctls.items() if os.path.exists(_sysctl.key_path(proc_root, k))}
    items: list[Item] = [
        {"key": k, "before": "absent (its module is not loaded)", "after": str(v), "path": path}
        for k, v in sysctls.items()
        if k not in present
    ]
    if not present:
        return items
    _desired, report = _sysctl.compare(proc_root, present, read(path) or "", True)
    for change in _sysctl.changes(report, True):
        items.append(dict(change, path=path))
    return items


def binary_versions(run: Run) -> dict[str, str]:
    """{kubeadm, kubelet, kubectl}: versions, or 'missing'."""
    found: dict[str, str] = {}
    rc, out, _err = run(["kubeadm", "version", "-o", "short"]) if shutil.which("kubeadm") else (1, "", "")
    found["kubeadm"] = out.strip() if rc == 0 and out.strip() else "missing"
    rc, out, _err = run(["kubelet", "--version"]) if shutil.which("kubelet") else (1, "", "")
    found["kubelet"] = out.split()[-1] if rc == 0 and out.split() else "missing"
    found["kubectl"] = "present" if shutil.which("kubectl") else "missing"
    return found


def run_module(module: AnsibleModule) -> None:
    p = module.params

    def run(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})
        return int(rc), str(out), str(err)

    items: list[Item] = []
    swaps = active_swaps(read_file("/proc/swaps") or "")
    if swaps:
        items.append({"key": "swap", "before": "on ({})".format(", ".join(swaps)), "after": "off"})
    fstab = fstab_swaps(read_file("/etc/fstab") or "")
    if fstab:
        items.append(
            {
                "key": "swap in fstab",
                "before": f"{len(fstab)} active entr{'y' if len(fstab) == 1 else 'ies'}",
                "after": "commented out",
                "path": "/etc/fstab",
            }
        )
    missing_modules = [m["name"] for m in p["kernel_modules"] if not os.path.exists(m["evidence"])]
    items.extend(
        {"key": "module " + name, "before": "not loaded", "after": "loaded"} for name in missing_modules
    )
    try:
        items.extend(sysctl_items(p["sysctls"], p["sysctl_path"]))
    except _sysctl.SysctlError as err:
        module.fail_json(msg=str(err))
    items.extend(file_items(p["files"]))
    missing = missing_packages(p["packages"], run)
    if missing:
        items.append({"key": "packages", "before": "missing " + ", ".join(missing), "after": "installed"})
    items.extend(service_items(p["services"], run))
    installed = binary_versions(run)
    problem = pinned_problem(installed, p["version"], p["package_repository"])
    if problem:
        module.fail_json(msg=problem, installed=installed)
    binaries_ok = (
        installed["kubeadm"] == p["version"]
        and installed["kubelet"] == p["version"]
        and installed["kubectl"] == "present"
    )
    if not binaries_ok:
        items.append(
            {
                "key": "kubernetes packages",
                "before": "kubeadm {kubeadm}, kubelet {kubelet}, kubectl {kubectl}".format(**installed),
                "after": "kubeadm, kubelet, kubectl {}".format(p["version"]),
            }
        )
    node_done = True
    if p["cluster"] != "none":
        node_done = os.path.exists(DONE_FILES[p["cluster"]])
        if not node_done:
            items.append(
                {
                    "key": "cluster",
                    "before": "not initialised" if p["cluster"] == "init" else "not joined",
                    "after": "kubeadm " + p["cluster"],
                    "path": DONE_FILES[p["cluster"]],
                }
            )
    result = plan_result(items, module.check_mode, module._diff, "kubeadm node")
    module.exit_json(installed=installed, binaries_ok=binaries_ok, node_done=node_done,
                     missing_modules=missing_modules, **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "version": {"type": "str", "required": True},
            "kernel_modules": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "name": {"type": "str", "required": True},
                    "evidence": {"type": "path", "required": True},
                },
            },
            "sysctls": {"type": "dict", "default": {}},
            "sysctl_path": {"type": "path", "default": "/etc/sysctl.d/90-kubeadm.conf"},
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "path", "required": True},
                    "content": {"type": "str", "required": True},
                    "mode": {"type": "str", "default": "0644"},
                },
            },
            "packages": {"type": "list", "elements": "str", "default": []},
            "services": {"type": "list", "elements": "str", "default": []},
            "cluster": {"type": "str", "default": "none", "choices": ["init", "join", "none"]},
            "package_repository": {"type": "str", "default": ""},
            "settings_check": SETTINGS_CHECK_OPTION,
        },
        supports_check_mode=True,
    )
    refuse_wrong_settings(module)
    run_module(module)


if __name__ == "__main__":
    main()
