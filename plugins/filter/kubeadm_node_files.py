# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.kubeadm_node_files."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubeadm_node_files
short_description: The files the kubeadm role writes on a node, with their content, in one call
version_added: 0.2.0
author: edgeops contributors
description:
  - Returns, by purpose, the files a node of Kubernetes O(version) needs - C(modules_load)
    (C(/etc/modules-load.d/kubeadm.conf)), C(containerd) (C(/etc/containerd/config.toml), containerd
    runtimes the role configures), C(docker_daemon) (C(/etc/docker/daemon.json), Docker runtimes),
    C(kubelet_dropin) (the kubelet's node IP and flags, only for releases whose kubeadm documents
    cannot carry them, 1.10) and C(init_config) (C(/etc/kubernetes/kubeadm-init.yaml), the first
    control plane only) - each as C({path, content, mode}).
  - The contents are computed in Python (C(plugins/module_utils/_kubeadm.py)), with the same rules the
    C(kubeadm_config) and C(kubeadm_runtime) filters use (the runtime and cgroup driver of each release,
    the documents of its kubeadm), so a check run renders them in one filter call per host instead of
    a chain of templates.
  - Bad input is refused as by C(edgeops.gitops.kubeadm_config), naming what is wrong.
options:
  _input:
    description: The version-neutral node spec, as for C(edgeops.gitops.kubeadm_config).
    type: dict
    required: true
  version:
    description: Kubernetes version, C(MAJOR.MINOR[.PATCH][-PRERELEASE]), as a string.
    type: str
    required: true
  runtime:
    description: The container runtime choice - V(auto), V(docker) or V(containerd) (see C(kubeadm_runtime)).
    type: str
    default: auto
  configure_containerd:
    description: Whether the role writes containerd's configuration (containerd runtimes only).
    type: bool
    default: true
  first:
    description: This node is the first control plane (it gets the C(kubeadm init) configuration).
    type: bool
    default: false
  modules:
    description: Kernel modules to load at boot, by name.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Write containerd's configuration for the pinned release
  ansible.builtin.copy:
    dest: "{{ files.containerd.path }}"
    content: "{{ files.containerd.content }}"
    mode: "{{ files.containerd.mode }}"
  vars:
    files: "{{ spec | edgeops.gitops.kubeadm_node_files('1.34.1', modules=['overlay', 'br_netfilter']) }}"
"""

RETURN = r"""
_value:
  description: A dict purpose -> C({path, content, mode}), only the files this node needs, in writing order.
  type: dict
"""

from typing import Any

from ansible import constants as C
from ansible.errors import AnsibleFilterError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.filter.core import to_nice_yaml
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_config import kubeadm_config
from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import (
    KubeadmConfigError,
    container_runtime,
    node_files,
)


def kubeadm_node_files(
    spec: Any,
    version: Any,
    runtime: str = "auto",
    configure_containerd: bool = True,
    first: bool = False,
    modules: Any = (),
) -> dict[str, dict[str, str]]:
    """The node's files by purpose; AnsibleFilterError on bad input."""
    flags = kubeadm_config(spec, version, "kubelet-flags")
    init = None
    if boolean(first, strict=False):
        documents = kubeadm_config(spec, version, "init")
        init = "---\n".join(to_nice_yaml(doc, indent=2, sort_keys=False) for doc in documents)
    try:
        return node_files(
            version,
            runtime=container_runtime(version, runtime),
            configure_containerd=boolean(configure_containerd, strict=False),
            modules=[str(m) for m in modules],
            kubelet_flags=flags,
            init_content=init,
            managed=str(C.config.get_config_value("DEFAULT_MANAGED_STR")),
        )
    except KubeadmConfigError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.kubeadm_node_files: {exc}") from None


class FilterModule:
    """edgeops.gitops.kubeadm_node_files."""

    def filters(self) -> dict[str, Any]:
        return {"kubeadm_node_files": kubeadm_node_files}
