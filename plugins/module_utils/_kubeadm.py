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

#: Oldest and newest Kubernetes minor releases this renderer knows.  1.35 and 1.36 read
#: kubeadm.k8s.io/v1beta4 (kubernetes/kubernetes tags v1.35.0 and v1.36.0,
#: cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go; v1beta5 does not exist there).
OLDEST = (1, 10)
NEWEST = (1, 36)
SUPPORTED = "1.10 through 1.36"

#: (first minor, last minor, apiVersion) rendered for each range of releases.
API_VERSIONS = (
    (10, 10, "kubeadm.k8s.io/v1alpha1"),
    (11, 11, "kubeadm.k8s.io/v1alpha2"),
    (12, 12, "kubeadm.k8s.io/v1alpha3"),
    (13, 14, "kubeadm.k8s.io/v1beta1"),
    (15, 21, "kubeadm.k8s.io/v1beta2"),
    (22, 30, "kubeadm.k8s.io/v1beta3"),
    (31, NEWEST[1], "kubeadm.k8s.io/v1beta4"),
)

ROLES = ("init", "join", "control-plane-join", "kubelet-flags")

DEFAULTS = {
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


class KubeadmConfigError(ValueError):
    """Bad input for the renderer; the message says what and how to fix it."""


def _not_a_version(version, why: str) -> KubeadmConfigError:
    return KubeadmConfigError(
        f"Kubernetes version {version!r} ({type(version).__name__}) is not a version: {why}"
    )


def split_version(version) -> tuple[tuple[int, int, int], str]:
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


def parse_version(version) -> tuple[int, int, int]:
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


def newer_than_known(version) -> str:
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
        f"rendering {API_VERSIONS[-1][2]}, the newest kubeadm API known. Check the result with "
        "'kubeadm config validate --config FILE' and upgrade edgeops.gitops when a new API appears"
    )


def api_version_for(version) -> str:
    """The kubeadm config apiVersion that ``version`` reads natively (newest known beyond the table)."""
    minor = parse_version(version)[1]
    for first, last, api in API_VERSIONS:
        if first <= minor <= last:
            return api
    return API_VERSIONS[-1][2]


def parse_join_command(command: str) -> dict:
    """Fields of ``kubeadm token create --print-join-command`` output.

    Never echoes the command (it holds a secret) in an error.
    """
    if not isinstance(command, str):
        raise KubeadmConfigError(f"join.command must be a string, got {type(command).__name__}")
    words = command.split()
    if len(words) < 3 or words[1] != "join" or not words[0].endswith("kubeadm"):
        raise KubeadmConfigError(
            "join.command is not the output of 'kubeadm token create --print-join-command' "
            "(expected 'kubeadm join ENDPOINT --token ... --discovery-token-ca-cert-hash ...')"
        )
    out: dict = {"ca_cert_hashes": []}
    i = 2
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, value = (word[2:].split("=", 1) + [""])[:2]
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


def _cidr(name: str, value) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    if not isinstance(value, str):
        raise KubeadmConfigError(f"{name} must be a CIDR string, got {type(value).__name__}: {value!r}")
    try:
        return ipaddress.ip_network(value, strict=True)
    except ValueError as exc:
        raise KubeadmConfigError(f"{name} {value!r} is not a valid network (CIDR): {exc}") from exc


def _ip(name: str, value) -> str:
    if not isinstance(value, str):
        raise KubeadmConfigError(
            f"{name} must be an IP address string, got {type(value).__name__}: {value!r}"
        )
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as exc:
        raise KubeadmConfigError(f"{name} {value!r} is not an IP address") from exc


def _args(name: str, value) -> dict:
    if not isinstance(value, dict):
        raise KubeadmConfigError(f"{name} must be a dict of flag: value, got {type(value).__name__}")
    out = {}
    for key, val in value.items():
        if not isinstance(key, str) or not key or key.startswith("-"):
            raise KubeadmConfigError(f"{name}: flag name {key!r} must be a string without leading dashes")
        if isinstance(val, (dict, list)) or val is None:
            raise KubeadmConfigError(f"{name}.{key} must be a scalar, got {type(val).__name__}")
        out[key] = str(val).lower() if isinstance(val, bool) else str(val)
    return out


