# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.etcd_disk_candidates."""

from __future__ import annotations

DOCUMENTATION = r"""
name: etcd_disk_candidates
short_description: The block devices fit to hold etcd's data, best first, from a host's facts
version_added: 0.1.0
author:
  - edgeops contributors (@edgeops)
description:
  - From C(ansible_devices) and C(ansible_mounts), the devices fit for etcd, best first.
  - Fit means a whole disk that is not removable, not rotational, has no partitions, no holders
    (LVM, RAID, dm-crypt), is not mounted, shows no filesystem signature in the facts and is at least
    O(min_size) large. Loop, RAM, zram, device-mapper, MD and optical devices are never candidates.
  - Best first means NVMe namespaces (C(nvme0n1)) first, then other solid-state disks,
    each in natural name order.
  - Facts cannot prove a disk empty (no udev, or a container that sees the host's disks but not its mounts);
    the C(edgeops.gitops.etcd_storage) role probes the chosen device before it writes anything.
options:
  _input:
    description: The host's C(ansible_devices) fact.
    type: dict
    required: true
  mounts:
    description: The host's C(ansible_mounts) fact.
    type: list
    elements: dict
    default: []
  min_size:
    description: Smallest acceptable device, in bytes or with a binary suffix (V(8g), V(512m)).
    type: raw
    default: 1g
  details:
    description:
      - Return a dict with C(candidates) and C(rejected) (device path to the list of reasons)
        instead of the list of candidates.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Best disk for etcd
  ansible.builtin.set_fact:
    etcd_disk: >-
      {{ (ansible_devices | edgeops.gitops.etcd_disk_candidates(ansible_mounts, min_size='8g')) | first }}

- name: Candidates and why the others were rejected
  ansible.builtin.debug:
    msg: "{{ ansible_devices | edgeops.gitops.etcd_disk_candidates(ansible_mounts, details=true) }}"
"""

RETURN = r"""
_value:
  description:
    - Device paths (C(/dev/nvme0n1)), best first; empty when nothing fits.
    - With O(details=true), a dict with C(candidates) (that list) and C(rejected) (path to reasons).
  type: raw
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._blockdev import judge_devices
from ansible_collections.edgeops.gitops.plugins.module_utils._size import SizeError, parse_size
from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name as _type

_NAME = "edgeops.gitops.etcd_disk_candidates"


def etcd_disk_candidates(devices: Any, mounts: Any = None, min_size: Any = "1g",
                         details: bool = False) -> Any:
    """Candidates for etcd's disk, best first (or a dict with the rejections)."""
    if not isinstance(devices, dict):
        raise AnsibleFilterError(
            f"{_NAME}: expected the ansible_devices fact (a dict), got {_type(devices)}: {devices!r}"
        )
    if mounts is None:
        mounts = []
    if not isinstance(mounts, list):
        raise AnsibleFilterError(
            f"{_NAME}: mounts must be the ansible_mounts fact (a list), got {_type(mounts)}: {mounts!r}"
        )
    try:
        min_bytes = parse_size(min_size, "min_size", positive=True)
    except SizeError as exc:
        raise AnsibleFilterError(f"{_NAME}: {exc}") from exc
    judged = judge_devices(devices, mounts, min_bytes)
    return judged if details else judged["candidates"]


class FilterModule:
    """edgeops.gitops.etcd_disk_candidates."""

    def filters(self) -> dict[str, Any]:
        return {"etcd_disk_candidates": etcd_disk_candidates}
