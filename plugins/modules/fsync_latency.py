#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.fsync_latency."""

from __future__ import annotations

DOCUMENTATION = r"""
module: fsync_latency
short_description: Measure a filesystem's fdatasync latency the way etcd's disk check does
version_added: 0.1.0
author:
  - edgeops contributors (@edgeops)
description:
  - The etcd disk check that C(fio --rw=write --ioengine=sync --fdatasync=1 --bs=2300 --size=22m)
    is used for, in Python, without fio.
  - Writes O(size) bytes sequentially in O(block_size) pieces into a temporary file inside O(path),
    calls C(fdatasync) after each write and times every C(fdatasync).
  - The temporary file is removed afterwards, also when the measurement fails or is interrupted.
  - Returns the sample count, the p50, p90 and p99 and the maximum latency in milliseconds, and the duration.
  - With O(max_p99_ms) set, fails when the measured p99 is above it; the message carries both figures.
  - It is a measurement; it runs in check mode too, never reports a change and leaves nothing behind.
extends_documentation_fragment:
  - edgeops.gitops.attributes
attributes:
  check_mode:
    support: full
    details: A measurement; it runs in check mode too and leaves nothing behind.
  diff_mode:
    support: none
options:
  path:
    description: Directory on the filesystem to measure (for etcd, its data directory's mount point).
    type: path
    required: true
  size:
    description: Bytes to write in total; an integer or a size with a binary suffix (V(22m), V(512k)).
    type: str
    default: 22m
  block_size:
    description: Bytes per write; each write is followed by one C(fdatasync).
    type: str
    default: "2300"
  max_p99_ms:
    description:
      - Fail when the p99 fdatasync latency in milliseconds is above this. Must be greater than 0.
      - Unset, the module only measures.
    type: float
  preallocate:
    description: Reserve the file's blocks before writing, as fio and etcd's write-ahead log do.
    type: bool
    default: true
notes:
  - etcd's guidance is a p99 fdatasync latency below 10 ms.
"""

EXAMPLES = r"""
- name: Measure etcd's disk
  edgeops.gitops.fsync_latency:
    path: /var/lib/etcd
    max_p99_ms: 10
  register: etcd_fsync

- name: A quicker, smaller probe
  edgeops.gitops.fsync_latency:
    path: /var/tmp
    size: 2m
"""

RETURN = r"""
samples:
  description: Number of write + fdatasync pairs timed.
  returned: success
  type: int
  sample: 10029
p50_ms:
  description: Median fdatasync latency in milliseconds.
  returned: success
  type: float
  sample: 0.41
p90_ms:
  description: 90th percentile fdatasync latency in milliseconds.
  returned: success
  type: float
  sample: 0.8
p99_ms:
  description: 99th percentile fdatasync latency in milliseconds.
  returned: always when measured
  type: float
  sample: 2.3
max_ms:
  description: Longest fdatasync in milliseconds.
  returned: success
  type: float
  sample: 9.7
duration_s:
  description: Wall time of the measurement in seconds.
  returned: success
  type: float
  sample: 6.2
size:
  description: Bytes written (a whole number of blocks).
  returned: success
  type: int
  sample: 23066700
block_size:
  description: Bytes per write.
  returned: success
  type: int
  sample: 2300
max_p99_ms:
  description: The threshold the p99 was checked against (null when unset).
  returned: success
  type: float
  sample: 10.0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.edgeops.gitops.plugins.module_utils._fsync import FsyncError, measure
from ansible_collections.edgeops.gitops.plugins.module_utils._size import parse_size


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "size": {"type": "str", "default": "22m"},
            "block_size": {"type": "str", "default": "2300"},
            "max_p99_ms": {"type": "float"},
            "preallocate": {"type": "bool", "default": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    threshold = params["max_p99_ms"]
    if threshold is not None and threshold <= 0:
        module.fail_json(msg=f"fsync_latency failed for {params['path']}: max_p99_ms must be greater "
                             f"than 0, got {threshold}")
    try:
        size = parse_size(params["size"], "size", positive=True, error=FsyncError)
        block_size = parse_size(params["block_size"], "block_size", positive=True, error=FsyncError)
        figures = measure(params["path"], size, block_size, params["preallocate"])
    except FsyncError as exc:
        module.fail_json(msg=f"fsync_latency failed for {params['path']}: {exc}")
    result = dict(figures, changed=False, size=figures["samples"] * block_size,
                  block_size=block_size, max_p99_ms=threshold)
    if threshold is not None and figures["p99_ms"] > threshold:
        module.fail_json(
            msg=(f"fdatasync p99 on {params['path']} is {figures['p99_ms']} ms, above the "
                 f"threshold of {threshold} ms (p50 {figures['p50_ms']} ms, max "
                 f"{figures['max_ms']} ms, {figures['samples']} samples): this disk is too slow for etcd"),
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
