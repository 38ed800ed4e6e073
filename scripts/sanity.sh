#!/usr/bin/env bash
# ansible-test sanity on the collection, offline-capable.
# ansible-test needs the collection under ansible_collections/<ns>/<name>/:
# the tracked and new (not ignored) files are copied to such a tree.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
py=$root/.venv/bin/python

# The pip bootstrap stand-in, under the name ansible-test looks for.
pip_version=$("$py" - <<'PY'
import re, ansible_test, pathlib
src = (pathlib.Path(ansible_test.__file__).parent / "_internal/python_requirements.py").read_text()
print(re.search(r"pip='([0-9.]+)'", src).group(1))
PY
)
cache=~/.ansible/test/cache/get_pip_${pip_version//./_}.py
mkdir -p "$(dirname "$cache")"
cp scripts/get_pip_standin.py "$cache"

work=${EDGEOPS_SANITY_DIR:-$root/tests/output/sanity-tree}
dest=$work/ansible_collections/edgeops/gitops
rm -rf "$work"
mkdir -p "$dest"
git ls-files -z --cached --others --exclude-standard | grep -zv '^\.cache/' \
  | xargs -0 -I{} cp --parents -P {} "$dest/" 2>/dev/null || true
# Only what the collection ships (galaxy.yml build_ignore) plus its unit tests.
( cd "$dest" && rm -rf edgeops bench scripts lab molecule .config extensions/gitlab-ci \
    pyproject.toml ansible.cfg CONTRIBUTING.md tests/e2e tests/standin )
# ansible-test lists files with git when it finds a repository: give it one.
( cd "$dest" && git init -q && git add -A >/dev/null 2>&1 && \
  git -c user.name=sanity -c user.email=sanity@localhost commit -qm sanity >/dev/null )

cd "$dest"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
PATH=$root/.venv/bin:$PATH ansible-test sanity --python 3.11 --venv --color no "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
# ansible-test is silent on success: say how many tests passed.
if ((rc == 0)); then
  echo "ansible-test: $(grep -c '^Running sanity test' "$log") sanity test(s) passed"
fi
exit "$rc"
