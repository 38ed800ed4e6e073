"""The real kubeadm 1.20.2 reads every configuration the ``kubeadm_config`` filter renders for 1.13-1.20.

The binary is built from Debian 12's own source package ``kubernetes``
(1.20.5+really1.20.2, the full upstream v1.20.2 tree) by ``scripts/build_kubernetes.sh``, which
caches it under /var/cache/edgeops/kubernetes/<source version>/; the first test run on a machine
builds it (see the README for how long that takes), later runs reuse it.  A missing binary that
cannot be built fails these tests with the build's output: never a skip.

What is checked with the real binary:

- ``kubeadm config migrate --old-config`` reads the init, join and control-plane-join documents of
  every minor release 1.13-1.20 (kubeadm.k8s.io/v1beta1 for 1.13-1.14, v1beta2 for 1.15-1.20),
  without a strict-decoding warning, and its v1beta2 output carries every field we set, unchanged.
- ``kubeadm init --dry-run --config`` accepts the init documents of each of those releases and runs
  its preflight checks; the checks a machine without a container runtime or kubelet cannot pass
  are named one by one (never ``all``), and the dry run writes only inside a private mount
  namespace whose /etc and /var/lib are overlays (the host is not touched).
- The field sets of ``tests/standin/kubeadm-schemas.yaml`` for v1beta1 and v1beta2 are exactly the
  fields kubeadm 1.20.2 decodes: every field the schema accepts is probed with the binary (kubeadm
  warns ``unknown field`` for fields it does not know), and every field of the Go types in the
  source the binary was built from is probed too, so a field kubeadm knows and the schema lacks
  fails as well.

Other releases (1.10-1.12: v1alpha1-3, 1.21 and later: v1beta3/v1beta4) have no real binary on
these machines: tests/unit/plugins/filter/test_kubeadm_config.py checks them against the schemas
only.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
import shlex
import subprocess
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_config import kubeadm_config

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "scripts" / "build_kubernetes.sh"
STANDIN = ROOT / "tests" / "standin"
SPEC_FILE = ROOT / "tests" / "unit" / "plugins" / "filter" / "kubeadm" / "spec.yml"
REAL_VERSION = "v1.20.2"
#: kubeadm 1.20.2 deploys control planes of 1.19.0 and later (MinimumControlPlaneVersion in
#: cmd/kubeadm/app/constants/constants.go of the v1.20.2 tree): the documents rendered for 1.13-1.18
#: are read with kubernetesVersion set to the binary's own release, every other field unchanged.
MIN_CONTROL_PLANE_MINOR = 19
MINORS = range(13, 21)

_spec = importlib.util.spec_from_file_location("kubeadm_schema", STANDIN / "kubeadm_schema.py")
assert _spec and _spec.loader
schema = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema)
SCHEMAS = schema.load_schemas(str(STANDIN / "kubeadm-schemas.yaml"))
SPEC = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))["spec"]

#: Preflight checks of ``kubeadm init`` that fail on a machine (or container) that is not a
#: prepared Kubernetes node: no container runtime, no kubelet, the node tools not installed.
#: Each is named; any other failing check fails the test.
IGNORED_PREFLIGHT = (
    "CRI",  # no container runtime running (kubeadm 1.20 asks Docker, its default)
    "IsDockerSystemdCheck",  # no Docker daemon to ask for its cgroup driver
    "SystemVerification",  # the Docker validator needs a running Docker
    "Service-Docker",  # no docker.service on the test machine
    "Service-Kubelet",  # no kubelet.service
    "KubeletVersion",  # no kubelet binary to ask for its version
    "FileExisting-conntrack",  # the node tools a kubelet needs, absent here
    "FileExisting-ebtables",
    "FileExisting-ethtool",
    "FileExisting-socat",
    "FileExisting-crictl",
    "FileContent--proc-sys-net-bridge-bridge-nf-call-iptables",  # a node setting, not the test host's
    "FileContent--proc-sys-net-ipv4-ip_forward",
    "Swap",  # the test host may have swap on; kubeadm refuses it on a node
    "NumCPU",  # CI machines with one CPU
    "Mem",
    "Hostname",  # the lab node name is not this machine's name
    "Port-6443", "Port-10259", "Port-10257", "Port-10250", "Port-2379", "Port-2380",
    "DirAvailable--var-lib-etcd",
)

BUILD_TIMEOUT = 3 * 3600


def _build_log_tail(proc: subprocess.CompletedProcess) -> str:
    return "\n".join((proc.stdout + proc.stderr).splitlines()[-40:])


@pytest.fixture(scope="module")
def kubeadm() -> Path:
    """The real kubeadm 1.20.2: built by scripts/build_kubernetes.sh, or reused from its cache."""
    out = subprocess.run(["bash", str(BUILD), "--print-dir"], capture_output=True, text=True,
                         check=True).stdout.strip()
    proc = subprocess.run(["bash", str(BUILD), "kubeadm"], capture_output=True, text=True,
                          check=False, timeout=BUILD_TIMEOUT)
    binary = Path(out) / "bin" / "kubeadm"
    if proc.returncode != 0 or not binary.is_file():
        pytest.fail(
            f"the real kubeadm {REAL_VERSION} is missing and could not be built "
            f"(bash scripts/build_kubernetes.sh kubeadm, rc={proc.returncode}):\n{_build_log_tail(proc)}",
            pytrace=False,
        )
    version = subprocess.run([str(binary), "version", "-o", "short"], capture_output=True, text=True,
                             check=True).stdout.strip()
    assert version == REAL_VERSION
    return binary


@pytest.fixture(scope="module")
def source_tarball() -> Path:
    out = subprocess.run(["bash", str(BUILD), "--print-source"], capture_output=True, text=True,
                         check=True).stdout.strip()
    return Path(out)


def _docs_for(minor: int, role: str) -> list[dict]:
    docs = kubeadm_config(SPEC, f"1.{minor}.0", role)
    if minor < MIN_CONTROL_PLANE_MINOR:
        for doc in docs:
            if "kubernetesVersion" in doc:
                doc["kubernetesVersion"] = REAL_VERSION
    return docs


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    """{'a.b.c': value} for every scalar or list under ``value`` (lists compared whole)."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_leaves(item, f"{path}.{key}" if path else key))
        return out
    return {path: value}


