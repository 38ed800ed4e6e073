# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Version-neutral kubeadm configuration -> the documents each kubeadm reads.

Pure logic, no Ansible imports: used by the ``edgeops.gitops.kubeadm_config``
filter and unit-tested directly.  Field names follow upstream kubeadm's Go
types, ``cmd/kubeadm/app/apis/kubeadm/<version>/types.go`` (the field schemas in
``tests/standin/kubeadm-schemas.yaml`` cite the file per version).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name


class KubeadmApi(NamedTuple):
    """One kubeadm config apiVersion and the shape of the documents it reads.

    Field names and kinds follow ``cmd/kubeadm/app/apis/kubeadm/<version>/types.go`` at the tag
    each entry of ``tests/standin/kubeadm-schemas.yaml`` cites.
    """

    first: int  #: first Kubernetes 1.x minor that reads it natively
    last: int  #: last minor rendered with it
    version: str  #: v1alpha1 ... v1beta4
    # The document shapes; the defaults are the v1beta* shape, each row says how it differs.
    master_config: bool = False  #: MasterConfiguration/NodeConfiguration (init and cluster in one)
    endpoint: str = "localAPIEndpoint"  #: the field holding the node's advertiseAddress/bindPort
    node_registration: bool = True  #: nodeRegistration (with kubeletExtraArgs); 1.10 has none
    cluster_name: str = "after-version"  #: clusterName's place: "" (no such field), "after-etcd"
    etcd_local: bool = True  #: etcd.local.dataDir rather than etcd.dataDir
    component_blocks: bool = True  #: apiServer/controllerManager/scheduler blocks, not *ExtraArgs
    extra_args_list: bool = False  #: extraArgs as a list of {name, value} ([]Arg), not a map
    discovery_nested: bool = True  #: discovery.bootstrapToken, not discoveryTokenAPIServers
    tls_bootstrap_token: bool = False  #: discovery.tlsBootstrapToken has no omitempty (v1beta1)
    certificate_key: bool = True  #: controlPlane.certificateKey: more control planes can join

    @property
    def api_version(self) -> str:
        return "kubeadm.k8s.io/" + self.version


#: THE table: each Kubernetes minor reads the apiVersion of the row it falls in.  1.35 and 1.36
#: read kubeadm.k8s.io/v1beta4 (kubernetes/kubernetes tags v1.35.0 and v1.36.0,
#: cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go; v1beta5 does not exist there).  Minors newer
#: than the last row are rendered with the last row (see :func:`newer_than_known`).
_ALPHA = {"component_blocks": False, "discovery_nested": False, "certificate_key": False}
APIS = (
    KubeadmApi(10, 10, "v1alpha1", master_config=True, endpoint="api", node_registration=False,
               cluster_name="", etcd_local=False, **_ALPHA),
    KubeadmApi(11, 11, "v1alpha2", master_config=True, endpoint="api", cluster_name="after-etcd", **_ALPHA),
    KubeadmApi(12, 12, "v1alpha3", endpoint="apiEndpoint", cluster_name="after-etcd", **_ALPHA),
    KubeadmApi(13, 14, "v1beta1", tls_bootstrap_token=True, certificate_key=False),
    KubeadmApi(15, 21, "v1beta2"),
    KubeadmApi(22, 30, "v1beta3"),
    KubeadmApi(31, 36, "v1beta4", extra_args_list=True),
)

#: Oldest and newest Kubernetes minor releases this renderer knows (from the table).
OLDEST = (1, APIS[0].first)
NEWEST = (1, APIS[-1].last)
SUPPORTED = f"1.{OLDEST[1]} through 1.{NEWEST[1]}"
#: Oldest minor whose kubeadm can join additional control planes (uploaded certificate key).
CONTROL_PLANE_JOIN_MINOR = next(api.first for api in APIS if api.certificate_key)


def api_for(minor: int) -> KubeadmApi:
    """The table row Kubernetes 1.``minor`` is rendered with (the newest row beyond the table)."""
    return next((api for api in APIS if api.first <= minor <= api.last), APIS[-1])


ROLES = ("init", "join", "control-plane-join", "kubelet-flags")

