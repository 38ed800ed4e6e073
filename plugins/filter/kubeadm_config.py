# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.kubeadm_config."""

from __future__ import annotations

DOCUMENTATION = r"""
name: kubeadm_config
short_description: Render kubeadm configuration documents for any Kubernetes release from 1.10 on
version_added: 0.1.0
author: edgeops contributors
description:
  - Turns one version-neutral description of a node into the YAML documents (as a list of dicts) that
    the kubeadm of O(version) reads, from C(kubeadm.k8s.io/v1alpha1) C(MasterConfiguration) (1.10) to
    C(kubeadm.k8s.io/v1beta4) (1.31 and later; C(extraArgs) as a list of C({name, value})).
  - Field names follow upstream kubeadm's Go types, C(cmd/kubeadm/app/apis/kubeadm/<version>/types.go);
    the unit tests check every rendered document against a field schema per apiVersion.
  - Kubernetes 1.10 through 1.36 are known. A newer 1.x minor is not refused - a user must not be
    blocked the day a release comes out - it is rendered with the newest known apiVersion
    (C(kubeadm.k8s.io/v1beta4)) and a warning says so; kubeadm keeps reading an apiVersion for several
    releases after its successor appears. Check such a result with C(kubeadm config validate).
  - A pre-release or build suffix (C(1.31.0-rc.1)) is kept in C(kubernetesVersion). An unquoted YAML
    version (C(1.10) read as the number 1.1) is refused with a message to quote it.
  - Refuses, before anything is changed, versions before 1.10, invalid or overlapping
    CIDRs, addresses that are not IP addresses, an advertise address that is not the host's, and a node
    address inside the cluster networks.
options:
  _input:
    description:
      - The version-neutral spec. Keys C(advertise_address) (required), C(bind_port) (6443),
        C(control_plane_endpoint), C(pod_subnet) (10.244.0.0/16), C(service_subnet) (10.96.0.0/12),
        C(dns_domain) (cluster.local), C(cert_sans), C(node_name), C(kubelet_node_ip) (defaults to the
        advertise address), C(kubelet_extra_args), C(apiserver_extra_args),
        C(controller_manager_extra_args), C(scheduler_extra_args) (dicts flag -> value),
        C(etcd_data_dir) (/var/lib/etcd), C(image_repository), C(cluster_name) (kubernetes),
        C(cri_socket), C(host_addresses) (the host's addresses; when given, the advertise address and
        node IP must be among them) and, for joins, C(join) with either C(command) (the output of
        C(kubeadm token create --print-join-command)) or C(api_server_endpoint), C(token) and
        C(ca_cert_hashes), plus C(certificate_key) for control-plane joins.
    type: dict
    required: true
  version:
    description:
      - Kubernetes version, C(MAJOR.MINOR[.PATCH][-PRERELEASE]) with or without a leading C(v), as a
        string (quote it in YAML); 1.10 through 1.36, newer minors with a warning.
    type: str
    required: true
  role:
    description:
      - C(init) - the documents for C(kubeadm init) on the first control plane.
      - C(join) - the documents for C(kubeadm join) of a worker.
      - C(control-plane-join) - the documents for C(kubeadm join) of an additional control plane (1.15+).
      - C(kubelet-flags) - a dict of kubelet flags the documents of O(version) cannot carry (1.10 has no
        C(nodeRegistration)), for the kubelet's environment file; empty for later releases.
    type: str
    default: init
    choices: [init, join, control-plane-join, kubelet-flags]
notes:
  - Join documents hold the bootstrap token; pass them to kubeadm on stdin from a C(no_log) task, never
    write them to disk or print them. Error messages never include the token.
"""

EXAMPLES = r"""
- name: Kubeadm init documents for the first control plane
  ansible.builtin.copy:
    dest: /etc/kubernetes/kubeadm-init.yaml
    content: >-
      {{ spec | edgeops.gitops.kubeadm_config(kubeadm_kubernetes_version)
         | ansible.builtin.to_nice_yaml(indent=2, sort_keys=false) }}
  vars:
    spec:
      advertise_address: "{{ ansible_facts | edgeops.gitops.private_address }}"
      pod_subnet: 10.244.0.0/16
      etcd_data_dir: /var/lib/etcd
"""

RETURN = r"""
_value:
  description:
    - A list of documents (dicts with C(apiVersion) and C(kind)); for O(role=kubelet-flags) a dict of flags.
  type: raw
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display
from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import (
    KubeadmConfigError,
    newer_than_known,
    render,
)


def kubeadm_config(spec: Any, version: Any, role: str = "init") -> Any:
    """Documents kubeadm ``version`` reads for ``role``; AnsibleFilterError on bad input."""
    try:
        documents = render(spec, version, role)
        warning = newer_than_known(version)
    except KubeadmConfigError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.kubeadm_config: {exc}") from None
    if warning:
        Display().warning(f"edgeops.gitops.kubeadm_config: {warning}")
    return documents


class FilterModule:
    """edgeops.gitops.kubeadm_config."""

    def filters(self) -> dict[str, Any]:
        return {"kubeadm_config": kubeadm_config}