def _migrate(kubeadm: Path, docs: list[dict], tmp_path: Path) -> tuple[subprocess.CompletedProcess, list]:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    proc = subprocess.run([str(kubeadm), "config", "migrate", "--old-config", str(old),
                           "--new-config", str(new)], capture_output=True, text=True, check=False,
                          env={**os.environ, "LANG": "C"})
    migrated = list(yaml.safe_load_all(new.read_text(encoding="utf-8"))) if new.exists() else []
    return proc, [d for d in migrated if d]


ROLES = [(m, r) for m in MINORS for r in ("init", "join")] + [
    (m, "control-plane-join") for m in MINORS if m >= 15]


@pytest.mark.parametrize(("minor", "role"), ROLES)
def test_config_migrate_reads_and_round_trips_every_field(kubeadm, tmp_path, minor, role):
    docs = _docs_for(minor, role)
    proc, migrated = _migrate(kubeadm, docs, tmp_path)
    refused = f"kubeadm config migrate refused the {role} documents of 1.{minor}: "
    assert proc.returncode == 0, refused + proc.stderr
    assert "error unmarshaling" not in proc.stderr, proc.stderr
    by_kind = {d["kind"]: d for d in migrated}
    assert all(d["apiVersion"] == "kubeadm.k8s.io/v1beta2" for d in migrated)
    for doc in docs:
        assert doc["kind"] in by_kind, f"{doc['kind']} missing from kubeadm's output"
        found = _leaves({k: v for k, v in by_kind[doc["kind"]].items() if k not in ("apiVersion", "kind")})
        ours = _leaves({k: v for k, v in doc.items() if k not in ("apiVersion", "kind")})
        for path, value in ours.items():
            where = f"{doc['kind']}.{path}"
            assert path in found, f"{where} set to {value!r} was dropped by kubeadm"
            assert found[path] == value, f"{where}: we set {value!r}, kubeadm read {found[path]!r}"


def _in_private_root(tmp_path: Path, command: list[str]) -> list[str]:
    """``command`` in a private mount namespace where /etc and /var/lib are overlays on tmp_path."""
    mounts = []
    for i, top in enumerate(("/etc", "/var/lib")):
        upper, work = tmp_path / f"upper{i}", tmp_path / f"work{i}"
        upper.mkdir()
        work.mkdir()
        mounts.append(f"mount -t overlay overlay -o lowerdir={top},upperdir={upper},workdir={work} {top}")
    script = " && ".join([*mounts, "exec " + shlex.join(command)])
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]