#: Container runtimes the kubeadm role installs and configures.
RUNTIMES = ("docker", "containerd")
#: Last Kubernetes 1.x minor whose kubelet has dockershim (removed in 1.24, kubernetes PR #97252):
#: up to it the role runs Docker (Debian's docker.io), from the next one containerd.
DOCKERSHIM_LAST_MINOR = 23
#: The CRI socket kubeadm is given per runtime (nodeRegistration.criSocket).  Docker: dockershim's, named,
#: because docker's own containerd socket is there too and kubeadm refuses to choose; containerd: none,
#: kubeadm detects it.
CRI_SOCKETS = {"docker": "/var/run/dockershim.sock", "containerd": ""}


def container_runtime(version: Any, choice: Any = "auto") -> str:
    """The container runtime for Kubernetes ``version``: THE rule, shared by filter, module and role.

    ``auto``: Docker (dockershim) up to 1.23, containerd from 1.24 on.  ``docker`` or ``containerd``
    force one; Docker is refused from 1.24 on (its kubelet has no dockershim).
    """
    minor = parse_version(version)[1]
    if choice in (None, "", "auto"):
        return "docker" if minor <= DOCKERSHIM_LAST_MINOR else "containerd"
    if choice not in RUNTIMES:
        raise KubeadmConfigError(
            f"container runtime {choice!r} is not one of auto, {', '.join(RUNTIMES)}"
        )
    if choice == "docker" and minor > DOCKERSHIM_LAST_MINOR:
        raise KubeadmConfigError(
            f"container runtime 'docker' cannot run Kubernetes {version}: its kubelet has no "
            f"dockershim (removed in 1.{DOCKERSHIM_LAST_MINOR + 1}); use containerd or auto"
        )
    return str(choice)


def cri_socket(version: Any, choice: Any = "auto") -> str:
    """The CRI socket kubeadm is given for the runtime of ``version`` (empty: kubeadm detects it)."""
    return CRI_SOCKETS[container_runtime(version, choice)]


#: First Kubernetes 1.x minor whose kubeadm sets the kubelet's cgroup driver to systemd (cgroupfs before).
SYSTEMD_CGROUP_MINOR = 22


def cgroup_driver(version: Any) -> str:
    """The kubelet's cgroup driver kubeadm configures for ``version``; the runtime must use the same."""
    return "systemd" if parse_version(version)[1] >= SYSTEMD_CGROUP_MINOR else "cgroupfs"


#: The files the kubeadm role writes on a node, by purpose: (path, mode).
NODE_FILES = {
    "modules_load": ("/etc/modules-load.d/kubeadm.conf", "0644"),
    "containerd": ("/etc/containerd/config.toml", "0644"),
    "docker_daemon": ("/etc/docker/daemon.json", "0644"),
    "kubelet_dropin": ("/etc/systemd/system/kubelet.service.d/20-edgeops-node-ip.conf", "0644"),
    "init_config": ("/etc/kubernetes/kubeadm-init.yaml", "0600"),
}


def _version_tag(version: Any) -> str:
    text = str(version)
    return "v" + (text[1:] if text.startswith("v") else text)


def _containerd_config(version: Any, managed: str) -> str:
    driver = cgroup_driver(version)
    why = "kubeadm default since 1.22" if driver == "systemd" else "kubeadm default before 1.22"
    return (
        f"# {managed}\n"
        f"# containerd for Kubernetes {_version_tag(version)}: the kubelet's cgroup driver is\n"
        f"# {driver} ({why}).\n"
        "version = 2\n"
        "\n"
        "[plugins]\n"
        '  [plugins."io.containerd.grpc.v1.cri"]\n'
        '    [plugins."io.containerd.grpc.v1.cri".cni]\n'
        '      bin_dir = "/usr/lib/cni"\n'
        '      conf_dir = "/etc/cni/net.d"\n'
        '    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n'
        '      runtime_type = "io.containerd.runc.v2"\n'
        '      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
        f"        SystemdCgroup = {'true' if driver == 'systemd' else 'false'}\n"
        '  [plugins."io.containerd.internal.v1.opt"]\n'
        '    path = "/var/lib/containerd/opt"\n'
    )


