#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
#
#   fresh machine (setup.sh's packages on a clean Debian 12 root) -> lab images
#   -> unit (pytest; the collection's tests on ansible-core 2.16-2.18 too) -> lint (ansible-lint, production profile, shellcheck) -> sanity
#   (ansible-test) -> molecule scenarios (each line of each
#   scenario's `matrix`) -> end-to-end on the lab (edgeops demo & co., then the GitLab
#   pipelines and an AWX job on the lab, one audit chain)
#
# Every stage runs even when an earlier one failed, so one run shows all
# problems; the exit code is non-zero when any stage failed.  The host's
# global sysctls are recorded first and compared at the end: tests must not
# change the machine they run on.
#
# Options (environment): EDGEOPS_TEST_STAGES="fresh images unit lint sanity molecule e2e"
# to run a subset; EDGEOPS_MOLECULE_SCENARIOS="sysctl_tuning ..." to pick scenarios.
#
#   bash scripts/test.sh --kubernetes   adds the `kubernetes` stage: the rest of Kubernetes 1.20.2
#                                       (kubelet, control plane, pause) built from source, its .debs
#                                       in a flat apt repository, and the kubeadm role installing
#                                       them in a systemd container, and a real 4-node cluster on
#                                       the lab (edgeops lab up --kubernetes 1.20.2, edgeops apply).
#                                       Not in the default run: on a
#                                       fresh machine the build alone takes about 40 minutes more
#                                       than the kubeadm build the default run does (the README's
#                                       build section has the times), and CI has 90 minutes.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

bash scripts/setup.sh || { echo "setup failed" >&2; exit 1; }
# shellcheck source=scripts/env.sh
. scripts/env.sh
export PY_COLORS=0 ANSIBLE_FORCE_COLOR=0 ANSIBLE_NOCOLOR=1 NO_COLOR=1

stages=${EDGEOPS_TEST_STAGES:-fresh images unit lint sanity molecule e2e}
for arg in "$@"; do
  case $arg in
    --kubernetes) stages="$stages kubernetes" ;;
    *) echo "scripts/test.sh: unknown option $arg (known: --kubernetes)" >&2; exit 2 ;;
  esac
done
results=()
failed=0
passed=0
suite_start=$SECONDS

banner() { printf '\n==== %s ====\n' "$*"; }
run_step() {  # run_step NAME COMMAND...
  local name=$1; shift
  local t0=$SECONDS rc
  banner "$name"
  "$@"; rc=$?
  local dt=$((SECONDS - t0))
  if ((rc == 0)); then
    results+=("PASS  ${dt}s  $name"); passed=$((passed + 1))
  else
    results+=("FAIL  ${dt}s  $name (rc=$rc)"); failed=$((failed + 1))
  fi
  return 0
}
want() { [[ " $stages " == *" $1 "* ]]; }

global_sysctls() {
  # The second line: what a kubelet sets on the machine it runs on (pkg/kubelet/cm setupKernelTunables,
  # v1.20.2); a kubelet in a lab container must never set them on the host.
  for k in fs/file-max fs/nr_open fs/inotify/max_user_watches kernel/pid_max vm/max_map_count \
           kernel/threads-max net/core/somaxconn net/ipv4/ip_local_port_range \
           vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys \
           kernel/keys/root_maxbytes; do
    printf '%s = %s\n' "$k" "$(tr '\t' ' ' < "/proc/sys/$k")"
  done
}
sysctl_before=$(global_sysctls)

leftovers() {
  local n loops
  # CI starts on a machine with no containers and no loop devices attached.
  n=$(podman ps -aq 2>/dev/null | wc -l)
  loops=$(losetup -a 2>/dev/null | wc -l)
  echo "containers left: $n; loop devices still attached: $loops"
  podman ps -a --format '{{.Names}}' 2>/dev/null; losetup -a 2>/dev/null
  ((n == 0 && loops == 0))
}

if want fresh; then
  run_step "fresh Debian 12 gets every program from setup.sh" \
    pytest -q -p no:cacheprovider tests/system/test_fresh_machine.py
fi
if want images; then
  for d in bookworm trixie; do
    run_step "lab image $d" edgeops lab image --distro "$d"
  done
fi
lab_down_clean() { edgeops lab down && leftovers; }