@pytest.mark.parametrize("minor", MINORS)
def test_init_dry_run_accepts_the_init_documents(kubeadm, tmp_path, minor):
    config = tmp_path / "init.yaml"
    docs = _docs_for(minor, "init")
    config.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    command = [str(kubeadm), "init", "--dry-run", "--config", str(config),
               "--ignore-preflight-errors=" + ",".join(IGNORED_PREFLIGHT)]
    proc = subprocess.run(_in_private_root(tmp_path, command), capture_output=True, text=True,
                          check=False, env={**os.environ, "LANG": "C"}, timeout=600)
    assert proc.returncode == 0, f"kubeadm init --dry-run refused 1.{minor}:\n{proc.stderr[-3000:]}"
    assert "error unmarshaling" not in proc.stderr
    assert "[preflight] Running pre-flight checks" in proc.stdout
    # The dry run prints the static Pod manifests it would write (and a join token: never shown here).
    assert "/var/lib/etcd-nvme/data" in proc.stdout, "the etcd manifest does not mount our data dir"
    image = f"registry.example.internal/k8s/kube-apiserver:{docs[1]['kubernetesVersion']}"
    assert image in proc.stdout, f"the API server manifest does not run {image}"


# ----- the schema's field sets against the binary -------------------------------------------------

SAMPLES = {"string": "x", "int": 1, "bool": True, "duration": "1s", "time": "2026-01-01T00:00:00Z",
           "token": "abcdef.0123456789abcdef", "list": [], "map": {}, "object": {}}


def _kind_of(typ: str, known_structs: set[str]) -> tuple[str, str | None]:
    """Schema or Go type -> (sample kind, struct to recurse into or None)."""
    typ = typ.lstrip("*")
    for prefix, kind in (("[]", "list"), ("map[string]", "map")):
        if typ.startswith(prefix):
            inner = typ[len(prefix):].lstrip("*").split(".")[-1]
            return kind, inner if inner in known_structs else None
    base = typ.split(".")[-1]
    if base in known_structs:
        return "object", base
    return {"int32": "int", "int": "int", "uint32": "int", "bool": "bool", "Duration": "duration",
            "duration": "duration", "Time": "time", "time": "time",
            "BootstrapTokenString": "token"}.get(base, "string"), None


def _paths(types: dict[str, dict[str, str]], root: str, prefix: tuple = ()) -> dict[tuple, str]:
    """Every field path below struct ``root``: {(("a", "object"), ("b", "list")): kind of b}."""
    out: dict[tuple, str] = {}
    structs = set(types)
    for name, typ in types[root].items():
        kind, inner = _kind_of(typ, structs)
        path = (*prefix, (name, kind))
        out[path] = kind
        if inner and inner != root:
            out.update(_paths(types, inner, path))
    return out


def _by_name(paths: dict[tuple, str]) -> dict[str, tuple]:
    """{'a.b': path} - fields compared by name; the JSON kinds only shape the probe."""
    return {_dotted(path): path for path in paths}


def _schema_types(api: str) -> dict[str, dict[str, str]]:
    entry = SCHEMAS[api]
    return {name: {k: v for k, v in fields.items() if not k.startswith("_")}
            for name, fields in entry["types"].items()}


_STRUCT = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.S | re.M)
_FIELD = re.compile(r"^\t(?:(\w+)\s+)?([\w.*\[\]]+)\s+`json:\"([^\"]*)\"", re.M)