def _docker_daemon(version: Any) -> str:
    return (
        "{\n"
        f'  "exec-opts": ["native.cgroupdriver={cgroup_driver(version)}"],\n'
        '  "log-driver": "json-file",\n'
        '  "log-opts": {"max-size": "100m"}\n'
        "}\n"
    )


def _kubelet_dropin(version: Any, flags: dict[str, str], managed: str) -> str:
    joined = " ".join(f"--{k}={v}" for k, v in flags.items())
    return (
        f"# {managed}\n"
        f"# kubeadm {_version_tag(version)} configuration cannot carry kubelet flags (no nodeRegistration\n"
        "# before 1.11): the node IP and extra flags reach the kubelet through its unit.\n"
        "[Service]\n"
        f'Environment="KUBELET_EXTRA_ARGS={joined}"\n'
    )


def node_files(
    version: Any,
    *,
    runtime: str,
    configure_containerd: bool,
    modules: list[str],
    kubelet_flags: dict[str, str],
    init_content: str | None,
    managed: str,
) -> dict[str, dict[str, str]]:
    """The files of a node, by purpose (:data:`NODE_FILES`): ``{path, content, mode}``, only those it needs.

    ``runtime`` is :func:`container_runtime`'s answer; containerd's configuration is written only
    when the role configures containerd, Docker's daemon.json only with Docker; the kubelet drop-in
    only where kubeadm's documents cannot carry the kubelet flags (``kubelet_flags`` of
    :func:`render`); the init configuration only on the first control plane (``init_content``,
    the documents as YAML, rendered by the caller).
    """
    contents = {
        "modules_load": "# Managed by edgeops.gitops.kubeadm: container runtime and kube-proxy need these.\n"
        + "".join(f"{name}\n" for name in modules),
        "containerd": _containerd_config(version, managed)
        if runtime == "containerd" and configure_containerd
        else None,
        "docker_daemon": _docker_daemon(version) if runtime == "docker" else None,
        "kubelet_dropin": _kubelet_dropin(version, kubelet_flags, managed) if kubelet_flags else None,
        "init_config": init_content,
    }
    return {
        purpose: {"path": NODE_FILES[purpose][0], "content": content, "mode": NODE_FILES[purpose][1]}
        for purpose, content in contents.items()
        if content is not None
    }


DEFAULTS: dict[str, Any] = {
    "bind_port": 6443,
    "pod_subnet": "10.244.0.0/16",
    "service_subnet": "10.96.0.0/12",
    "dns_domain": "cluster.local",
    "cert_sans": [],
    "kubelet_extra_args": {},
    "apiserver_extra_args": {},
    "controller_manager_extra_args": {},
    "scheduler_extra_args": {},
    "etcd_data_dir": "/var/lib/etcd",
    "image_repository": "",
    "cluster_name": "kubernetes",
    "control_plane_endpoint": "",
    "cri_socket": "",
    "kubelet_config": {},
}

KNOWN_KEYS = set(DEFAULTS) | {
    "advertise_address",
    "node_name",
    "kubelet_node_ip",
    "host_addresses",
    "join",
}
JOIN_KEYS = {"command", "api_server_endpoint", "token", "ca_cert_hashes", "certificate_key"}

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?([-+][0-9A-Za-z.+-]*)?$")
_TOKEN = re.compile(r"^[a-z0-9]{6}\.[a-z0-9]{16}$")
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_CERT_KEY = re.compile(r"^[0-9a-f]{64}$")


_T = TypeVar("_T")


class KubeadmConfigError(ValueError):
    """Bad input for the renderer; the message says what and how to fix it."""


def _not_a_version(version: Any, why: str) -> KubeadmConfigError:
    return KubeadmConfigError(
        f"Kubernetes version {version!r} ({type_name(version)}) is not a version: {why}"
    )


