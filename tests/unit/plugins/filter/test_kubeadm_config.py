"""Tests for the edgeops.gitops.kubeadm_config filter.

Every document rendered for every supported minor release is checked against
the field schema of its apiVersion (tests/standin/kubeadm-schemas.yaml, written
from upstream kubeadm's types.go and shared with the kubeadm stand-in);
golden files pin 1.10 and the current release; bad input is refused.
The golden test only compares: after a deliberate change, regenerate the goldens
with ``python scripts/update_goldens.py`` (never run by CI) and review the diff.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_config import kubeadm_config
from ansible_collections.edgeops.gitops.plugins.module_utils._kubeadm import (
    APIS,
    NEWEST,
    OLDEST,
    api_for,
    parse_join_command,
)

HERE = Path(__file__).parent / "kubeadm"
STANDIN = Path(__file__).resolve().parents[3] / "standin"
_goldens_spec = importlib.util.spec_from_file_location(
    "update_goldens", Path(__file__).resolve().parents[4] / "scripts" / "update_goldens.py")
assert _goldens_spec and _goldens_spec.loader
goldens = importlib.util.module_from_spec(_goldens_spec)
_goldens_spec.loader.exec_module(goldens)
_spec = importlib.util.spec_from_file_location("kubeadm_schema", STANDIN / "kubeadm_schema.py")
assert _spec and _spec.loader
schema = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(schema)
SCHEMAS = schema.load_schemas(str(STANDIN / "kubeadm-schemas.yaml"))
# Field names read from release tags' own types.go by scripts/kubeadm_fields.py (provenance inside).
FIELDS = yaml.safe_load((STANDIN / "kubeadm-fields-at-tags.yaml").read_text(encoding="utf-8"))
_fspec = importlib.util.spec_from_file_location(
    "kubeadm_fields", Path(__file__).resolve().parents[4] / "scripts" / "kubeadm_fields.py")
assert _fspec and _fspec.loader
kubeadm_fields = importlib.util.module_from_spec(_fspec)
_fspec.loader.exec_module(kubeadm_fields)
DATA = goldens.load()
SPEC = DATA["spec"]
TOKEN = "abcdef.0123456789abcdef"
MINORS = list(range(OLDEST[1], NEWEST[1] + 1))


def spec(**changes):
    out = copy.deepcopy(SPEC)
    out.update(changes)
    return out


spec_for = goldens.spec_for


# Control-plane join needs the uploaded certificate key: kubeadm 1.15 and later.
RENDER_CASES = [(minor, role) for minor in MINORS for role in ("init", "join")] + [
    (minor, "control-plane-join") for minor in MINORS if minor >= 15
]


@pytest.mark.parametrize(("minor", "role"), RENDER_CASES)
def test_every_release_renders_schema_valid_documents(minor, role):
    docs = kubeadm_config(spec_for(f"1.{minor}"), f"1.{minor}.0", role)
    assert docs, "nothing rendered"
    assert schema.validate_documents(docs, SCHEMAS) == []
    expected = api_for(minor).api_version
    for doc in docs:
        assert doc["apiVersion"] == expected
        assert schema.readable_by(doc["apiVersion"], minor, SCHEMAS)


@pytest.mark.parametrize("minor", MINORS)
def test_spec_values_reach_the_documents(minor):
    """The private address, etcd dir and extra args land where that version reads them."""
    text = yaml.safe_dump_all(kubeadm_config(spec_for(f"1.{minor}"), f"1.{minor}", "init"))
    for needle in ("10.213.7.10", "/var/lib/etcd-nvme/data", "10.244.0.0/16", "10.96.0.0/12",
                   "registry.example.internal/k8s", "audit-log-maxage", "node-cidr-mask-size",
                   "k8s-master-01", "cluster.local"):
        assert needle in text, (minor, needle)
    if minor >= 11:  # 1.10 cannot carry kubelet flags: they go to the kubelet's env file
        assert "node-ip" in text
        assert kubeadm_config(SPEC, f"1.{minor}", "kubelet-flags") == {}
    else:
        assert kubeadm_config(spec_for("1.10"), "1.10", "kubelet-flags") == {
            "node-ip": "10.213.7.10", "max-pods": "110"}


def test_one_apiversion_table_covers_every_minor_once():
    """The minor -> apiVersion table has no gap and no overlap; every row has a cited schema."""
    assert [api.first for api in APIS[1:]] == [api.last + 1 for api in APIS[:-1]]
    assert (APIS[0].first, APIS[-1].last) == (OLDEST[1], NEWEST[1])
    for api in APIS:
        assert api.api_version in SCHEMAS
    assert api_for(NEWEST[1] + 5) is APIS[-1]


def test_extra_args_turn_into_name_value_lists_in_v1beta4():
    cluster = kubeadm_config(SPEC, "1.31.0")[1]
    assert cluster["apiServer"]["extraArgs"] == [
        {"name": "audit-log-maxage", "value": "30"},
        {"name": "profiling", "value": "false"},
    ]
    assert kubeadm_config(SPEC, "1.30.0")[1]["apiServer"]["extraArgs"] == {
        "audit-log-maxage": "30", "profiling": "false"}


@pytest.mark.parametrize(("version", "role"), DATA["goldens"])
def test_golden_files(version, role, monkeypatch):
    """Compares only: no environment variable turns this test into a writer."""
    monkeypatch.setenv("EDGEOPS_UPDATE_GOLDEN", "1")  # the old switch must not rewrite anything
    path = goldens.golden_path(version, role)
    before = path.read_bytes()
    assert goldens.golden_text(version, role) == before.decode("utf-8")
    assert path.read_bytes() == before


def test_update_goldens_check_finds_a_changed_golden(tmp_path, monkeypatch):
    """scripts/update_goldens.py --check names a golden that differs and writes nothing."""
    for path in HERE.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    stale = tmp_path / "golden-1.34.1-join.yaml"
    stale.write_text("stale\n", encoding="utf-8")
    monkeypatch.setattr(goldens, "GOLDENS", tmp_path)
    assert goldens.main(["--check"]) == 1
    assert stale.read_text(encoding="utf-8") == "stale\n"
    assert goldens.main([]) == 0
    assert stale.read_text(encoding="utf-8") == (HERE / "golden-1.34.1-join.yaml").read_text(encoding="utf-8")
    assert goldens.main(["--check"]) == 0


def test_join_command_is_parsed():
    out = parse_join_command(
        f"kubeadm join 10.0.0.1:6443 --token {TOKEN} --discovery-token-ca-cert-hash sha256:{'a' * 64} "
        f"--control-plane --certificate-key {'b' * 64}"
    )
    assert out == {"api_server_endpoint": "10.0.0.1:6443", "token": TOKEN,
                   "ca_cert_hashes": [f"sha256:{'a' * 64}"], "certificate_key": "b" * 64}


@pytest.mark.parametrize(
    ("data", "version", "role", "message"),
    [
        (SPEC, "1.9", "init", "not supported: supported releases are 1.10 through 1.36"),
        (SPEC, "1.9.11", "init", "supported releases are 1.10 through 1.36"),
        (SPEC, "banana", "init", "is not a version"),
        (SPEC, "", "init", "is not a version"),
        (SPEC, None, "init", "(NoneType) is not a version"),
        # Item 10 of issue 16: YAML 1.2 (and PyYAML) read an unquoted 1.10 as the float 1.1.
        (SPEC, 1.1, "init", "YAML read an unquoted version as a number (1.10 becomes 1.1); quote it"),
        (SPEC, 1.34, "init", "(float) is not a version"),
        # kubeadm 1.10 has no clusterName (kubernetes/kubernetes v1.10.13,
        # cmd/kubeadm/app/apis/kubeadm/v1alpha1/types.go; the field came with PR #60852 in 1.11)
        (SPEC, "1.10.13", "init", "cluster_name 'edge' cannot be set for Kubernetes 1.10"),
        (SPEC, "2.0", "init", "1.10 through 1.36"),
        (SPEC, "1.34", "upgrade", "role 'upgrade' is not one of"),
        (spec(pod_subnet="10.96.0.0/16"), "1.34", "init", "overlaps service_subnet"),
        (spec(pod_subnet="10.0.0.0/8"), "1.10", "init", "overlaps service_subnet"),
        (spec(pod_subnet="10.244.0.0/33"), "1.34", "init", "is not a valid network"),
        (spec(service_subnet="10.96.0.1/12"), "1.34", "init", "is not a valid network"),
        (spec(pod_subnet="banana"), "1.34", "init", "is not a valid network"),
        (spec(pod_subnet=["10.244.0.0/16"]), "1.34", "init", "must be a CIDR string, got list"),
        (spec(advertise_address="10.213.7.99"), "1.34", "init", "is not an address of this host"),
        (spec(advertise_address="not-an-ip"), "1.34", "init", "is not an IP address"),
        (spec(advertise_address=None), "1.34", "init", "advertise_address is required"),
        (spec(pod_subnet="10.213.0.0/16"), "1.34", "init", "lies inside pod_subnet"),
        (spec(bind_port=70000), "1.34", "init", "bind_port must be an integer"),
        (spec(bind_port="6443"), "1.34", "init", "bind_port must be an integer"),
        (spec(dns_domain="Cluster_Local"), "1.34", "init", "is not a DNS domain"),
        (spec(node_name="K8S_Master"), "1.34", "init", "is not a lowercase RFC 1123 name"),
        (spec(apiserver_extra_args=["a=b"]), "1.34", "init", "must be a dict of flag"),
        (spec(apiserver_extra_args={"--foo": "x"}), "1.34", "init", "without leading dashes"),
        (spec(kubelet_extra_args={"node-ip": "1.2.3.4"}), "1.34", "init", "set kubelet_node_ip"),
        (spec(etcd_data_dir="var/lib/etcd"), "1.34", "init", "must be an absolute path"),
        (spec(colour="blue"), "1.34", "init", "unknown spec keys ['colour']"),
        ("10.0.0.1", "1.34", "init", "spec must be a dict, got str"),
        (spec(join=None), "1.34", "join", "join is required"),
        (spec(join={"command": "kubeadm init"}), "1.34", "join", "is not the output of"),
        (spec(join={"command": "kubeadm join 10.0.0.1:6443 --token short.x "
                               f"--discovery-token-ca-cert-hash sha256:{'a' * 64}"}),
         "1.34", "join", "not a bootstrap token"),
        (spec(join={"token": TOKEN, "api_server_endpoint": "10.0.0.1:6443", "ca_cert_hashes": []}),
         "1.34", "join", "ca_cert_hashes must be a non-empty list"),
        (spec(join={"command": SPEC["join"]["command"]}), "1.34", "control-plane-join",
         "needs join.certificate_key"),
        (SPEC, "1.14", "control-plane-join", "needs kubeadm 1.15 or newer"),
    ],
)
def test_bad_input_is_refused(data, version, role, message):
    with pytest.raises(AnsibleFilterError, match=r"edgeops\.gitops\.kubeadm_config") as err:
        kubeadm_config(data, version, role)
    assert message in str(err.value)
    assert TOKEN not in str(err.value), "the bootstrap token must never appear in an error"


def test_every_wrong_key_is_reported_at_once_and_only_those():
    with pytest.raises(AnsibleFilterError) as err:
        kubeadm_config(spec(dns_domain="Cluster_Local", bind_port=70000, etcd_data_dir="data"), "1.34")
    message = str(err.value)
    for needle in ("dns_domain 'Cluster_Local' is not a DNS domain",
                   "bind_port must be an integer 1-65535, got 70000",
                   "etcd_data_dir 'data' must be an absolute path"):
        assert needle in message
    for right in ("pod_subnet", "service_subnet", "advertise_address", "node_name", "cert_sans"):
        assert right not in message


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "ClusterConfiguration",
          "apiServer": {"extraArgs": {"profiling": "false"}}}, "expected a list ([]Arg), got dict"),
        ({"apiVersion": "kubeadm.k8s.io/v1beta3", "kind": "ClusterConfiguration",
          "apiServer": {"extraArgs": [{"name": "a", "value": "b"}]}}, "expected a map"),
        ({"apiVersion": "kubeadm.k8s.io/v1alpha1", "kind": "MasterConfiguration",
          "nodeRegistration": {}}, "unknown field 'nodeRegistration' in MasterConfiguration"),
        ({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration",
          "localAPIEndpoint": {"bindPort": "6443"}}, "expected int32, got str"),
        ({"apiVersion": "kubeadm.k8s.io/v1beta2", "kind": "MasterConfiguration"}, "has no kind"),
        ({"apiVersion": "kubeadm.k8s.io/v1", "kind": "InitConfiguration"}, "unknown apiVersion"),
        ({"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "JoinConfiguration"},
         "missing required field 'discovery'"),
        # Fields outside the release's set (kubernetes/kubernetes tag v1.10.13,
        # cmd/kubeadm/app/apis/kubeadm/v1alpha1/types.go): clusterName and the audit webhook came in 1.11.
        ({"apiVersion": "kubeadm.k8s.io/v1alpha1", "kind": "MasterConfiguration",
          "clusterName": "kubernetes"}, "unknown field 'clusterName' in MasterConfiguration"),
        ({"apiVersion": "kubeadm.k8s.io/v1alpha1", "kind": "NodeConfiguration",
          "clusterName": "kubernetes"}, "unknown field 'clusterName' in NodeConfiguration"),
        ({"apiVersion": "kubeadm.k8s.io/v1alpha1", "kind": "MasterConfiguration",
          "auditPolicy": {"webhookConfigPath": "/etc/k/webhook.yaml"}},
         "unknown field 'webhookConfigPath' in AuditPolicyConfiguration"),
    ],
)
def test_schema_catches_what_kubeadm_would_refuse(doc, message):
    """The checker itself can fail: unknown fields, wrong kinds, map vs list."""
    errors = schema.validate_document(doc, SCHEMAS)
    assert any(message in e for e in errors), errors


def test_1_10_documents_carry_no_cluster_name():
    """kubeadm 1.10 would refuse clusterName: kubernetes/kubernetes tag v1.10.13,
    cmd/kubeadm/app/apis/kubeadm/v1alpha1/types.go has no such field (PR #60852, v1.11 notes)."""
    for role in ("init", "join"):
        for doc in kubeadm_config(spec_for("1.10"), "1.10.13", role):
            assert "clusterName" not in doc
    assert kubeadm_config(spec(cluster_name="kubernetes"), "1.10.13")[0]["kind"] == "MasterConfiguration"


@pytest.mark.parametrize("version", ["1.35.0", "1.36.0", "v1.36.2"])
def test_1_35_and_1_36_render_v1beta4(version):
    """Released and reading v1beta4: kubernetes/kubernetes tags v1.35.0 and v1.36.0,
    cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go (the newest kubeadm config API there)."""
    docs = kubeadm_config(SPEC, version)
    assert [d["apiVersion"] for d in docs] == ["kubeadm.k8s.io/v1beta4"] * 2
    assert schema.validate_documents(docs, SCHEMAS) == []


def test_a_newer_minor_renders_the_newest_api_with_a_warning(monkeypatch):
    """Policy (issue 16 item 2): never block a user the day a release comes out."""
    from ansible.utils.display import Display

    warnings: list = []
    monkeypatch.setattr(Display, "warning", lambda self, msg, *a, **k: warnings.append(msg))
    docs = kubeadm_config(SPEC, "1.37.0")
    assert docs[1]["kubernetesVersion"] == "v1.37.0"
    assert {d["apiVersion"] for d in docs} == {"kubeadm.k8s.io/v1beta4"}
    assert len(warnings) == 1
    assert "newer than the releases this collection knows (1.10 through 1.36)" in warnings[0]
    assert "kubeadm config validate" in warnings[0]
    warnings.clear()
    kubeadm_config(SPEC, "1.36.0")
    assert warnings == []


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        # Release tags as published: https://github.com/kubernetes/kubernetes/releases/tag/v1.31.0-rc.1
        ("1.31.0-rc.1", "v1.31.0-rc.1"),
        ("v1.31.0-rc.1", "v1.31.0-rc.1"),
        ("1.34.0-alpha.3", "v1.34.0-alpha.3"),
        ("1.34.1", "v1.34.1"),
        ("1.34", "v1.34.0"),
    ],
)
def test_pre_release_suffix_is_kept(version, expected):
    assert kubeadm_config(SPEC, version)[1]["kubernetesVersion"] == expected


