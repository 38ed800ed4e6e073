# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.kubeadm_runtime."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubeadm_runtime
short_description: The container runtime a Kubernetes release runs on - docker up to 1.23, containerd after
version_added: 0.2.0
author: edgeops contributors
description:
  - Returns V(docker) or V(containerd) for the Kubernetes release O(_input), with the rule the
    C(kubeadm) role uses (one place in the collection, C(plugins/module_utils/_kubeadm.py)).
  - V(auto) - Docker (Debian's C(docker.io), through the kubelet's dockershim) for Kubernetes 1.23 and
    older, containerd for 1.24 and later (dockershim was removed in 1.24).
  - V(docker) or V(containerd) force one; V(docker) is refused for 1.24 and later.
options:
  _input:
    description: Kubernetes version, C(MAJOR.MINOR[.PATCH]), as a string.
    type: str
    required: true
  choice:
    description: V(auto), V(docker) or V(containerd).
    type: str
    default: auto
    choices: [auto, docker, containerd]
  socket:
    description:
      - Return the CRI socket kubeadm is given for that runtime instead of its name -
        C(/var/run/dockershim.sock) for Docker (docker's own containerd socket is there too and kubeadm
        refuses to choose), an empty string for containerd (kubeadm detects it).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The runtime of the pinned release
  ansible.builtin.debug:
    msg: "{{ '1.20.2' | edgeops.gitops.kubeadm_runtime }}"  # docker

- name: The CRI socket kubeadm is given for it
  ansible.builtin.debug:
    msg: "{{ '1.20.2' | edgeops.gitops.kubeadm_runtime(socket=true) }}"  # /var/run/dockershim.sock
"""

RETURN = r"""
_value:
  description: V(docker) or V(containerd); with O(socket), the CRI socket (may be empty).
  type: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import (
    KubeadmConfigError,
    container_runtime,
    cri_socket,
)


def kubeadm_runtime(version: Any, choice: Any = "auto", socket: bool = False) -> str:
    """``docker`` or ``containerd`` for ``version`` (with ``socket``: its CRI socket); AnsibleFilterError."""
    try:
        return cri_socket(version, choice) if socket else container_runtime(version, choice)
    except KubeadmConfigError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.kubeadm_runtime: {exc}") from None


class FilterModule:
    """edgeops.gitops.kubeadm_runtime."""

    def filters(self) -> dict[str, Any]:
        return {"kubeadm_runtime": kubeadm_runtime}