def split_version(version: Any) -> tuple[tuple[int, int, int], str]:
    """``'v1.31.0-rc.1'`` -> ((1, 31, 0), '-rc.1'); any 1.x minor, older or newer than the table.

    A float is refused with the fix: YAML reads an unquoted ``1.10`` as the number 1.1.
    """
    if isinstance(version, float):
        raise _not_a_version(
            version, f"YAML read an unquoted version as a number (1.10 becomes {1.1!r}); quote it, "
            "e.g. kubeadm_kubernetes_version: \"1.10.13\""
        )
    match = _VERSION.match(version.strip()) if isinstance(version, str) else None
    if not match:
        raise _not_a_version(version, f"expected MAJOR.MINOR[.PATCH], supported releases are {SUPPORTED}")
    major, minor, patch = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    return (major, minor, patch), match.group(4) or ""


def parse_version(version: Any) -> tuple[int, int, int]:
    """``'1.10.13'``/``'v1.34'`` -> (1, 10, 13); raise KubeadmConfigError otherwise.

    Minors newer than :data:`NEWEST` are accepted (see :func:`newer_than_known`): a user is
    never blocked the day a release comes out.
    """
    (major, minor, patch), _suffix = split_version(version)
    if major != OLDEST[0] or minor < OLDEST[1]:
        raise KubeadmConfigError(
            f"Kubernetes version {version!r} is not supported: supported releases are {SUPPORTED}"
        )
    return major, minor, patch


#: pkgs.k8s.io serves Kubernetes 1.24 and later; the older apt.kubernetes.io repositories are gone.
PKGS_K8S_IO_OLDEST_MINOR = 24


def pinned_problem(installed: dict[str, str], version: str, repository: str) -> str:
    """Why the node's binaries cannot be of the pinned release ``version`` (``'v1.34.1'``), or ``''``.

    ``installed`` is what the node has (``'missing'``, a version, ``'present'`` for kubectl). This
    role does not upgrade: an installed kubeadm or kubelet of another release is refused. Missing
    binaries must come from somewhere: ``repository`` (the role's kubeadm_package_repository) or
    pkgs.k8s.io, which only serves :data:`PKGS_K8S_IO_OLDEST_MINOR` and later.
    """
    if any(installed[name] not in ("missing", version) for name in ("kubeadm", "kubelet")):
        return (
            f"installed kubeadm {installed['kubeadm']} / kubelet {installed['kubelet']} differ from "
            f"kubeadm_kubernetes_version {version}; upgrade with kubeadm upgrade, or set "
            "kubeadm_kubernetes_version to the installed release."
        )
    complete = installed["kubectl"] == "present" and installed["kubeadm"] == installed["kubelet"] == version
    minor = parse_version(version)[1]
    if complete or repository or minor >= PKGS_K8S_IO_OLDEST_MINOR:
        return ""
    return (
        f"kubeadm/kubelet/kubectl {version} are not installed on this node and pkgs.k8s.io only serves "
        f"Kubernetes 1.{PKGS_K8S_IO_OLDEST_MINOR} and later (the old apt.kubernetes.io repositories that "
        f"had 1.{minor} no longer exist). Set kubeadm_package_repository (and "
        "kubeadm_package_repository_key_url) to a repository that has them, or install the binaries of "
        "that version before running the role."
    )


def newer_than_known(version: Any) -> str:
    """A warning when ``version`` is newer than the table, else ``''``.

    Policy: a newer 1.x minor is rendered with the newest known apiVersion, because kubeadm keeps
    reading an apiVersion for at least three releases after its successor appears (kubernetes PR
    #125029, the v1.31 release note enabling v1beta4: "v1beta3 is now marked as deprecated but will
    continue to be supported until version 1.34 or later"); the warning says so and how to be sure.
    """
    minor = parse_version(version)[1]
    if minor <= NEWEST[1]:
        return ""
    return (
        f"Kubernetes {version} is newer than the releases this collection knows ({SUPPORTED}); "
        f"rendering {APIS[-1].api_version}, the newest kubeadm API known. Check the result with "
        "'kubeadm config validate --config FILE' and upgrade edgeops.gitops when a new API appears"
    )