def test_every_schema_cites_its_types_go():
    for api, entry in SCHEMAS.items():
        version = api.rsplit("/", 1)[1]
        assert f"cmd/kubeadm/app/apis/kubeadm/{version}/types.go" in entry["source"]


@pytest.mark.parametrize("api", sorted(SCHEMAS))
def test_every_field_set_names_its_release_tag_and_what_was_read(api):
    """Issue 16 item 1: each field set cites the release tag it stands for.  Where the tag's own
    file was read, its extracted field names are committed (with the tarball's sha256 and the
    commit git archive recorded); where it was not, the entry says so and names the commit read."""
    entry = SCHEMAS[api]
    assert re.fullmatch(r"v1\.\d+\.\d+", entry["tag"]), entry.get("tag")
    first, _last = entry["reads"]
    if entry["tag_read"]:
        tag = FIELDS[api]
        assert tag["tag"] == entry["tag"] and entry["tag"] in entry["source"]
        assert tag["commit"] in entry["source"] and re.fullmatch(r"[0-9a-f]{40}", tag["commit"])
        assert first <= int(entry["tag"].split(".")[1]) <= entry["reads"][1], "the tag must read it"
    else:
        assert api not in FIELDS
        assert int(entry["tag"].split(".")[1]) == first, "the first release that reads it"
        assert "Not the tag" in entry["source"]
        assert re.search(r"\S+/kubernetes@[0-9a-f]{40}", entry["source"]), "the commit read instead"


