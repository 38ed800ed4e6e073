#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apply a whole sysctl profile in one call: file, runtime, read-back."""

from __future__ import annotations

DOCUMENTATION = r"""
module: sysctl_profile
short_description: Own a sysctl.d file and the runtime values it sets, in one call
version_added: 0.1.0
description:
  - Takes the whole desired kernel parameter profile for one concern and owns one file under
    C(/etc/sysctl.d) whole; keys no longer in the profile are removed from it.
  - Validates every key (it must exist under O(proc_root)) and every value before anything is
    written. A numeric key needs as many integers as the kernel prints for it;
    C(net.ipv4.ip_local_port_range) must be two ports, low end first, not below
    C(net.ipv4.ip_unprivileged_port_start) (the kernel refuses that with EINVAL);
    C(net.ipv4.ip_local_reserved_ports) must be a comma separated list of ports and port ranges.
    An error names the key, the value and why, and nothing is changed.
  - With O(apply=true), writes the runtime values, reads them back and verifies them. If the kernel
    refuses a value, the values already written are put back and the module fails before the file
    is written.
  - Network namespace aware. A global key that is read-only here (for example C(fs.file-max) inside
    a container, where a write fails with EROFS, EACCES or EPERM) is reported with status
    C(not_applied_read_only) and a warning. It is never reported as applied and is not a failure.
    The file is still written.
  - Compares whitespace-normalised values (the kernel prints multi-value keys with tabs).
  - Runtime values of keys removed from the profile are left as they are (the module cannot know
    the default); the per-key report lists them with status C(removed).
author:
  - edgeops contributors (@edgeops)
extends_documentation_fragment:
  - edgeops.gitops.attributes
  - edgeops.gitops.attributes.SETTINGS_CHECK
attributes:
  check_mode:
    support: full
    details: Reports exactly what would change. Read-only keys are predicted with C(access(2)).
  diff_mode:
    support: full
    details: The diff is the file text before and after; the per-key report is returned as RV(keys).
options:
  settings:
    description:
      - The whole profile, key to value. Keys in sysctl form (C(net.core.somaxconn)), or with
        slashes when a component contains a dot (C(net/ipv4/conf/eth0.100/rp_filter)).
      - Values are integers, strings (C("1024 65000")), lists of integers, or booleans (written as
        C(1)/C(0)).
    type: dict
    required: true
  reserve_ports:
    description:
      - A port range C(LOW-HIGH) (Kubernetes NodePorts, C(30000-32767)) to add to
        C(net.ipv4.ip_local_reserved_ports) when the profile's C(net.ipv4.ip_local_port_range)
        overlaps it, so that the kernel never hands those ports out as source ports. Added to the
        reserved ports the profile already has; nothing is added when the ranges do not overlap.
      - Empty - nothing reserved.
    type: str
    default: ""
  path:
    description: The file the module owns whole.
    type: path
    default: /etc/sysctl.d/99-k8s-network.conf
  apply:
    description: Also apply the values at runtime, read them back and verify them.
    type: bool
    default: true
  keep_higher:
    description:
      - Keys that are limits which must never be lowered. When the runtime value of such a key is
        already higher than the profile's (systemd raises C(fs.file-max) to 9223372036854775807),
        the higher value is kept, written to the file so the next boot keeps it too, and reported
        with RV(keys[].kept_higher) and RV(keys[].requested).
      - Only single-integer keys.
    type: list
    elements: str
    default: []
  proc_root:
    description: Where the kernel's sysctl tree is. For tests only.
    type: path
    default: /proc/sys
notes:
  - The file is written atomically, mode 0644, with a header saying it is managed.
"""

EXAMPLES = r"""
- name: Kernel network profile of a Kubernetes node
  edgeops.gitops.sysctl_profile:
    settings:
      net.ipv4.ip_local_port_range: "1024 65000"
      net.ipv4.ip_local_reserved_ports: "30000-32767"
      net.core.somaxconn: 4096
      net.ipv4.tcp_max_syn_backlog: 4096
      fs.file-max: 2097152
    keep_higher: [fs.file-max]
  register: sysctl_result

- name: Packet forwarding for kubeadm, in its own file
  edgeops.gitops.sysctl_profile:
    path: /etc/sysctl.d/90-kubeadm.conf
    settings:
      net.bridge.bridge-nf-call-iptables: 1
      net.bridge.bridge-nf-call-ip6tables: 1
      net.ipv4.ip_forward: 1

- name: Drift report (nothing changes)
  edgeops.gitops.sysctl_profile:
    settings: "{{ my_profile }}"
  check_mode: true
  register: drift
"""

