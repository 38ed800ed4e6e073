#!/usr/bin/env bash
# The ansible-core matrix: the collection's unit tests (tests/unit/plugins) under every
# ansible-core minor that meta/runtime.yml admits but .venv does not carry.  .venv (setup.sh)
# holds ansible-core 2.19 and runs the whole unit suite, ansible-test sanity and molecule;
# each older minor gets its own venv, .venv-core<minor> (e.g. .venv-core216), with only
# ansible-core, pytest and jsonschema.  The two tests marked `cli` run the edgeops command
# line, which is installed in .venv only and claims ansible-core 2.19 only (pyproject.toml):
# they are deselected here.  ansible-test sanity runs on 2.19 only (scripts/sanity.sh): it
# takes minutes per run and the fresh-clone suite has about 5 minutes for this whole stage.
#
# Controller Python: the one Debian 12 has, python3.11 (PyPI has no CPython and the Debian
# archive has no 3.10 or 3.12), which is why the collection and the CLI claim 3.11 only.
#
#   bash scripts/matrix.sh              every minor below, one summary line each
#   EDGEOPS_CORE_MINORS="2.16" bash scripts/matrix.sh
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
# shellcheck source=scripts/env.sh
. scripts/env.sh  # the collection path and ansible.cfg

minors=${EDGEOPS_CORE_MINORS:-2.16 2.17 2.18}
py=${PYTHON:-python3.11}
results=()
failed=0
for minor in $minors; do
  venv=.venv-core${minor//./}
  t0=$SECONDS
  stamp=$venv/.edgeops-core
  if [[ ! -f $stamp || $(cat "$stamp") != "$minor" ]]; then
    rm -rf "$venv"
    log=$(mktemp)
    if ! { "$py" -m venv "$venv" &&
           "$venv/bin/python" -m pip install -q "ansible-core==$minor.*" "pytest>=8" "jsonschema>=4"; } \
         >"$log" 2>&1; then
      cat "$log" >&2; rm -f "$log"
      results+=("FAIL  $((SECONDS - t0))s  ansible-core $minor: venv $venv could not be created")
      failed=1
      continue
    fi
    rm -f "$log"
    echo "$minor" > "$stamp"
  fi
  version=$("$venv/bin/python" -c 'from ansible.release import __version__; print(__version__)')
  printf '\n---- ansible-core %s (%s) ----\n' "$version" "$venv"
  # $venv/bin first on PATH: tests that start ansible-playbook get this minor's, not .venv's.
  if PATH="$PWD/$venv/bin:$PATH" "$venv/bin/python" -m pytest -q -p no:cacheprovider -m "not cli" \
       tests/unit/plugins; then
    results+=("PASS  $((SECONDS - t0))s  ansible-core $version: tests/unit/plugins")
  else
    results+=("FAIL  $((SECONDS - t0))s  ansible-core $version: tests/unit/plugins")
    failed=1
  fi
done
printf '%s\n' "${results[@]}"
exit "$failed"