@pytest.mark.parametrize("api", sorted(FIELDS))
def test_schema_equals_the_field_set_read_from_the_release_tag(api):
    """kubeadm-schemas.yaml against the json tags of the tag's own types.go: Debian's kubernetes
    1.20.5+really1.20.2 orig tarball, git archive of kubernetes/kubernetes tag v1.20.2
    (commit faecb196815e248d3ecfb03c680a4507229c2a56), cmd/kubeadm/app/apis/kubeadm/<v>/types.go.
    `python scripts/kubeadm_fields.py` re-reads the tarball and checks this file and the schemas."""
    assert kubeadm_fields.differences(SCHEMAS[api], FIELDS[api]) == []


def test_the_comparison_with_the_tag_finds_extra_missing_and_retyped_fields():
    entry = copy.deepcopy(SCHEMAS["kubeadm.k8s.io/v1beta1"])
    entry["types"]["InitConfiguration"] = {**entry["types"]["InitConfiguration"], "certificateKey": "string"}
    del entry["types"]["Networking"]["podSubnet"]
    entry["types"]["APIEndpoint"] = {**entry["types"]["APIEndpoint"], "bindPort": "string"}
    assert kubeadm_fields.differences(entry, FIELDS["kubeadm.k8s.io/v1beta1"]) == [
        "APIEndpoint.bindPort: schema string, tag int32",
        "InitConfiguration.certificateKey: in the schema, not in the tag",
        "Networking.podSubnet: in the tag, not in the schema",
    ]


