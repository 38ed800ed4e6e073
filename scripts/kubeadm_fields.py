#!/usr/bin/env python3
"""Field sets of kubeadm's configuration API read from a release tag's own types.go.

tests/standin/kubeadm-schemas.yaml is written by hand from upstream kubeadm's Go types.  Where a
release tag's source tree can be had from a package registry, this script reads the `json:` tags
of cmd/kubeadm/app/apis/kubeadm/<version>/types.go in it and writes them, with their provenance,
to tests/standin/kubeadm-fields-at-tags.yaml; the unit tests compare the schemas with that file.

The one tag source reachable from here is Debian's `kubernetes` source package
1.20.5+really1.20.2 (bookworm; bullseye has the same tarball): its orig tarball is GitHub's
archive of the tag v1.20.2 (debian/watch), and `git archive` wrote the commit into the tarball's
pax header.  It carries v1beta1 and v1beta2.  Debian's later `kubernetes` packages
(1.32.3+ds, 1.36.4+ds) are repacked to the kubectl sources and have no cmd/kubeadm.

    python scripts/kubeadm_fields.py            # fetch (cached), extract, compare: exit 1 on a difference
    python scripts/kubeadm_fields.py --write    # rewrite tests/standin/kubeadm-fields-at-tags.yaml

The tarball is fetched by scripts/build_kubernetes.sh --fetch-source (apt-get through a private
configuration, the host's /etc/apt untouched) into /var/cache/edgeops/kubernetes-src/, and reused.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
FIELDS_FILE = ROOT / "tests" / "standin" / "kubeadm-fields-at-tags.yaml"
SCHEMA_FILE = ROOT / "tests" / "standin" / "kubeadm-schemas.yaml"

# (tag, Debian source version, orig tarball, its sha256, apiVersions it carries)
TAG_SOURCES = [
    {
        "tag": "v1.20.2",
        "debian": "kubernetes 1.20.5+really1.20.2-1.1+deb12u1 (Debian 12 bookworm, main)",
        "debian_version": "1.20.5+really1.20.2-1.1+deb12u1",
        "suite": "bookworm",
        "tarball": "kubernetes_1.20.5+really1.20.2.orig.tar.gz",
        "sha256": "b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc",
        "versions": ["v1beta1", "v1beta2"],
    },
]

STRUCT_RE = re.compile(r"^type (\w+) struct \{\n(.*?)^\}", re.S | re.M)
NAMED_STRING_RE = re.compile(r"^type (\w+) string\b", re.M)
FIELD_RE = re.compile(r"^\s*(?:(\w+)\s+)?([\w.*\[\]]+)\s+`[^`]*json:\"([^\"]*)\"[^`]*`", re.M)
# Types from outside kubeadm's API group, as the schema file names them.
EXTERNAL = {
    "metav1.Duration": "duration",
    "metav1.Time": "time",
    "v1.Taint": "Taint",
    "corev1.Taint": "Taint",
    "v1.HostPathType": "string",
    "corev1.HostPathType": "string",
    "v1.PullPolicy": "string",
    "corev1.PullPolicy": "string",
    "corev1.EnvVar": "EnvVar",
    "BootstrapTokenString": "string",
}
SKIPPED_INLINE = {"metav1.TypeMeta", "metav1.ObjectMeta"}


def parse_types(source: str) -> dict:
    """{struct: {json name: Go type}} for every struct in a Go file, embedded structs flattened."""
    raw: dict = {}
    for name, body in STRUCT_RE.findall(source):
        fields = []
        for line in body.splitlines():
            if line.strip().startswith("//"):
                continue
            m = FIELD_RE.match(line)
            if m:
                fields.append((m.group(1), m.group(2), m.group(3).split(",")[0]))
        raw[name] = fields

    def flatten(name: str) -> dict:
        out: dict = {}
        for go_name, go_type, json_name in raw[name]:
            if json_name == "-":
                continue
            if go_name is None and json_name == "":  # embedded, json:",inline"
                if go_type in SKIPPED_INLINE:
                    continue
                if go_type in raw:
                    out.update(flatten(go_type))
                    continue
            out[json_name] = go_type
        return out

    return {name: flatten(name) for name in raw}


def schema_type(go_type: str, structs: dict, named_strings: set) -> str:
    """A Go type in the schema file's type language (pointers kept as a leading *)."""
    if go_type.startswith("*"):
        return "*" + schema_type(go_type[1:], structs, named_strings)
    if go_type.startswith("[]"):
        return "[]" + schema_type(go_type[2:], structs, named_strings)
    if go_type.startswith("map[string]"):
        return "map[string]" + schema_type(go_type[len("map[string]"):], structs, named_strings)
    if go_type in ("string", "int32", "bool"):
        return go_type
    if go_type in EXTERNAL:
        return EXTERNAL[go_type]
    if go_type in named_strings:
        return "string"
    if go_type in structs:
        return go_type
    return "any"  # a type from outside kubeadm's API group (kubelet, kube-proxy configuration)