def _go_types(sources: list[str]) -> dict[str, dict[str, str]]:
    """Go struct name -> {json name: Go type}, inline embeddings resolved."""
    raw: dict[str, list[tuple[str | None, str, str]]] = {}
    for text in sources:
        for name, body in _STRUCT.findall(text):
            raw[name] = _FIELD.findall(body)

    def fields(name: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for field, typ, tag in raw.get(name, []):
            json_name = tag.split(",")[0]
            if ",inline" in tag and not json_name:
                embedded = typ.lstrip("*").split(".")[-1]
                if embedded != "TypeMeta":
                    out.update(fields(embedded))
            elif json_name and json_name != "-" and field:
                out[json_name] = typ
        return out

    return {name: fields(name) for name in raw}


def _read_sources(tarball: Path, version: str) -> list[str]:
    wanted = {f"kubernetes-1.20.2/cmd/kubeadm/app/apis/kubeadm/{version}/types.go",
              "kubernetes-1.20.2/staging/src/k8s.io/api/core/v1/types.go"}
    texts = []
    with tarfile.open(tarball) as tar:
        for member in tar:
            if member.name in wanted:
                handle = tar.extractfile(member)
                assert handle
                texts.append(handle.read().decode())
    assert len(texts) == len(wanted), f"{sorted(wanted)} not all in {tarball}"
    return texts


def _probe_doc(api: str, kind: str, path: tuple) -> dict:
    """A document that sets only the field at ``path`` (its parents as objects, lists or maps)."""
    leaf_name, leaf_kind = path[-1]
    value: Any = {"token": SAMPLES["token"]} if leaf_name == "bootstrapToken" else SAMPLES[leaf_kind]
    value = {leaf_name: value}
    for name, kind_of in reversed(path[:-1]):
        value = {name: {"object": value, "list": [value], "map": {"k": value}}[kind_of]}
    return {"apiVersion": api, "kind": kind, **value}


def _decode_warning(kubeadm: Path, doc: dict, tmp_path: Path, n: int) -> str:
    """kubeadm's strict-decoding warning for ``doc`` ('' when it decodes every field)."""
    docs = [doc]
    if doc["kind"] == "ClusterStatus":  # read only beside an init document
        docs.append({"apiVersion": doc["apiVersion"], "kind": "ClusterConfiguration"})
    path = tmp_path / f"probe{n}.yaml"
    path.write_text(yaml.safe_dump_all(docs), encoding="utf-8")
    proc = subprocess.run([str(kubeadm), "config", "migrate", "--old-config", str(path),
                           "--new-config", os.devnull], capture_output=True, text=True, check=False)
    lines = [line for line in proc.stderr.splitlines() if "error unmarshaling" in line
             or "unknown configuration" in line]
    return lines[0].split("]", 1)[-1].strip() if lines else ""


def _dotted(path: tuple) -> str:
    return ".".join(name for name, _kind in path)


@pytest.mark.parametrize("api", ["kubeadm.k8s.io/v1beta1", "kubeadm.k8s.io/v1beta2"])
def test_schema_field_sets_are_what_kubeadm_1_20_decodes(kubeadm, source_tarball, tmp_path, api):
    stypes = _schema_types(api)
    gtypes = _go_types(_read_sources(source_tarball, api.rsplit("/", 1)[1]))
    kinds = SCHEMAS[api]["kinds"]
    probes: list[tuple[str, tuple, str]] = []  # (kind, path, who lists it)
    for kind, root in kinds.items():
        spaths = _by_name(_paths(stypes, root))
        gpaths = _by_name(_paths(gtypes, kind)) if kind in gtypes else {}
        for name in sorted(set(spaths) | set(gpaths)):
            # The Go type shapes the probe where it is stricter (a bootstrap token is a string of a
            # given form); a field the schema types differently from Go shows in the schema's kinds.
            path = gpaths[name] if name in gpaths and gpaths[name][-1][1] == "token" else \
                spaths.get(name) or gpaths[name]
            who = "schema+go" if name in spaths and name in gpaths else "schema" if name in spaths else "go"
            probes.append((kind, path, who))

    def probe(numbered: tuple[int, tuple[str, tuple, str]]) -> str:
        n, (kind, path, _who) = numbered
        return _decode_warning(kubeadm, _probe_doc(api, kind, path), tmp_path, n)

    with ThreadPoolExecutor(max_workers=2) as pool:
        warnings = list(pool.map(probe, enumerate(probes)))
    kind_warnings = {kind: _decode_warning(kubeadm, {"apiVersion": api, "kind": kind}, tmp_path, -i - 1)
                     for i, kind in enumerate(kinds)}
    problems = [f"kind {kind}: {w}" for kind, w in kind_warnings.items() if w]
    for (kind, path, who), warning in zip(probes, warnings, strict=True):
        where = f"{kind}.{_dotted(path)}"
        if who == "go" and not warning:
            problems.append(f"{where}: kubeadm 1.20.2 decodes it, the schema does not list it")
        elif who != "go" and warning:
            problems.append(f"{where}: the schema accepts it, kubeadm 1.20.2 says: {warning}")
        elif who == "go":
            problems.append(f"{where}: in the v1.20.2 Go types, kubeadm refuses it: {warning}")
    header = f"{api} in tests/standin/kubeadm-schemas.yaml vs kubeadm 1.20.2:\n"
    assert not problems, header + "\n".join(problems)
    assert len(probes) > 40  # the probe really walked the types


def test_the_probe_sees_an_unknown_field(kubeadm, tmp_path):
    """The field-set test can fail: a made-up field draws kubeadm's warning, a real one does not."""
    bad = _probe_doc("kubeadm.k8s.io/v1beta2", "ClusterConfiguration", (("networking", "object"),
                                                                        ("podCIDR", "string")))
    assert 'unknown field "podCIDR"' in _decode_warning(kubeadm, bad, tmp_path, 0)
    good = copy.deepcopy(bad)
    good["networking"] = {"podSubnet": "10.244.0.0/16"}
    assert _decode_warning(kubeadm, good, tmp_path, 1) == ""