def test_field_sets_are_read_from_the_go_json_tags():
    go = """
type DNSAddOnType string
type InitConfiguration struct {
\tmetav1.TypeMeta `json:",inline"`
\t// Comment `json:"commented"`
\tClusterConfiguration `json:"-"`
\tToken *BootstrapTokenString `json:"token"`
\tTTL *metav1.Duration `json:"ttl,omitempty"`
\tTaints []v1.Taint `json:"taints"`
\tEndpoint APIEndpoint `json:"localAPIEndpoint,omitempty"`
\tKubelet kubeletconfigv1beta1.KubeletConfiguration `json:"baseConfig"`
}
type APIEndpoint struct {
\tImageMeta `json:",inline"`
\tType DNSAddOnType `json:"type"`
\tExtra map[string][]string `json:"extra,omitempty"`
}
type ImageMeta struct {
\tImageTag string `json:"imageTag,omitempty"`
}
type Unreached struct {
\tX int32 `json:"x"`
}
"""
    assert kubeadm_fields.field_sets(go) == {
        "kinds": ["InitConfiguration"],
        "types": {
            "APIEndpoint": {"imageTag": "string", "type": "string", "extra": "map[string][]string"},
            "InitConfiguration": {"token": "*string", "ttl": "*duration", "taints": "[]Taint",
                                  "localAPIEndpoint": "APIEndpoint", "baseConfig": "any"},
        },
    }