def normalize(spec) -> dict:
    """Validate the version-neutral spec and fill defaults; raise KubeadmConfigError."""
    if not isinstance(spec, dict):
        raise KubeadmConfigError(f"spec must be a dict, got {type(spec).__name__}: {spec!r}")
    unknown = sorted(set(spec) - KNOWN_KEYS)
    if unknown:
        raise KubeadmConfigError(
            f"unknown spec keys {unknown}; known keys: {sorted(KNOWN_KEYS)}"
        )
    s = {**DEFAULTS, **{k: v for k, v in spec.items() if v is not None}}
    if "advertise_address" not in s:
        raise KubeadmConfigError(
            "advertise_address is required (the host's private address: "
            "ansible_facts | edgeops.gitops.private_address)"
        )
    s["advertise_address"] = _ip("advertise_address", s["advertise_address"])
    s["kubelet_node_ip"] = _ip("kubelet_node_ip", s.get("kubelet_node_ip") or s["advertise_address"])
    port = s["bind_port"]
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise KubeadmConfigError(f"bind_port must be an integer 1-65535, got {port!r}")
    pod = _cidr("pod_subnet", s["pod_subnet"])
    svc = _cidr("service_subnet", s["service_subnet"])
    if pod.version == svc.version and pod.overlaps(svc):
        raise KubeadmConfigError(
            f"pod_subnet {pod} overlaps service_subnet {svc}: choose disjoint networks"
        )
    for addr_name in ("advertise_address", "kubelet_node_ip"):
        addr = ipaddress.ip_address(s[addr_name])
        for net_name, net in (("pod_subnet", pod), ("service_subnet", svc)):
            if addr.version == net.version and addr in net:
                raise KubeadmConfigError(
                    f"{addr_name} {addr} lies inside {net_name} {net}: the node network and the "
                    "cluster networks must not overlap"
                )
    if s.get("host_addresses") is not None:
        host = s["host_addresses"]
        if not isinstance(host, list):
            raise KubeadmConfigError(f"host_addresses must be a list, got {type(host).__name__}")
        for addr_name in ("advertise_address", "kubelet_node_ip"):
            if s[addr_name] not in host:
                raise KubeadmConfigError(
                    f"{addr_name} {s[addr_name]} is not an address of this host "
                    f"(host addresses: {', '.join(map(str, host)) or 'none'})"
                )
    if not isinstance(s["dns_domain"], str) or not _DNS1123.match(s["dns_domain"]):
        raise KubeadmConfigError(f"dns_domain {s['dns_domain']!r} is not a DNS domain")
    node = s.get("node_name")
    if node is not None and (not isinstance(node, str) or not _DNS1123.match(node) or len(node) > 253):
        raise KubeadmConfigError(f"node_name {node!r} is not a lowercase RFC 1123 name")
    if not isinstance(s["cert_sans"], list) or not all(isinstance(x, str) for x in s["cert_sans"]):
        raise KubeadmConfigError(f"cert_sans must be a list of strings, got {s['cert_sans']!r}")
    for key in ("kubelet_extra_args", "apiserver_extra_args", "controller_manager_extra_args",
                "scheduler_extra_args"):
        s[key] = _args(key, s[key])
    if "node-ip" in s["kubelet_extra_args"]:
        raise KubeadmConfigError("set kubelet_node_ip, not kubelet_extra_args['node-ip']")
    for key in ("etcd_data_dir", "image_repository", "cluster_name", "control_plane_endpoint", "cri_socket"):
        if not isinstance(s[key], str):
            raise KubeadmConfigError(f"{key} must be a string, got {type(s[key]).__name__}")
    if not s["etcd_data_dir"].startswith("/"):
        raise KubeadmConfigError(f"etcd_data_dir {s['etcd_data_dir']!r} must be an absolute path")
    return s


