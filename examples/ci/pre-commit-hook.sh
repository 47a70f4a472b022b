#!/bin/sh
# iamprove pre-commit hook: validate the staged policy files and refuse a commit that widens
# access compared with HEAD.
#
# As a plain git hook:      cp examples/ci/pre-commit-hook.sh .git/hooks/pre-commit
# With the pre-commit tool: see examples/ci/.pre-commit-hooks.yaml (it passes the file names).
#
# Without arguments the staged JSON files are checked. Note: `diff --git-base HEAD` reads the
# working-tree version of each file; the pre-commit tool stashes unstaged changes first, a plain
# git hook does not.
#
# Environment: IAMPROVE (the binary, default `iamprove`), IAMPROVE_ALLOW_UNKNOWN=1 (let a solver
# timeout through), IAMPROVE_DIFF_ARGS (extra `diff` flags, e.g. `--timeout 60`).
set -u

iamprove=${IAMPROVE:-iamprove}
if ! command -v "$iamprove" >/dev/null 2>&1; then
    echo "pre-commit: iamprove not found (cargo install --path . or set IAMPROVE)" >&2
    exit 1
fi

if [ "$#" -eq 0 ]; then
    # staged JSON files: added, copied, modified, renamed, deleted (one per line)
    files=$(git diff --cached --name-only --diff-filter=ACMRD -- '*.json')
    [ -n "$files" ] || exit 0
    # word splitting on new lines only
    old_ifs=$IFS
    IFS='
'
    # shellcheck disable=SC2086
    set -- $files
    IFS=$old_ifs
fi

# 1. grammar and hazards, on the files that still exist and look like policy documents
status=0
for f in "$@"; do
    if [ -f "$f" ] && grep -q '"Statement"' "$f"; then
        "$iamprove" validate "$f" || status=1
    fi
done
[ "$status" -eq 0 ] || {
    echo "pre-commit: iamprove validate found errors" >&2
    exit 1
}

# 2. does any of these files widen access compared with HEAD? (other JSON is skipped)
# shellcheck disable=SC2086
"$iamprove" diff ${IAMPROVE_DIFF_ARGS:-} --git-base HEAD -- "$@"
rc=$?
case $rc in
    0) exit 0 ;;
    1) echo "pre-commit: these changes widen access (above); commit with --no-verify if that is intended" >&2 ;;
    3) [ "${IAMPROVE_ALLOW_UNKNOWN:-0}" = 1 ] && exit 0
       echo "pre-commit: iamprove could not decide within its limits (set IAMPROVE_ALLOW_UNKNOWN=1 to accept)" >&2 ;;
    *) echo "pre-commit: iamprove diff failed (exit $rc)" >&2 ;;
esac
exit 1