# A field outside each release's set is refused, by the schema check and by the stand-in.
# (api, kind, document body, refused field, struct, authority)
OUTSIDE_THE_SET = [
    ("kubeadm.k8s.io/v1alpha1", "MasterConfiguration", {"clusterName": "k"}, "clusterName",
     "MasterConfiguration", "v1.11 release notes, kubernetes PR #60852: clusterName is new in 1.11"),
    ("kubeadm.k8s.io/v1alpha1", "MasterConfiguration", {"nodeRegistration": {}}, "nodeRegistration",
     "MasterConfiguration", "kubernetes/kubernetes v1alpha2/types.go: nodeRegistration came with v1alpha2"),
    ("kubeadm.k8s.io/v1alpha2", "MasterConfiguration", {"apiEndpoint": {}}, "apiEndpoint",
     "InitConfiguration", "kubernetes/kubernetes v1alpha3/types.go: apiEndpoint replaced api in v1alpha3"),
    ("kubeadm.k8s.io/v1alpha2", "NodeConfiguration", {"discovery": {}}, "discovery",
     "JoinConfiguration", "kubernetes/kubernetes tag v1.20.2 v1beta1/types.go: discovery is v1beta1's"),
    ("kubeadm.k8s.io/v1alpha3", "ClusterConfiguration", {"apiServer": {}}, "apiServer",
     "ClusterConfiguration", "kubernetes/kubernetes tag v1.20.2 v1beta1/types.go: apiServer is v1beta1's"),
    ("kubeadm.k8s.io/v1beta1", "InitConfiguration", {"certificateKey": "0" * 64}, "certificateKey",
     "InitConfiguration", "kubernetes/kubernetes tag v1.20.2 v1beta1/types.go vs v1beta2/types.go"),
    ("kubeadm.k8s.io/v1beta1", "JoinConfiguration",
     {"discovery": {"file": {"kubeConfigPath": "/k"}}, "nodeRegistration": {"ignorePreflightErrors": []}},
     "ignorePreflightErrors", "NodeRegistrationOptions",
     "kubernetes/kubernetes tag v1.20.2 v1beta1/types.go vs v1beta2/types.go"),
    ("kubeadm.k8s.io/v1beta2", "InitConfiguration", {"skipPhases": ["addon/kube-proxy"]}, "skipPhases",
     "InitConfiguration", "kubernetes/kubernetes tag v1.20.2 v1beta2/types.go: no skipPhases (v1beta3's)"),
    ("kubeadm.k8s.io/v1beta2", "ClusterConfiguration", {"dns": {"imageTag": "v1", "disabled": True}},
     "disabled", "DNS", "kubernetes/kubernetes tag v1.20.2 v1beta2/types.go: DNS has type and ImageMeta"),
    ("kubeadm.k8s.io/v1beta3", "InitConfiguration", {"timeouts": {}}, "timeouts", "InitConfiguration",
     "kubernetes/kubernetes v1beta4/doc.go: Timeouts is new in v1beta4"),
    ("kubeadm.k8s.io/v1beta3", "ClusterConfiguration", {"proxy": {"disabled": True}}, "proxy",
     "ClusterConfiguration", "kubernetes/kubernetes v1beta4/doc.go: Proxy.Disabled is new in v1beta4"),
    ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration", {"apiServer": {"timeoutForControlPlane": "4m0s"}},
     "timeoutForControlPlane", "APIServer",
     "kubernetes/kubernetes v1beta4/doc.go: replaced by Timeouts.ControlPlaneComponentHealthCheck"),
    ("kubeadm.k8s.io/v1beta4", "JoinConfiguration",
     {"discovery": {"file": {"kubeConfigPath": "/k"}, "timeout": "5m0s"}}, "timeout", "Discovery",
     "kubernetes/kubernetes v1beta4/doc.go: replaced by Timeouts.Discovery"),
    ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration",
     {"apiServer": {"extraArgs": [{"name": "v", "value": "2", "mergeMethod": "append"}]}}, "mergeMethod",
     "Arg", "kubernetes/kubernetes v1/doc.go: mergeMethod is new in the unreleased v1"),
    ("kubeadm.k8s.io/v1beta4", "ClusterConfiguration",
     {"etcd": {"external": {"endpoints": ["https://e:2379"], "httpEndpoints": ["https://e:2381"]}}},
     "httpEndpoints", "ExternalEtcd", "kubernetes/kubernetes@1329935739c3aa007d23cb9a4dadfee9d59ff79b "
     "v1beta4/types.go (1.31-era) has no httpEndpoints: not every reader of v1beta4 has it"),
]


