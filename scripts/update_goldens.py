#!/usr/bin/env python3
"""Render the kubeadm golden files: a deliberate step a person runs, never CI.

The goldens (``tests/unit/plugins/filter/kubeadm/golden-<version>-<role>.yaml``) pin what the
``edgeops.gitops.kubeadm_config`` filter renders for the spec in ``spec.yml`` beside them.
``test_golden_files`` only compares; after a deliberate change of the output run

    python scripts/update_goldens.py            # rewrite the goldens that differ, list them
    python scripts/update_goldens.py --check    # change nothing; exit 1 naming each golden that differs

and review the diff before committing it.  Needs the collection importable (``. scripts/env.sh``).
"""

from __future__ import annotations

import argparse
import copy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
GOLDENS = ROOT / "tests" / "unit" / "plugins" / "filter" / "kubeadm"


def load() -> dict[str, Any]:
    """spec.yml: the version-neutral ``spec`` and the ``goldens`` list of [version, role]."""
    data: dict[str, Any] = yaml.safe_load((GOLDENS / "spec.yml").read_text(encoding="utf-8"))
    return data


def spec_for(version: object, spec: dict[str, Any] | None = None) -> dict[str, Any]:
    """The spec as that release can take it: kubeadm 1.10 has no clusterName, so none is asked for."""
    out = copy.deepcopy(load()["spec"] if spec is None else spec)
    if str(version).startswith("1.10"):
        out["cluster_name"] = None
    return out


def golden_path(version: str, role: str) -> Path:
    return GOLDENS / f"golden-{version}-{role}.yaml"


def golden_text(version: str, role: str) -> str:
    """What the filter renders today for the golden ``version``/``role``, as YAML text."""
    collections = next((str(p.parent) for p in ROOT.parents if p.name == "ansible_collections"),
                       str(ROOT / ".cache" / "collections"))  # the link scripts/setup.sh makes
    if collections not in sys.path:
        sys.path.insert(0, collections)
    from ansible_collections.edgeops.gitops.plugins.filter.kubeadm_config import kubeadm_config

    rendered = kubeadm_config(spec_for(version), version, role)
    if isinstance(rendered, list):
        return str(yaml.safe_dump_all(rendered, sort_keys=False))
    return str(yaml.safe_dump(rendered, sort_keys=False))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a golden differs")
    args = parser.parse_args(argv)
    differ = []
    for version, role in load()["goldens"]:
        path = golden_path(version, role)
        text = golden_text(version, role)
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        differ.append(path)
        if not args.check:
            path.write_text(text, encoding="utf-8")
    for path in differ:
        print(f"{'differs' if args.check else 'rewritten'}: {path}")
    return 1 if differ and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
