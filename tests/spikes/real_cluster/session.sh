#!/bin/bash
# One container session (<= 20 min). Run as:  flock /var/tmp/edgeops-podman.lock /var/tmp/k8sreal/session.sh
set -u
cd /work/main && . scripts/env.sh
K=/var/tmp/k8sreal; N=k8sreal-master; W=k8sreal-worker
BIN=/var/cache/edgeops/kubernetes/1.20.5+really1.20.2-1.1+deb12u1/bin
OUT=$K/out/$(date -u +%Y%m%dT%H%M%S); mkdir -p "$OUT"; ln -sfn "$OUT" $K/out/latest
exec > >(tee -a "$OUT/session.log") 2>&1
T0=$SECONDS; echo "session start $(date -u +%T), lock held"
mkdir -p $K/stage/bin; for b in kubeadm kubelet kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  [ -x $BIN/$b ] && cp -u $BIN/$b $K/stage/bin/; done; ls $K/stage/bin
bash $K/hostcheck.sh snapshot "$OUT/host-before.txt"
bash $K/watchdog.sh "$OUT/host-before.txt" "$OUT/watchdog.log" & WD=$!
cleanup() {
  for c in $N $W; do
    podman container exists $c || continue
    for try in 1 2 3; do timeout 90 podman rm -f -t 5 $c >/dev/null 2>&1; podman container exists $c || break; sleep 3; done
    podman container exists $c && echo "!!! FAILED TO REMOVE $c" || echo "removed $c"
  done
  kill $WD 2>/dev/null
  bash $K/hostcheck.sh snapshot "$OUT/host-after.txt"
  bash $K/hostcheck.sh compare "$OUT/host-before.txt" "$OUT/host-after.txt"
  iptables-save > "$OUT/host-iptables-after.txt" 2>&1
  grep -Ei 'KUBE|DOCKER|10\.244|cni' "$OUT/host-iptables-after.txt" && echo "HOST IPTABLES: foreign rules!" || echo "host iptables: no KUBE/DOCKER/CNI rules"
  ls /sys/fs/cgroup/memory | grep -E 'kubepods|docker' && echo "HOST CGROUPS: leftovers!" || echo "host cgroup root: no kubepods/docker"
  [ -s "$OUT/watchdog.log" ] && { echo "WATCHDOG FIRED:"; cat "$OUT/watchdog.log"; }
  echo "session end $(date -u +%T), $((SECONDS - T0))s"
}
trap cleanup EXIT
podman rm -f $N $W >/dev/null 2>&1
podman run -d --name $N --hostname $N --privileged --systemd=always --cgroupns=private \
  --tmpfs /var/lib/docker:rw,exec,size=8g \
  -v $K/stage:/stage:ro -v "$OUT":/out:rw \
  localhost/edgeops-lab:bookworm /usr/local/sbin/edgeops-init || exit 1
for i in $(seq 90); do s=$(podman exec $N systemctl is-system-running 2>/dev/null); [[ $s == running || $s == degraded ]] && break; sleep 1; done
echo "booted: $s after $((SECONDS - T0))s"
timeout 1020 podman exec $N bash -c "cp /stage/inside.sh /root/inside.sh && exec bash /root/inside.sh master 10.244.0.0/24"; echo "inside rc=$?"
# A worker joins only when the master came up Ready and the session has time left.
if grep -qw Ready "$OUT/nodes.txt" 2>/dev/null && ((SECONDS - T0 < 660)); then
  echo "=== [$(date -u +%T)] worker $W"
  podman run -d --name $W --hostname $W --privileged --systemd=always --cgroupns=private \
    --tmpfs /var/lib/docker:rw,exec,size=8g -v $K/stage:/stage:ro -v "$OUT":/out:rw \
    localhost/edgeops-lab:bookworm /usr/local/sbin/edgeops-init
  for i in $(seq 90); do s=$(podman exec $W systemctl is-system-running 2>/dev/null); [[ $s == running || $s == degraded ]] && break; sleep 1; done
  timeout 300 podman exec $W bash -c "cp /stage/inside.sh /root/inside.sh && exec bash /root/inside.sh worker 10.244.1.0/24"; echo "worker prep rc=$?"
  # the join command carries the token: it goes from one podman exec to the other, never to a file or the log
  tj=$SECONDS
  JOIN=$(podman exec $N kubeadm token create --ttl 15m --print-join-command 2>/dev/null)
  timeout 300 podman exec $W bash -c "$JOIN --v=1" 2>&1 | sed -E 's/(--token|--discovery-token-ca-cert-hash) [^ ]+/\1 <masked>/g; s/[a-z0-9]{6}\.[a-z0-9]{16}/<token>/g' > "$OUT/kubeadm-join.log"
  echo "kubeadm join rc=${PIPESTATUS[0]} in $((SECONDS - tj))s"; unset JOIN
  tail -15 "$OUT/kubeadm-join.log"
  for i in $(seq 30); do
    [ "$(podman exec $N kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes --no-headers 2>/dev/null | grep -cw Ready)" = 2 ] && break; sleep 5
  done
  podman exec $N kubectl --kubeconfig /etc/kubernetes/admin.conf get nodes -o wide 2>&1 | tee "$OUT/nodes-2.txt"
  podman exec $N kubectl --kubeconfig /etc/kubernetes/admin.conf get pods -A -o wide 2>&1 | tee "$OUT/pods-2.txt"
  KC="podman exec $N kubectl --kubeconfig /etc/kubernetes/admin.conf"
  tw=$SECONDS; $KC -n kube-system wait --for=condition=Ready pod --all --timeout=150s; echo "control-plane pods Ready wait: $((SECONDS - tw))s"
  $KC -n kube-system get pods -o wide 2>&1 | tee "$OUT/pods-3.txt"
  # a pod on the worker from a local image: the bridge CNI gives it an address in the worker's range
  $KC run cni-probe --image=edgeops.local/pause:3.2 --image-pull-policy=Never --restart=Never --overrides='{"spec":{"nodeName":"k8sreal-worker"}}'
  $KC wait --for=condition=Ready pod/cni-probe --timeout=60s; $KC get pod cni-probe -o wide 2>&1 | tee "$OUT/cni-probe.txt"
  podman exec $N bash -c 'curl -sk https://127.0.0.1:6443/livez; echo; ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/apiserver-etcd-client.crt --key=/etc/kubernetes/pki/apiserver-etcd-client.key endpoint status -w table; ls -la /var/lib/etcd/data/member'
  podman exec $W journalctl -u kubelet --no-pager > "$OUT/kubelet-journal-worker.txt" 2>&1
  echo "worker done after $((SECONDS - T0))s"
fi
