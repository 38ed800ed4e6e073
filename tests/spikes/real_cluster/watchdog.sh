#!/bin/bash
# Runs on the host during a session: if a watched global sysctl moves away from its baseline, put it back at once.
BASE=$1; LOG=$2
while sleep 2; do
  while IFS='=' read -r k v; do
    [[ $k == swap ]] && continue
    cur=$(tr '\t' ' ' < /proc/sys/$k)
    if [[ "$cur" != "$v" ]]; then
      echo "$(date -u +%T) HOST $k changed to '$cur' (baseline '$v'): restoring" >> "$LOG"
      printf '%s' "$v" > /proc/sys/$k
    fi
  done < "$BASE"
done