def parse_join_command(command: str) -> dict[str, Any]:
    """Fields of ``kubeadm token create --print-join-command`` output.

    Never echoes the command (it holds a secret) in an error.
    """
    if not isinstance(command, str):
        raise KubeadmConfigError(f"join.command must be a string, got {type_name(command)}")
    words = command.split()
    if len(words) < 3 or words[1] != "join" or not words[0].endswith("kubeadm"):
        raise KubeadmConfigError(
            "join.command is not the output of 'kubeadm token create --print-join-command' "
            "(expected 'kubeadm join ENDPOINT --token ... --discovery-token-ca-cert-hash ...')"
        )
    out: dict[str, Any] = {"ca_cert_hashes": []}
    i = 2
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, value = ([*word[2:].split("=", 1), ""])[:2]
            if not value and name != "control-plane" and i + 1 < len(words):
                i += 1
                value = words[i]
            if name == "token":
                out["token"] = value
            elif name == "discovery-token-ca-cert-hash":
                out["ca_cert_hashes"].append(value)
            elif name == "certificate-key":
                out["certificate_key"] = value
        elif "api_server_endpoint" not in out:
            out["api_server_endpoint"] = word
        i += 1
    return out


def _cidr(name: str, value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise KubeadmConfigError(f"{name} must be a CIDR string, got {type_name(value)}: {value!r}")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise KubeadmConfigError(f"{name} {value!r} is not a valid network (CIDR): {exc}") from exc


def _ip(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise KubeadmConfigError(
            f"{name} must be an IP address string, got {type_name(value)}: {value!r}"
        )
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise KubeadmConfigError(f"{name} {value!r} is not an IP address") from exc


def _args(name: str, value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise KubeadmConfigError(f"{name} must be a dict of flag: value, got {type_name(value)}")
    out: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not key or key.startswith("-"):
            raise KubeadmConfigError(f"{name}: flag name {key!r} must be a string without leading dashes")
        if isinstance(val, (dict, list)) or val is None:
            raise KubeadmConfigError(f"{name}.{key} must be a scalar, got {type_name(val)}")
        out[key] = str(val).lower() if isinstance(val, bool) else str(val)
    return out


def normalize(spec: Any) -> dict[str, Any]:
    """Validate the version-neutral spec and fill defaults; raise KubeadmConfigError.

    Every wrong key is reported at once (one ``; ``-separated message), and only those.
    """
    if not isinstance(spec, dict):
        raise KubeadmConfigError(f"spec must be a dict, got {type_name(spec)}: {spec!r}")
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise KubeadmConfigError(
            f"unknown spec keys {unknown}; known keys: {sorted(KNOWN_KEYS)}"
        )
    s: dict[str, Any] = {**DEFAULTS, **{k: v for k, v in spec.items() if v is not None}}
    if "advertise_address" not in s:
        raise KubeadmConfigError(
            "advertise_address is required (the host's private address: "
            "ansible_facts | edgeops.gitops.private_address)"
        )
    errors: list[str] = []

    def check(function: Callable[..., _T], *args: Any) -> _T | None:
        try:
            return function(*args)
        except KubeadmConfigError as exc:
            errors.append(str(exc))
            return None

    s["advertise_address"] = check(_ip, "advertise_address", s["advertise_address"])
    node_ip = s.get("kubelet_node_ip") or s["advertise_address"]
    s["kubelet_node_ip"] = check(_ip, "kubelet_node_ip", node_ip) if node_ip is not None else None
    port = s["bind_port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        errors.append(f"bind_port must be an integer 1-65535, got {port!r}")
    pod = check(_cidr, "pod_subnet", s["pod_subnet"])
    svc = check(_cidr, "service_subnet", s["service_subnet"])
    if pod and svc and pod.version == svc.version and pod.overlaps(svc):
        errors.append(f"pod_subnet {pod} overlaps service_subnet {svc}: choose disjoint networks")
    addresses = [(n, s[n]) for n in ("advertise_address", "kubelet_node_ip") if s[n] is not None]
    for addr_name, addr_text in addresses:
        addr = ipaddress.ip_address(addr_text)
        for net_name, net in (("pod_subnet", pod), ("service_subnet", svc)):
            if net is not None and addr.version == net.version and addr in net:
                errors.append(
                    f"{addr_name} {addr} lies inside {net_name} {net}: the node network and the "
                    "cluster networks must not overlap"
                )
    if s.get("host_addresses") is not None:
        host = s["host_addresses"]
        if not isinstance(host, list):
            errors.append(f"host_addresses must be a list, got {type_name(host)}")
        else:
            for addr_name, addr_text in addresses:
                if addr_text not in host:
                    errors.append(
                        f"{addr_name} {addr_text} is not an address of this host "
                        f"(host addresses: {', '.join(map(str, host)) or 'none'})"
                    )
    if not isinstance(s["dns_domain"], str) or not _DNS1123.match(s["dns_domain"]):
        errors.append(f"dns_domain {s['dns_domain']!r} is not a DNS domain: use lowercase letters, digits, "
                      "'-' and '.', e.g. cluster.local")
    node = s.get("node_name")
    if node is not None and (not isinstance(node, str) or not _DNS1123.match(node) or len(node) > 253):
        errors.append(f"node_name {node!r} is not a lowercase RFC 1123 name: use lowercase letters, "
                      "digits, '-' and '.'")
    if not isinstance(s["cert_sans"], list) or not all(isinstance(x, str) for x in s["cert_sans"]):
        errors.append(f"cert_sans must be a list of strings, got {s['cert_sans']!r}")
    for key in ("kubelet_extra_args", "apiserver_extra_args", "controller_manager_extra_args",
                "scheduler_extra_args"):
        s[key] = check(_args, key, s[key]) or {}
    if "node-ip" in s["kubelet_extra_args"]:
        errors.append("set kubelet_node_ip, not kubelet_extra_args['node-ip']")
    if not isinstance(s["kubelet_config"], dict) or not all(isinstance(k, str) for k in s["kubelet_config"]):
        errors.append("kubelet_config must be a dict of KubeletConfiguration fields, "
                      f"got {s['kubelet_config']!r}")
    elif {"apiVersion", "kind"} & set(s["kubelet_config"]):
        errors.append("kubelet_config: leave out apiVersion and kind (the renderer sets them)")
    for key in ("etcd_data_dir", "image_repository", "cluster_name", "control_plane_endpoint", "cri_socket"):
        if not isinstance(s[key], str):
            errors.append(f"{key} must be a string, got {type_name(s[key])}")
    if isinstance(s["etcd_data_dir"], str) and not s["etcd_data_dir"].startswith("/"):
        errors.append(f"etcd_data_dir {s['etcd_data_dir']!r} must be an absolute path, e.g. /var/lib/etcd")
    if errors:
        raise KubeadmConfigError("; ".join(errors))
    return s


def _join_fields(s: dict[str, Any], control_plane: bool) -> dict[str, Any]:
    join = s.get("join")
    if not isinstance(join, dict):
        raise KubeadmConfigError(
            "join is required to render join documents: {command: <kubeadm token create "
            "--print-join-command output>} or {api_server_endpoint, token, ca_cert_hashes}"
        )
    unknown = sorted(set(join) - JOIN_KEYS)
    if unknown:
        raise KubeadmConfigError(f"unknown join keys {unknown}; known keys: {sorted(JOIN_KEYS)}")
    fields = dict(join)
    if fields.get("command"):
        fields = {**parse_join_command(fields.pop("command")), **{k: v for k, v in fields.items() if v}}
    token = fields.get("token")
    if not isinstance(token, str) or not _TOKEN.match(token):
        raise KubeadmConfigError(
            "join token is missing or not a bootstrap token ([a-z0-9]{6}.[a-z0-9]{16}); not shown"
        )
    hashes = fields.get("ca_cert_hashes") or []
    if isinstance(hashes, str):
        hashes = [hashes]
    if not hashes or not all(isinstance(h, str) and _HASH.match(h) for h in hashes):
        raise KubeadmConfigError(
            f"join ca_cert_hashes must be a non-empty list of sha256:<64 hex>, got {hashes!r}"
        )
    endpoint = fields.get("api_server_endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        raise KubeadmConfigError("join api_server_endpoint (HOST:PORT of the API server) is required")
    key = fields.get("certificate_key")
    if control_plane and (not isinstance(key, str) or not _CERT_KEY.match(key)):
        raise KubeadmConfigError(
            "control-plane join needs join.certificate_key (64 hex digits from "
            "'kubeadm init phase upload-certs --upload-certs')"
        )
    return {"token": token, "hashes": list(hashes), "endpoint": endpoint, "certificate_key": key}


def _extra(args: dict[str, str], as_list: bool) -> list[dict[str, str]] | dict[str, str]:
    if as_list:
        return [{"name": k, "value": v} for k, v in sorted(args.items())]
    return dict(sorted(args.items()))


def _kubelet_args(s: dict[str, Any]) -> dict[str, str]:
    return {"node-ip": s["kubelet_node_ip"], **s["kubelet_extra_args"]}


def _node_fields(api: KubeadmApi, s: dict[str, Any]) -> dict[str, Any]:
    """The node's name, CRI socket and kubelet flags: in nodeRegistration where the API has it."""
    reg: dict[str, Any] = {}
    if s.get("node_name"):
        reg["nodeName" if not api.node_registration else "name"] = s["node_name"]
    if s["cri_socket"]:
        reg["criSocket"] = s["cri_socket"]
    if not api.node_registration:  # kubeadm 1.10: top-level fields, kubelet flags go elsewhere
        return reg
    reg["kubeletExtraArgs"] = _extra(_kubelet_args(s), api.extra_args_list)
    return {"nodeRegistration": reg}


def _endpoint(s: dict[str, Any]) -> dict[str, Any]:
    return {"advertiseAddress": s["advertise_address"], "bindPort": s["bind_port"]}


def _cluster_document(api: KubeadmApi, s: dict[str, Any], kube_version: str) -> dict[str, Any]:
    """MasterConfiguration (1.10, 1.11) or ClusterConfiguration: what the whole cluster shares."""
    doc: dict[str, Any] = {
        "apiVersion": api.api_version,
        "kind": "MasterConfiguration" if api.master_config else "ClusterConfiguration",
        "kubernetesVersion": kube_version,
    }
    if api.master_config:
        if api.node_registration:
            doc.update(_node_fields(api, s))
        doc[api.endpoint] = _endpoint(s)
        if s["control_plane_endpoint"]:
            doc[api.endpoint]["controlPlaneEndpoint"] = s["control_plane_endpoint"]
    if api.cluster_name == "after-version":
        doc["clusterName"] = s["cluster_name"]
    doc["networking"] = {
        "podSubnet": s["pod_subnet"],
        "serviceSubnet": s["service_subnet"],
        "dnsDomain": s["dns_domain"],
    }
    data_dir = {"dataDir": s["etcd_data_dir"]}
    doc["etcd"] = {"local": data_dir} if api.etcd_local else data_dir
    if not api.node_registration:
        doc.update(_node_fields(api, s))
    if api.cluster_name == "after-etcd":
        doc["clusterName"] = s["cluster_name"]
    if s["control_plane_endpoint"] and not api.master_config:
        doc["controlPlaneEndpoint"] = s["control_plane_endpoint"]
    components = (("apiServer", "apiserver_extra_args"),
                  ("controllerManager", "controller_manager_extra_args"),
                  ("scheduler", "scheduler_extra_args"))
    if api.component_blocks:
        for field, key in components:
            block: dict[str, Any] = {}
            if field == "apiServer" and s["cert_sans"]:
                block["certSANs"] = list(s["cert_sans"])
            if s[key]:
                block["extraArgs"] = _extra(s[key], api.extra_args_list)
            if block:
                doc[field] = block
    else:
        if s["cert_sans"]:
            doc["apiServerCertSANs"] = list(s["cert_sans"])
        for field, key in components:
            if s[key]:
                doc[field + "ExtraArgs"] = _extra(s[key], False)
    if s["image_repository"]:
        doc["imageRepository"] = s["image_repository"]
    return doc


#: First minor whose kubeadm reads a KubeletConfiguration document beside its own (v1alpha3, 1.12).
KUBELET_CONFIG_MINOR = 12


def _init_documents(api: KubeadmApi, s: dict[str, Any], kube_version: str) -> list[dict[str, Any]]:
    cluster = _cluster_document(api, s, kube_version)
    if api.master_config:
        return [cluster]
    init: dict[str, Any] = {"apiVersion": api.api_version, "kind": "InitConfiguration",
                            **_node_fields(api, s), api.endpoint: _endpoint(s)}
    docs = [init, cluster]
    if s["kubelet_config"]:
        # The cluster's kubelet configuration: kubeadm init uploads it (ConfigMap kubelet-config-1.N)
        # and every joining node's kubelet reads it from there.
        docs.append({"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
                     **dict(sorted(s["kubelet_config"].items()))})
    return docs


def _join_document(api: KubeadmApi, s: dict[str, Any], join: dict[str, Any],
                   control_plane: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"apiVersion": api.api_version,
                           "kind": "NodeConfiguration" if api.master_config else "JoinConfiguration"}
    if api.node_registration:
        doc.update(_node_fields(api, s))
    if api.discovery_nested:
        doc["discovery"] = {"bootstrapToken": {"apiServerEndpoint": join["endpoint"], "token": join["token"],
                                               "caCertHashes": join["hashes"]}}
        if api.tls_bootstrap_token:
            # v1beta1 Discovery.TLSBootstrapToken and unsafeSkipCAVerification carry no omitempty;
            # kubeadm defaults the former from the discovery token.
            doc["discovery"]["tlsBootstrapToken"] = join["token"]
    else:
        doc.update(token=join["token"], discoveryTokenAPIServers=[join["endpoint"]],
                   discoveryTokenCACertHashes=join["hashes"])
    if not api.node_registration:
        doc.update(_node_fields(api, s))
    if control_plane:
        doc["controlPlane"] = {api.endpoint: _endpoint(s), "certificateKey": join["certificate_key"]}
    return doc


def render(spec: Any, version: Any, role: str = "init") -> list[dict[str, Any]] | dict[str, str]:
    """Documents (list of dicts) kubeadm ``version`` reads for ``role``.

    ``role='kubelet-flags'`` returns the kubelet flags the documents of that
    version cannot carry (1.10 has no nodeRegistration): a dict to write to
    the kubelet's environment file, empty for every later release.
    """
    if role not in ROLES:
        raise KubeadmConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    minor, patch = parse_version(version)[1:]
    suffix = split_version(version)[1]
    api = api_for(minor)
    s = normalize(spec)
    if role == "kubelet-flags":
        return {} if api.node_registration else _kubelet_args(s)
    join: dict[str, Any] = {}
    control_plane = role == "control-plane-join"
    if role != "init":
        if control_plane and not api.certificate_key:
            raise KubeadmConfigError(
                "joining additional control planes needs kubeadm "
                f"1.{CONTROL_PLANE_JOIN_MINOR} or newer (uploaded certificate key); {version!r} is "
                "older: copy the certificates by hand or upgrade"
            )
        join = _join_fields(s, control_plane)
    # kubeadm 1.10's v1alpha1 has no clusterName (kubernetes PR #60852, in 1.11): its clusters are
    # all named "kubernetes", so any other name is refused rather than silently dropped.
    if not api.cluster_name and s["cluster_name"] != DEFAULTS["cluster_name"]:
        raise KubeadmConfigError(
            f"cluster_name {s['cluster_name']!r} cannot be set for Kubernetes 1.{minor}: kubeadm "
            f"1.{minor} has no clusterName field and always names the cluster "
            f"{DEFAULTS['cluster_name']!r}; leave cluster_name unset for 1.{minor} or use "
            f"1.{minor + 1} or newer"
        )
    # A pre-release or build suffix (1.31.0-rc.1) is part of the release kubeadm must pull.
    kube_version = f"v1.{minor}.{patch}{suffix}"
    if role == "init":
        if s["kubelet_config"] and minor < KUBELET_CONFIG_MINOR:
            raise KubeadmConfigError(
                f"kubelet_config needs kubeadm 1.{KUBELET_CONFIG_MINOR} or newer (a KubeletConfiguration "
                f"document beside kubeadm's); {version!r} is older: pass kubelet flags in kubelet_extra_args"
            )
        return _init_documents(api, s, kube_version)
    return [_join_document(api, s, join, control_plane)]