@pytest.mark.parametrize(("api", "kind", "body", "field", "struct", "authority"), OUTSIDE_THE_SET,
                         ids=[f"{c[0].rsplit('/', 1)[1]}-{c[3]}" for c in OUTSIDE_THE_SET])
def test_a_field_outside_the_releases_set_is_refused(tmp_path, api, kind, body, field, struct, authority):
    doc = {"apiVersion": api, "kind": kind, **body}
    message = f"unknown field {field!r} in {struct}"
    assert any(message in e for e in schema.validate_document(doc, SCHEMAS)), authority
    if api in FIELDS:  # the tag's own file agrees that the field is not there
        assert field not in FIELDS[api]["types"][struct], authority
    minor = SCHEMAS[api]["reads"][0]
    proc, _log = standin(tmp_path, "join", "--config", "/dev/stdin", stdin=yaml.safe_dump(doc),
                         version=f"1.{minor}.0")
    assert proc.returncode == 1
    assert message in proc.stderr, proc.stderr


def test_v1alpha1_is_the_field_set_of_the_1_10_release():
    """Not a later master's.

    kubernetes/kubernetes tag v1.10.13, cmd/kubeadm/app/apis/kubeadm/v1alpha1/types.go.
    """
    entry = SCHEMAS["kubeadm.k8s.io/v1alpha1"]
    assert entry["tag"].startswith("v1.10.")
    assert entry["tag"] in entry["source"]
    assert "clusterName" not in entry["types"]["MasterConfiguration"]
    assert "clusterName" not in entry["types"]["NodeConfiguration"]