def _join_fields(s: dict, control_plane: bool) -> dict:
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


def _extra(args: dict, as_list: bool):
    if as_list:
        return [{"name": k, "value": v} for k, v in sorted(args.items())]
    return dict(sorted(args.items()))


def _kubelet_args(s: dict) -> dict:
    return {"node-ip": s["kubelet_node_ip"], **s["kubelet_extra_args"]}


def _node_registration(s: dict, as_list: bool) -> dict:
    reg: dict = {}
    if s.get("node_name"):
        reg["name"] = s["node_name"]
    if s["cri_socket"]:
        reg["criSocket"] = s["cri_socket"]
    reg["kubeletExtraArgs"] = _extra(_kubelet_args(s), as_list)
    return reg


def _render_v1alpha1(s: dict, kube_version: str, role: str, join: dict) -> list:
    # kubeadm 1.10's v1alpha1 has no clusterName (kubernetes PR #60852, in 1.11): its clusters are
    # all named "kubernetes", so any other name is refused rather than silently dropped.
    if s["cluster_name"] != DEFAULTS["cluster_name"]:
        raise KubeadmConfigError(
            f"cluster_name {s['cluster_name']!r} cannot be set for Kubernetes 1.10: kubeadm 1.10 has no "
            f"clusterName field and always names the cluster {DEFAULTS['cluster_name']!r}; leave "
            "cluster_name unset for 1.10 or use 1.11 or newer"
        )
    api = "kubeadm.k8s.io/v1alpha1"
    if role == "init":
        doc: dict = {
            "apiVersion": api,
            "kind": "MasterConfiguration",
            "kubernetesVersion": kube_version,
            "api": {"advertiseAddress": s["advertise_address"], "bindPort": s["bind_port"]},
            "networking": {
                "podSubnet": s["pod_subnet"],
                "serviceSubnet": s["service_subnet"],
                "dnsDomain": s["dns_domain"],
            },
            "etcd": {"dataDir": s["etcd_data_dir"]},
        }
        if s["control_plane_endpoint"]:
            doc["api"]["controlPlaneEndpoint"] = s["control_plane_endpoint"]
        if s.get("node_name"):
            doc["nodeName"] = s["node_name"]
        if s["cri_socket"]:
            doc["criSocket"] = s["cri_socket"]
        if s["cert_sans"]:
            doc["apiServerCertSANs"] = list(s["cert_sans"])
        for key, field in (("apiserver_extra_args", "apiServerExtraArgs"),
                           ("controller_manager_extra_args", "controllerManagerExtraArgs"),
                           ("scheduler_extra_args", "schedulerExtraArgs")):
            if s[key]:
                doc[field] = _extra(s[key], False)
        if s["image_repository"]:
            doc["imageRepository"] = s["image_repository"]
        return [doc]
    doc = {
        "apiVersion": api,
        "kind": "NodeConfiguration",
        "token": join["token"],
        "discoveryTokenAPIServers": [join["endpoint"]],
        "discoveryTokenCACertHashes": join["hashes"],
    }
    if s.get("node_name"):
        doc["nodeName"] = s["node_name"]
    if s["cri_socket"]:
        doc["criSocket"] = s["cri_socket"]
    return [doc]


