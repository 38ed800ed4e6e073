# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cross-field rules of each role's settings, in one place.

Types and choices are checked by each role's ``meta/argument_specs.yml``; what they cannot say
(a size that parses, a directory below another, a label that fits the filesystem, a port range
that reads LOW-HIGH) is checked here.  :func:`problems` returns one line per setting that is
wrong -- only those, all of them at once -- each naming the setting, the value it has and the fix.
A setting that is right is never named.  Pure Python, no Ansible imports; the roles call it
through the ``edgeops.gitops.setting_problems`` filter and hand what it found to the one module
that reads their host (its ``settings_check`` option, :data:`SETTINGS_CHECK_OPTION`), which
refuses with :func:`refusal` before it reads or changes anything.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import (
    CONTROL_PLANE_JOIN_MINOR,
    KubeadmConfigError,
    container_runtime,
    parse_version,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import TuningError, input_problems
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import (
    parse_version as mysql_version,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._size import SizeError, parse_size

#: Longest label each filesystem takes (e2label: 16 bytes, xfs_admin: 12).
LABEL_MAX = {"ext4": 16, "xfs": 12}

_PORT_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def show(value: Any) -> str:
    """A value as the user wrote it: strings quoted, numbers and lists as YAML would show them."""
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {show(v)}" for k, v in value.items()) + "}"
    return repr(value)


def _problem(name: str, value: Any, rule: str, fix: str) -> str:
    return f"{name} {rule} (got {show(value)}); {fix}"


def _number(value: Any) -> float | None:
    """A real number (int, float or a numeric string), else None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _positive_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    if isinstance(value, str) and value.strip().isdigit() and int(value) > 0:
        return int(value)
    return None


def _size(value: Any) -> int | None:
    try:
        return parse_size(value, positive=True)
    except SizeError:
        return None


def _abs_path(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("/"):
        return posixpath.normpath(value)
    return None


def etcd_storage(v: dict[str, Any]) -> list[str]:
    """The etcd_storage role's settings."""
    out: list[str] = []
    limit = _number(v.get("etcd_storage_max_fsync_p99_ms"))
    if limit is None or limit <= 0:
        out.append(_problem("etcd_storage_max_fsync_p99_ms", v.get("etcd_storage_max_fsync_p99_ms"),
                            "must be greater than 0", "set the p99 limit in milliseconds, e.g. 10"))
    for name, example in (("etcd_storage_min_size", "20g or 512m"), ("etcd_storage_fsync_size", "22m"),
                          ("etcd_storage_fsync_block_size", "2300 or 4k")):
        if _size(v.get(name)) is None:
            out.append(_problem(name, v.get(name), "must be a size above 0",
                                f"use bytes or a number with k, m, g, t, p or e, e.g. {example}"))
    size, block = _size(v.get("etcd_storage_fsync_size")), _size(v.get("etcd_storage_fsync_block_size"))
    if size is not None and block is not None and block > size:
        out.append(_problem("etcd_storage_fsync_block_size", v.get("etcd_storage_fsync_block_size"),
                            f"must not be larger than etcd_storage_fsync_size ({size} bytes)",
                            "lower it or raise etcd_storage_fsync_size"))
    fstype, label = v.get("etcd_storage_fstype"), v.get("etcd_storage_label")
    longest = LABEL_MAX.get(str(fstype), min(LABEL_MAX.values()))
    if not isinstance(label, str) or not 0 < len(label) <= longest:
        out.append(_problem("etcd_storage_label", label, f"must be 1 to {longest} characters for {fstype}",
                            "choose a shorter label"))
    mount = _abs_path(v.get("etcd_storage_mount_point"))
    if mount is None or mount == "/":
        out.append(_problem("etcd_storage_mount_point", v.get("etcd_storage_mount_point"),
                            "must be an absolute path other than /", "e.g. /var/lib/etcd"))
    data_dir = _abs_path(v.get("etcd_storage_data_dir"))
    if data_dir is None or (mount not in (None, "/") and not data_dir.startswith(mount + "/")):
        below = f"below etcd_storage_mount_point {mount}" if mount not in (None, "/") else "an absolute path"
        out.append(_problem("etcd_storage_data_dir", v.get("etcd_storage_data_dir"), f"must be {below}",
                            "kubeadm refuses a data dir that holds lost+found; use a subdirectory "
                            f"such as {(mount or '/var/lib/etcd').rstrip('/')}/data"))
    options = v.get("etcd_storage_mount_options")
    if not isinstance(options, list) or not options or not all(isinstance(o, str) and o for o in options):
        out.append(_problem("etcd_storage_mount_options", options, "must be a non-empty list of options",
                            "e.g. [noatime]"))
    for name in ("etcd_storage_device", "etcd_storage_format_destroying_existing_data_on"):
        device = v.get(name, "")
        if device != "" and not (isinstance(device, str) and device.startswith("/dev/")):
            out.append(_problem(name, device, "must be a /dev path or empty", "e.g. /dev/nvme1n1"))
    return out


def _port_range(value: Any) -> tuple[int, int] | None:
    match = _PORT_RANGE.match(value) if isinstance(value, str) else None
    if not match:
        return None
    low, high = int(match.group(1)), int(match.group(2))
    return (low, high) if 0 < low <= high <= 65535 else None


def _two_ports(value: Any) -> bool:
    words = value.split() if isinstance(value, str) else value if isinstance(value, list) else None
    return (words is not None and len(words) == 2
            and all(_positive_int(str(w)) is not None and int(str(w)) <= 65535 for w in words)
            and int(str(words[0])) <= int(str(words[1])))


def sysctl_tuning(v: dict[str, Any]) -> list[str]:
    """The sysctl_tuning role's settings."""
    out: list[str] = []
    settings, extra = v.get("sysctl_tuning_settings"), v.get("sysctl_tuning_extra_settings")
    if not (isinstance(settings, dict) and isinstance(extra, dict) and {**settings, **extra}):
        out.append(_problem("sysctl_tuning_settings", settings,
                            "(with sysctl_tuning_extra_settings) must not be empty",
                            "give at least one sysctl key and value"))
    else:
        key = "net.ipv4.ip_local_port_range"
        name = "sysctl_tuning_extra_settings" if key in extra else "sysctl_tuning_settings"
        ports = {**settings, **extra}.get(key)
        if ports is not None and not _two_ports(ports):
            out.append(_problem(f"{name}['{key}']", ports, "must be two ports LOW HIGH",
                                "e.g. \"1024 65000\""))
    path = v.get("sysctl_tuning_path")
    if _abs_path(path) is None or str(path).endswith("/"):
        out.append(_problem("sysctl_tuning_path", path, "must be an absolute file path",
                            "e.g. /etc/sysctl.d/99-k8s-network.conf"))
    nodeports = v.get("sysctl_tuning_nodeport_range")
    if _port_range(nodeports) is None:
        out.append(_problem("sysctl_tuning_nodeport_range", nodeports,
                            "must read LOW-HIGH with LOW <= HIGH <= 65535",
                            "e.g. \"30000-32767\" (kube-apiserver --service-node-port-range)"))
    return out


#: mysql_host variable -> the edgeops.gitops.mysql_tuning argument it feeds, and the fix.
_MYSQL_INPUTS = {
    "memory_mb": ("mysql_host_memory_mb", "gather facts or set it for the host"),
    "vcpus": ("mysql_host_vcpus", "gather facts or set it for the host"),
    "disk_class": ("mysql_host_disk_class", "choose one of them"),
    "flavour": ("mysql_host_flavour", "choose one of them"),
    "io_capacity": ("mysql_host_io_capacity", "0 computes it, or give the disk's measured random-write IOPS"),
}


def _digits(value: Any) -> Any:
    """What the role hands the filter: digit strings become numbers (as ``| int`` would)."""
    return int(value) if isinstance(value, str) and value.strip().lstrip("-").isdigit() else value


def mysql_host(v: dict[str, Any]) -> list[str]:
    """The mysql_host role's settings, by the rules of the edgeops.gitops.mysql_tuning filter."""
    io = _digits(v.get("mysql_host_io_capacity", 0))
    found = input_problems(_digits(v.get("mysql_host_memory_mb")), _digits(v.get("mysql_host_vcpus")),
                           v.get("mysql_host_disk_class", "ssd"), v.get("mysql_host_flavour", "mariadb"),
                           io or None)
    out: list[str] = []
    for argument, message in found:
        name, fix = _MYSQL_INPUTS[argument]
        out.append(f"{name}{message[len(argument):]}; {fix}")
    version = v.get("mysql_host_version", "")
    if not isinstance(version, str):
        try:
            mysql_version(version)
        except TuningError as exc:
            out.append(f"mysql_host_{exc}")
    return out


def kubeadm(v: dict[str, Any]) -> list[str]:
    """The kubeadm role's settings and inventory (the kubeadm_config filter checks the networks)."""
    out: list[str] = []
    version = v.get("kubeadm_kubernetes_version")
    minor = None
    try:
        minor = parse_version(version)[1]
    except KubeadmConfigError as exc:
        out.append(f"kubeadm_kubernetes_version: {exc}")
    if minor is not None and "kubeadm_container_runtime" in v:
        try:
            container_runtime(version, v["kubeadm_container_runtime"])
        except KubeadmConfigError as exc:
            out.append(f"kubeadm_container_runtime: {exc}")
    control_planes = v.get("control_planes") or []
    if not control_planes:
        out.append(_problem("kubeadm_control_plane_group", v.get("kubeadm_control_plane_group"),
                            "names an empty or missing inventory group",
                            "put the control-plane hosts in it, or name their group"))
    elif control_planes[0] not in (v.get("play_hosts") or []):
        out.append(f"the first control plane {control_planes[0]} (group "
                   f"{v.get('kubeadm_control_plane_group')}) is not in this play; run the role on the "
                   "whole cluster")
    host = v.get("inventory_hostname")
    if host not in control_planes and host not in (v.get("workers") or []):
        out.append(f"{host} is in neither {v.get('kubeadm_control_plane_group')} nor "
                   f"{v.get('kubeadm_worker_group')}; add it to one of them or leave it out of the play")
    if len(control_planes) > 1:
        if minor is not None and minor < CONTROL_PLANE_JOIN_MINOR:
            out.append(_problem("kubeadm_kubernetes_version", version,
                                f"cannot join {len(control_planes)} control planes (kubeadm "
                                f"1.{CONTROL_PLANE_JOIN_MINOR} or newer uploads the certificate key)",
                                f"use 1.{CONTROL_PLANE_JOIN_MINOR} or newer, or one control plane"))
        if not v.get("kubeadm_control_plane_endpoint"):
            out.append(_problem("kubeadm_control_plane_endpoint", v.get("kubeadm_control_plane_endpoint"),
                                f"is required for {len(control_planes)} control planes",
                                "set it to the HOST[:PORT] of the load balancer in front of them"))
    return out


CHECKS: dict[str, Callable[[dict[str, Any]], list[str]]] = {
    "etcd_storage": etcd_storage,
    "kubeadm": kubeadm,
    "mysql_host": mysql_host,
    "sysctl_tuning": sysctl_tuning,
}


def problems(role: str, values: Any) -> list[str]:
    """One line per wrong setting of ``role`` (empty when all are right)."""
    if role not in CHECKS:
        raise ValueError(f"role {role!r} has no settings check; known roles: {', '.join(sorted(CHECKS))}")
    if not isinstance(values, dict):
        raise ValueError(f"the settings of {role} must be a dict of variable: value, "
                         f"got {type(values).__name__}")
    return CHECKS[role](values)


#: The ``settings_check`` option of the modules each role reads its host with (etcd_disk,
#: kubeadm_node, mysql_host_state, sysctl_profile; documented by the doc fragment
#: ``edgeops.gitops.attributes.SETTINGS_CHECK``): what the role's settings check found wrong on
#: the controller.  The check and the read are one task, so a check run costs one call per role.
SETTINGS_CHECK_OPTION: dict[str, Any] = {
    "type": "dict",
    "options": {
        "role": {"type": "str", "required": True, "choices": sorted(CHECKS)},
        "problems": {"type": "list", "elements": "str", "default": []},
    },
}


def refusal(role: str, found: list[str]) -> str:
    """The error a role stops with when its settings are wrong (all of ``found`` at once)."""
    return f"{role} settings are not usable: {'; '.join(found)}. Nothing was changed."


def refuse_wrong_settings(module: Any) -> None:
    """Fail ``module`` (an AnsibleModule) with :func:`refusal` when its settings_check found problems.

    Called first thing, before the module reads or changes anything."""
    check = module.params.get("settings_check")
    if check and check["problems"]:
        module.fail_json(msg=refusal(check["role"], check["problems"]))