# The stand-in checks what it is given with the same schemas, and refuses the way kubeadm does.
# Only paths that write nothing but the stand-in's own log (redirected to tmp_path) run here.
def standin(tmp_path, *args, stdin="", version="1.34.1"):
    import subprocess
    import sys

    env = {**os.environ, "KUBEADM_STANDIN_LOG": str(tmp_path / "log.jsonl"),
           "KUBEADM_STANDIN_VERSION": version}
    proc = subprocess.run([sys.executable, str(STANDIN / "kubeadm"), *args], input=stdin,
                          capture_output=True, text=True, env=env, check=False)
    log = (tmp_path / "log.jsonl").read_text(encoding="utf-8") if (tmp_path / "log.jsonl").exists() else ""
    return proc, log


def test_standin_reports_its_version_and_says_it_is_a_standin(tmp_path):
    proc = standin(tmp_path, "version", "-o", "short", version="1.10.13")[0]
    assert (proc.returncode, proc.stdout) == (0, "v1.10.13\n")
    proc = standin(tmp_path, "--help")[0]
    assert "STAND-IN" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["reset"], 'unknown command "reset" for "kubeadm"'),
        (["init", "--pod-network-cidr", "10.0.0.0/8"], "unknown flag: --pod-network-cidr"),
        (["join", "--config", "/dev/stdin", "--token", TOKEN], "can not mix '--config' with arguments"),
        (["token", "list"], 'unknown command "list" for "kubeadm token"'),
    ],
)
def test_standin_refuses_what_kubeadm_refuses(tmp_path, args, message):
    proc, log = standin(tmp_path, *args)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert TOKEN not in log, "the stand-in must record tokens only as a hash"


def test_standin_checks_the_config_against_the_schemas(tmp_path):
    docs = kubeadm_config(SPEC, "1.34.1", "join")
    docs[0]["nodeRegistration"]["kubeletExtraArgs"] = {"node-ip": "10.213.7.10"}  # a map: pre-v1beta4 form
    proc, log = standin(tmp_path, "join", "--config", "/dev/stdin", stdin=yaml.safe_dump_all(docs))
    assert proc.returncode == 1
    assert "expected a list ([]Arg), got dict" in proc.stderr
    assert TOKEN not in log
    old = yaml.safe_dump_all(kubeadm_config(spec_for("1.10"), "1.10.13", "join"))
    proc = standin(tmp_path, "join", "--config", "/dev/stdin", stdin=old)[0]
    assert proc.returncode == 1
    assert "this version of kubeadm does not read 'kubeadm.k8s.io/v1alpha1'" in proc.stderr