RETURN = r"""
diff:
  description: The file text before and after (diff mode).
  returned: when diff mode is on
  type: dict
  sample: {before: "", after: "net.core.somaxconn = 4096\n", before_header: /etc/sysctl.d/99-k8s-network.conf}
changes:
  description:
    - What differed from the profile before the call, one entry per key (the drift report's items).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The key.
      type: str
    before:
      description: The value found (runtime, file, or both when they differ from each other).
      type: str
    after:
      description: The profile's value (null for a key removed from the file).
      type: str
    where:
      description: Where the value differed, C(file) and/or C(runtime).
      type: list
      elements: str
  sample:
    - {key: net.core.somaxconn, before: "1024", after: "4096", where: [file, runtime]}
file_changed:
  description: Whether the file was (or in check mode would be) rewritten.
  returned: always
  type: bool
keys:
  description:
    - One entry per key in the profile, then one per key removed from the file.
    - In Jinja write C(result['keys']); C(result.keys) is the dict method.
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description: The key.
      type: str
    value:
      description: The value written (canonical form); null for a removed key.
      type: str
    requested:
      description: The value the profile asked for (differs from RV(keys[].value) when kept higher).
      type: str
    kept_higher:
      description: The runtime value was higher than requested and was kept (see O(keep_higher)).
      type: bool
    file_before:
      description: The key's value in the file before the call (null if absent).
      type: str
    runtime_before:
      description: The kernel's value before the call (null if unreadable).
      type: str
    runtime_after:
      description: The kernel's value after the call, read back (in check mode, the unchanged value).
      type: str
    status:
      description:
        - C(in_sync) nothing to do; C(changed) the file and/or runtime were (check mode - would be)
          changed; C(not_applied_read_only) the runtime value differs and the key is read-only here
          (the file is still written); C(removed) the key was dropped from the file.
      type: str
  sample:
    - {key: net.core.somaxconn, value: "4096", requested: "4096", kept_higher: false, file_before: "4096",
       runtime_before: "128", runtime_after: "4096", status: changed}
"""

import os
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.edgeops.gitops.plugins.module_utils import _sysctl
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import (
    SETTINGS_CHECK_OPTION,
    refuse_wrong_settings,
)


def read_file(module: AnsibleModule, path: str) -> str:
    """Current file text ('' when absent)."""
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return ""
    except OSError as err:
        module.fail_json(msg=f"read failed for {path}: {err.strerror}")


def check_path(path: str) -> None:
    """Refuse a file the module could not write, before anything changes (runtime included)."""
    if not os.path.isabs(path):
        raise _sysctl.SysctlError(
            f"invalid path {path!r}, nothing changed: it must be an absolute file path, "
            "e.g. /etc/sysctl.d/99-k8s-network.conf")
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise _sysctl.SysctlError(
            f"invalid path {path!r}, nothing changed: directory {directory} does not exist; create it "
            "first or choose a file in an existing directory")


def write_file(module: AnsibleModule, path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically, mode 0644."""
    tmp = os.path.join(module.tmpdir, "sysctl_profile.conf")
    with open(tmp, "w") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    module.atomic_move(tmp, path)


def run(module: AnsibleModule) -> dict[str, Any]:
    """Read, compare, then act. Returns the result dict."""
    params = module.params
    proc_root, path = params["proc_root"], params["path"]
    check_path(path)
    before = read_file(module, path)
    settings = _sysctl.reserve_ports(params["settings"], params["reserve_ports"])
    desired, report = _sysctl.compare(proc_root, settings, before, params["apply"], params["keep_higher"])
    changes = _sysctl.changes(report, params["apply"])
    after = _sysctl.render(desired)
    file_changed = before != after
    runtime_changed = any(entry["apply"] for entry in report)
    if not module.check_mode:
        if params["apply"]:
            _sysctl.apply_runtime(proc_root, report)
            runtime_changed = any(e["apply"] and e["status"] == _sysctl.STATUS_CHANGED for e in report)
        if file_changed:
            write_file(module, path, after)
    for entry in report:
        entry.pop("apply")
        if entry["status"] == _sysctl.STATUS_READ_ONLY:
            module.warn(
                f"{entry['key']}: not applied at runtime, read-only here "
                f"({'predicted' if module.check_mode else 'write refused'}): "
                f"kernel has {entry['runtime_before']}, file says {entry['value']}"
            )
    result = dict(changed=file_changed or runtime_changed, file_changed=file_changed, keys=report,
                  changes=changes)
    if module._diff:
        result["diff"] = dict(before=before, after=after, before_header=path, after_header=path)
    return result


def main() -> None:
    """Module entry point."""
    module = AnsibleModule(
        argument_spec=dict(
            settings=dict(type="dict", required=True),
            path=dict(type="path", default="/etc/sysctl.d/99-k8s-network.conf"),
            apply=dict(type="bool", default=True),
            keep_higher=dict(type="list", elements="str", default=[]),
            reserve_ports=dict(type="str", default=""),
            proc_root=dict(type="path", default=_sysctl.PROC_SYS),
            settings_check=SETTINGS_CHECK_OPTION,
        ),
        supports_check_mode=True,
    )
    refuse_wrong_settings(module)
    try:
        result = run(module)
    except _sysctl.SysctlError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