def _render_v1alpha2(s: dict, kube_version: str, role: str, join: dict) -> list:
    api = "kubeadm.k8s.io/v1alpha2"
    if role == "init":
        doc: dict = {
            "apiVersion": api,
            "kind": "MasterConfiguration",
            "kubernetesVersion": kube_version,
            "nodeRegistration": _node_registration(s, False),
            "api": {"advertiseAddress": s["advertise_address"], "bindPort": s["bind_port"]},
            "networking": {
                "podSubnet": s["pod_subnet"],
                "serviceSubnet": s["service_subnet"],
                "dnsDomain": s["dns_domain"],
            },
            "etcd": {"local": {"dataDir": s["etcd_data_dir"]}},
            "clusterName": s["cluster_name"],
        }
        if s["control_plane_endpoint"]:
            doc["api"]["controlPlaneEndpoint"] = s["control_plane_endpoint"]
        if s["cert_sans"]:
            doc["apiServerCertSANs"] = list(s["cert_sans"])
        for key, field in (("apiserver_extra_args", "apiServerExtraArgs"),
                           ("controller_manager_extra_args", "controllerManagerExtraArgs"),
                           ("scheduler_extra_args", "schedulerExtraArgs")):
            if s[key]:
                doc[field] = _extra(s[key], False)
        if s["image_repository"]:
            doc["imageRepository"] = s["image_repository"]
        return [doc]
    doc = {
        "apiVersion": api,
        "kind": "NodeConfiguration",
        "nodeRegistration": _node_registration(s, False),
        "token": join["token"],
        "discoveryTokenAPIServers": [join["endpoint"]],
        "discoveryTokenCACertHashes": join["hashes"],
    }
    return [doc]


def _cluster_v1alpha3(s: dict, kube_version: str) -> dict:
    doc: dict = {
        "apiVersion": "kubeadm.k8s.io/v1alpha3",
        "kind": "ClusterConfiguration",
        "kubernetesVersion": kube_version,
        "networking": {
            "podSubnet": s["pod_subnet"],
            "serviceSubnet": s["service_subnet"],
            "dnsDomain": s["dns_domain"],
        },
        "etcd": {"local": {"dataDir": s["etcd_data_dir"]}},
        "clusterName": s["cluster_name"],
    }
    if s["control_plane_endpoint"]:
        doc["controlPlaneEndpoint"] = s["control_plane_endpoint"]
    if s["cert_sans"]:
        doc["apiServerCertSANs"] = list(s["cert_sans"])
    for key, field in (("apiserver_extra_args", "apiServerExtraArgs"),
                       ("controller_manager_extra_args", "controllerManagerExtraArgs"),
                       ("scheduler_extra_args", "schedulerExtraArgs")):
        if s[key]:
            doc[field] = _extra(s[key], False)
    if s["image_repository"]:
        doc["imageRepository"] = s["image_repository"]
    return doc


def _render_v1alpha3(s: dict, kube_version: str, role: str, join: dict) -> list:
    api = "kubeadm.k8s.io/v1alpha3"
    endpoint = {"advertiseAddress": s["advertise_address"], "bindPort": s["bind_port"]}
    if role == "init":
        init = {
            "apiVersion": api,
            "kind": "InitConfiguration",
            "nodeRegistration": _node_registration(s, False),
            "apiEndpoint": endpoint,
        }
        return [init, _cluster_v1alpha3(s, kube_version)]
    doc: dict = {
        "apiVersion": api,
        "kind": "JoinConfiguration",
        "nodeRegistration": _node_registration(s, False),
        "token": join["token"],
        "discoveryTokenAPIServers": [join["endpoint"]],
        "discoveryTokenCACertHashes": join["hashes"],
    }
    if role == "control-plane-join":
        doc["controlPlane"] = True
        doc["apiEndpoint"] = endpoint
    return [doc]