def field_sets(source: str) -> dict:
    """{"kinds": [...], "types": {struct: {field: schema type}}} for the kinds and what they reach."""
    structs = parse_types(source)
    named_strings = set(NAMED_STRING_RE.findall(source))
    kinds = sorted(n for n, body in STRUCT_RE.findall(source)
                   if re.search(r"^\s*metav1\.TypeMeta\s", body, re.M))
    types: dict = {}
    todo = list(kinds)
    while todo:
        name = todo.pop()
        if name in types:
            continue
        types[name] = {k: schema_type(v, structs, named_strings) for k, v in structs[name].items()}
        for typ in types[name].values():
            base = typ.replace("*", "").replace("[]", "").replace("map[string]", "")
            if base in structs and base not in types:
                todo.append(base)
    return {"kinds": kinds, "types": {k: types[k] for k in sorted(types)}}


def differences(schema_entry: dict, extracted: dict) -> list:
    """Where a schema entry differs from a tag's field sets: field names, and types with pointers
    ignored (a pointer only says the field may be null).  Structs kubeadm takes from core/v1
    (Taint) are not in its types.go and are not compared."""
    out = []
    kinds = set(schema_entry["kinds"].values())
    if kinds != set(extracted["kinds"]):
        out.append(f"kinds: schema {sorted(kinds)}, tag {extracted['kinds']}")
    for struct, fields in extracted["types"].items():
        have = schema_entry["types"].get(struct)
        if have is None:
            out.append(f"{struct}: not in the schema")
            continue
        have = {k: v for k, v in have.items() if not k.startswith("_")}
        for name in sorted(set(fields) - set(have)):
            out.append(f"{struct}.{name}: in the tag, not in the schema")
        for name in sorted(set(have) - set(fields)):
            out.append(f"{struct}.{name}: in the schema, not in the tag")
        for name in sorted(set(have) & set(fields)):
            if have[name].replace("*", "") != fields[name].replace("*", ""):
                out.append(f"{struct}.{name}: schema {have[name]}, tag {fields[name]}")
    return out


def fetch(source: dict) -> Path:
    """The orig tarball, downloaded (once, cached) by scripts/build_kubernetes.sh --fetch-source."""
    out = subprocess.run(["bash", str(ROOT / "scripts" / "build_kubernetes.sh"), "--fetch-source"],
                         check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    target = Path(out)
    if target.name != source["tarball"]:
        raise SystemExit(f"Error: scripts/build_kubernetes.sh fetches {target.name} but this script reads "
                         f"{source['tarball']}: make the two source versions the same")
    if sha256(target) != source["sha256"]:
        raise SystemExit(f"Error: {target} has sha256 {sha256(target)}, expected {source['sha256']}")
    return target


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def extract(source: dict, tarball: Path) -> dict:
    """{apiVersion: entry} read from the tarball's types.go files."""
    out = {}
    with tarfile.open(tarball) as tar:
        commit = tar.pax_headers.get("comment", "")
        top = tar.next().name.split("/")[0]  # type: ignore[union-attr]
        for version in source["versions"]:
            path = f"cmd/kubeadm/app/apis/kubeadm/{version}/types.go"
            member = tar.extractfile(f"{top}/{path}")
            assert member is not None
            data = member.read()
            out[f"kubeadm.k8s.io/{version}"] = {
                "tag": source["tag"],
                "commit": commit,
                "path": path,
                "read_from": f"{source['tarball']} (sha256 {source['sha256']}) of {source['debian']}",
                "types_go_sha256": hashlib.sha256(data).hexdigest(),
                **field_sets(data.decode("utf-8")),
            }
    return out


HEADER = """\
# Written by scripts/kubeadm_fields.py from release tags' own sources; do not edit.
# Per apiVersion: the tag, the commit `git archive` recorded in the tarball, the path, the
# tarball it was read from, and the `json:` field names of every struct the kinds reach, in the
# type language of kubeadm-schemas.yaml.  tests/unit/plugins/filter/test_kubeadm_config.py
# compares kubeadm-schemas.yaml with this file.
"""


def main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {FIELDS_FILE.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    fresh: dict = {}
    for source in TAG_SOURCES:
        fresh.update(extract(source, fetch(source)))
    if args.write:
        FIELDS_FILE.write_text(HEADER + yaml.safe_dump(fresh, sort_keys=False, width=100), encoding="utf-8")
        return 0
    rc = 0
    committed = yaml.safe_load(FIELDS_FILE.read_text(encoding="utf-8"))
    if committed != fresh:
        print(f"{FIELDS_FILE.relative_to(ROOT)} differs from the tags' sources: "
              "run python scripts/kubeadm_fields.py --write", file=sys.stderr)
        rc = 1
    schemas = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    for api, entry in fresh.items():
        for diff in differences(schemas[api], entry):
            print(f"{api} ({entry['tag']}): {diff}", file=sys.stderr)
            rc = 1
    if rc == 0:
        print(f"kubeadm schemas match {', '.join(s['tag'] for s in TAG_SOURCES)}: {', '.join(fresh)}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