if want unit; then
  run_step "unit tests (pytest)" pytest -q -p no:cacheprovider tests/unit
  # ansible-core 2.16-2.18 (2.19 is .venv, above): the collection's unit tests, one venv each
  for minor in 2.16 2.17 2.18; do
    run_step "unit tests on ansible-core $minor (scripts/matrix.sh)" env EDGEOPS_CORE_MINORS=$minor bash scripts/matrix.sh
  done
  run_step "python style (ruff check ., mypy)" bash -c 'ruff check . && mypy'
  # The real kubeadm 1.20.2, built from Debian's source package once per machine (cached under
  # /var/cache/edgeops/kubernetes/); tests/integration/test_kubeadm_real.py runs it and fails,
  # never skips, when it is missing.
  run_step "real kubeadm 1.20.2 (scripts/build_kubernetes.sh kubeadm)" bash scripts/build_kubernetes.sh kubeadm
  run_step "audit trail through gitlab-ci-local and AWX (tests/integration)" \
    pytest -q -p no:cacheprovider tests/integration --ignore=tests/integration/test_kubeadm_real.py \
    --ignore=tests/integration/test_kubeadm_packages.py --ignore=tests/integration/test_kubeadm_cluster.py
  run_step "the real kubeadm 1.20.2 reads every config we render for 1.13-1.20 (tests/integration)" \
    pytest -q -p no:cacheprovider tests/integration/test_kubeadm_real.py
fi
if want lint; then
  run_step "ansible-lint (production profile)" ansible-lint --profile production --nocolor
  run_step "role READMEs match argument_specs" python scripts/role_docs.py --check
  run_step "kubeadm schemas match the release tags' types.go" python scripts/kubeadm_fields.py
  run_step "shell scripts (shellcheck)" shellcheck scripts/*.sh tests/e2e/run.sh .ci/run \
    edgeops/lab/data/image/customize.sh edgeops/lab/data/image/edgeops-init
fi
if want sanity; then
  run_step "ansible-test sanity" bash scripts/sanity.sh
fi
if want kubernetes; then
  # Cached like kubeadm above (a second run only checks the cache).
  run_step "Kubernetes 1.20.2 .debs and flat apt repository (scripts/build_kubernetes.sh)" bash scripts/build_kubernetes.sh
  run_step "kubeadm role installs the 1.20.2 packages from that repository (tests/integration)" \
    pytest -q -p no:cacheprovider tests/integration/test_kubeadm_packages.py
  # A real cluster: edgeops lab up --kubernetes 1.20.2, edgeops apply (real kubeadm init and three
  # joins), 4 nodes Ready, etcd on the loop device, second apply changed 0, drift clean, no token
  # anywhere, lab down clean, host sysctls/swap/iptables as before (about 10 min).
  run_step "a real Kubernetes 1.20.2 cluster on the lab (tests/integration/test_kubeadm_cluster.py)" \
    pytest -q -s -p no:cacheprovider tests/integration/test_kubeadm_cluster.py
fi
if want molecule; then
  scenarios=${EDGEOPS_MOLECULE_SCENARIOS:-$(for m in molecule/*/matrix; do basename "$(dirname "$m")"; done)}
  for s in $scenarios; do
    while IFS= read -r line; do
      [[ -z ${line// } || $line == \#* ]] && continue
      # shellcheck disable=SC2086  # $line is a list of VAR=value words
      run_step "molecule $s [$line]" env $line molecule test -s "$s"
    done < "molecule/$s/matrix"
  done
fi
if want e2e; then
  run_step "lab up" edgeops lab up
  if [[ -x tests/e2e/run.sh ]]; then
    run_step "end to end on the lab (tests/e2e/run.sh)" tests/e2e/run.sh
  fi
  # After the demo check (which leaves the lab converged, and leaves it so): the three GitLab
  # pipelines (gitlab-ci-local) and an AWX job (ansible-runner) on the lab's five hosts, real
  # drift between them, one audit chain on a local bare remote, verified from a fresh clone.
  run_step "audit trail: gitlab-ci-local pipelines and an AWX job on the lab (tests/e2e/test_audit_lab.py)" \
    pytest -q -s -p no:cacheprovider tests/e2e/test_audit_lab.py
  # One drill per concern at once; today's concern report and the task-by-task roles of the
  # baseline commit must find the same (host, concern) pairs; then apply heals the lab.
  run_step "the concern report finds the drift the task-by-task roles found (tests/e2e/drift_compare.py)" \
    python tests/e2e/drift_compare.py
  run_step "lab down leaves nothing behind" lab_down_clean
fi

banner "host global sysctls unchanged by the suite"
sysctl_after=$(global_sysctls)
if [[ $sysctl_before == "$sysctl_after" ]]; then
  results+=("PASS  0s  host global sysctls unchanged"); passed=$((passed + 1))
else
  diff <(echo "$sysctl_before") <(echo "$sysctl_after")
  results+=("FAIL  0s  host global sysctls changed"); failed=$((failed + 1))
fi

banner "summary ($(( (SECONDS - suite_start) / 60 )) min)"
printf '%s\n' "${results[@]}"
echo "suite: $passed passed, $failed failed"
((failed == 0))