def _render_beta(s: dict, kube_version: str, role: str, join: dict, minor: int) -> list:
    """v1beta1 (1.13-1.14), v1beta2 (1.15-1.21), v1beta3 (1.22-1.30), v1beta4 (1.31-)."""
    if minor >= 31:
        beta = "v1beta4"
    elif minor >= 22:
        beta = "v1beta3"
    elif minor >= 15:
        beta = "v1beta2"
    else:
        beta = "v1beta1"
    api = "kubeadm.k8s.io/" + beta
    as_list = beta == "v1beta4"
    endpoint = {"advertiseAddress": s["advertise_address"], "bindPort": s["bind_port"]}
    if role == "init":
        init = {
            "apiVersion": api,
            "kind": "InitConfiguration",
            "nodeRegistration": _node_registration(s, as_list),
            "localAPIEndpoint": endpoint,
        }
        cluster: dict = {
            "apiVersion": api,
            "kind": "ClusterConfiguration",
            "kubernetesVersion": kube_version,
            "clusterName": s["cluster_name"],
            "networking": {
                "podSubnet": s["pod_subnet"],
                "serviceSubnet": s["service_subnet"],
                "dnsDomain": s["dns_domain"],
            },
            "etcd": {"local": {"dataDir": s["etcd_data_dir"]}},
        }
        if s["control_plane_endpoint"]:
            cluster["controlPlaneEndpoint"] = s["control_plane_endpoint"]
        apiserver: dict = {}
        if s["cert_sans"]:
            apiserver["certSANs"] = list(s["cert_sans"])
        if s["apiserver_extra_args"]:
            apiserver["extraArgs"] = _extra(s["apiserver_extra_args"], as_list)
        if apiserver:
            cluster["apiServer"] = apiserver
        if s["controller_manager_extra_args"]:
            cluster["controllerManager"] = {"extraArgs": _extra(s["controller_manager_extra_args"], as_list)}
        if s["scheduler_extra_args"]:
            cluster["scheduler"] = {"extraArgs": _extra(s["scheduler_extra_args"], as_list)}
        if s["image_repository"]:
            cluster["imageRepository"] = s["image_repository"]
        return [init, cluster]
    doc: dict = {
        "apiVersion": api,
        "kind": "JoinConfiguration",
        "nodeRegistration": _node_registration(s, as_list),
        "discovery": {
            "bootstrapToken": {
                "apiServerEndpoint": join["endpoint"],
                "token": join["token"],
                "caCertHashes": join["hashes"],
            },
        },
    }
    if beta == "v1beta1":
        # v1beta1 Discovery.TLSBootstrapToken and unsafeSkipCAVerification carry no omitempty;
        # kubeadm defaults the former from the discovery token.
        doc["discovery"]["tlsBootstrapToken"] = join["token"]
    if role == "control-plane-join":
        cp: dict = {"localAPIEndpoint": endpoint}
        if beta != "v1beta1":
            cp["certificateKey"] = join["certificate_key"]
        doc["controlPlane"] = cp
    return [doc]


def render(spec, version, role: str = "init"):
    """Documents (list of dicts) kubeadm ``version`` reads for ``role``.

    ``role='kubelet-flags'`` returns the kubelet flags the documents of that
    version cannot carry (1.10 has no nodeRegistration): a dict to write to
    the kubelet's environment file, empty for every later release.
    """
    if role not in ROLES:
        raise KubeadmConfigError(f"role {role!r} is not one of {', '.join(ROLES)}")
    minor, patch = parse_version(version)[1:]
    suffix = split_version(version)[1]
    s = normalize(spec)
    if role == "kubelet-flags":
        return _kubelet_args(s) if minor == 10 else {}
    join: dict = {}
    if role != "init":
        if role == "control-plane-join" and minor < 15:
            raise KubeadmConfigError(
                f"joining additional control planes needs kubeadm 1.15 or newer (uploaded "
                f"certificate key); {version!r} is older: copy the certificates by hand or upgrade"
            )
        join = _join_fields(s, role == "control-plane-join")
    # A pre-release or build suffix (1.31.0-rc.1) is part of the release kubeadm must pull.
    kube_version = f"v1.{minor}.{patch}{suffix}"
    if minor == 10:
        return _render_v1alpha1(s, kube_version, role, join)
    if minor == 11:
        return _render_v1alpha2(s, kube_version, role, join)
    if minor == 12:
        return _render_v1alpha3(s, kube_version, role, join)
    return _render_beta(s, kube_version, role, join, minor)
