#!/usr/bin/env bash
# Time (wall and CPU: user + system) and peak memory of `escalations` and `who-can iam:*` on
# synthetic accounts of 100, 1,000 and 10,000 principals, on the IAM-Vulnerable dump, and of
# `check` with three pattern invariants (issue 10's scale target: 10,000 principals under 60 CPU-s
# and 4 GB; IAM-Vulnerable end to end under 2 s). Usage: scripts/bench-account.sh [SIZES...]
# The machine is shared, so CPU time is the figure to compare; wall time depends on the load.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN=target/release/iamprove
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SIZES=("${@:-100 1000 10000}")
run() { # label, args...
  local label=$1; shift
  /usr/bin/time -f "%e %U %S %M" -o "$TMP/t" "$BIN" "$@" -q --format json > "$TMP/out" || true
  read -r secs user sys kb < <(tail -n 1 "$TMP/t")
  printf '| %s | %s s | %s s | %d MB |\n' "$label" "$secs" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" $((kb / 1024))
}
echo "| run | wall time | CPU time | peak RSS |"
echo "|---|---|---|---|"
for n in ${SIZES[*]}; do
  "$BIN" gen-account --principals "$n" --seed 1 > "$TMP/a$n.json"
  run "escalations, $n principals" escalations --account "$TMP/a$n.json"
  run "who-can iam:*, $n principals" who-can 'iam:*' --account "$TMP/a$n.json"
done
for d in ../shared ../../shared; do
  F=$d/corpora/account-dumps/iam-vulnerable/examples/files/example.iam-vulnerable-pure.2023-07-01.json
  if [ -f "$F" ]; then
    run "escalations, IAM-Vulnerable (116 principals)" escalations --account "$F"
    run "who-can iam:*, IAM-Vulnerable" who-can 'iam:*' --account "$F"
    # the spec lives in $TMP, and a relative target is read from the spec's directory
    F=$(cd "$(dirname "$F")" && pwd)/$(basename "$F")
    printf '{"target": {"account": "%s"}, "invariants": [{"id": "no-escalation", "no_escalation": true}, {"id": "no-iam", "forbid": {"Action": "iam:*"}}, {"id": "no-s3-delete-prod", "forbid": {"Action": "s3:Delete*", "Resource": "arn:aws:s3:::bucket-1*"}}, {"id": "no-kms-decrypt-outside-vpc", "forbid": {"Action": "kms:Decrypt", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1234"}}}}]}\n' "$F" > "$TMP/spec-iv.json"
    run "check, no_escalation + three pattern invariants, IAM-Vulnerable" check "$TMP/spec-iv.json"
    break
  fi
done
# Pattern invariants (issue 10): three `forbid` questions over the 10,000-principal account.
#   {"target": {"account": "a10000.json"}, "invariants": [
#     {"id": "no-iam", "forbid": {"Action": "iam:*"}},
#     {"id": "no-s3-delete-prod", "forbid": {"Action": "s3:Delete*", "Resource": "arn:aws:s3:::bucket-1*"}},
#     {"id": "no-kms-decrypt-outside-vpc", "forbid": {"Action": "kms:Decrypt", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1234"}}}}]}
if [[ " ${SIZES[*]} " == *" 10000 "* ]]; then
  printf '{"target": {"account": "%s"}, "invariants": [{"id": "no-iam", "forbid": {"Action": "iam:*"}}, {"id": "no-s3-delete-prod", "forbid": {"Action": "s3:Delete*", "Resource": "arn:aws:s3:::bucket-1*"}}, {"id": "no-kms-decrypt-outside-vpc", "forbid": {"Action": "kms:Decrypt", "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1234"}}}}]}\n' "$TMP/a10000.json" > "$TMP/spec.json"
  # --timeout: the default (30 s of wall time) is too short on a loaded machine; an answer cut
  # off by it is `unknown`, never a pass, but then the run measures less work
  run "check, three pattern invariants, 10000 principals" check "$TMP/spec.json" --timeout 3600
fi
