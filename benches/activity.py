#!/usr/bin/env python3
"""Activity benchmark: `generate` and `tighten` for every principal of the real CloudTrail corpus,
`why` for every real AccessDenied / UnauthorizedOperation record.

    cargo build --release
    python3 benches/activity.py [path/to/iamprove] > /tmp/activity.md

Reads ../shared/corpora/cloudtrail (next to the repository, or two levels up from a worktree);
prints Markdown tables (docs/activity-benchmark.md holds a run). Times are wall-clock per command,
including loading all 90 real files (6 MB) each time.
"""
import collections
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/iamprove")
SHARED = next(p for p in (os.path.join(ROOT, "../shared"), os.path.join(ROOT, "../../shared"))
              if os.path.isdir(os.path.join(p, "corpora")))
CT = os.path.join(SHARED, "corpora/cloudtrail")
FILES = sorted(glob.glob(os.path.join(CT, "real/invictus-ir__aws_dataset/CloudTrail/*.json"))) + \
    sorted(glob.glob(os.path.join(CT, "real/datadog__stratus-red-team/detonation-logs/*.json")))
DUMP = os.path.join(ROOT, "tests/data/activity/account-invictus.json")


def records(path):
    with open(path) as f:
        doc = json.load(f)
    return doc["Records"] if isinstance(doc, dict) else doc


def principal_of(r):
    ui = r.get("userIdentity") or {}
    t = ui.get("type")
    if t == "AssumedRole":
        issuer = ((ui.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
        return issuer or ui.get("arn")
    if t in ("IAMUser", "FederatedUser"):
        return ui.get("arn")
    return None


def run(args):
    t0 = time.perf_counter()
    p = subprocess.run([BIN] + args, capture_output=True, text=True)
    dt = time.perf_counter() - t0
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        out = None
    return p.returncode, out, dt, p.stderr


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0


def main():
    counts = collections.Counter()
    ok_counts = collections.Counter()
    for f in FILES:
        for r in records(f):
            p = principal_of(r)
            if p:
                counts[p] += 1
                if not r.get("errorCode"):
                    ok_counts[p] += 1
    tmp = tempfile.mkdtemp()
    admin = os.path.join(tmp, "admin.json")
    with open(admin, "w") as f:
        json.dump({"Version": "2012-10-17", "Statement": [
            {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}]}, f)
    rows = []
    gen_times, tig_times = [], []
    for p in sorted(counts, key=lambda x: (-counts[x], x)):
        code, rep, dt, err = run(["generate", "--format", "json", "--principal", p, "--cloudtrail"] + FILES)
        row = {"principal": p, "records": counts[p], "ok": ok_counts[p], "gen_code": code, "gen_s": dt}
        if code == 0:
            gen_times.append(dt)
            pol = rep["policy"]
            row["stmts"] = len(pol["Statement"])
            row["bytes"] = len(json.dumps(pol, separators=(",", ":")))
            row["actions"] = rep["observed"]["actions"]
            lv = rep["over_grant"]["by_access_level"]
            row["any"] = sum(v["actions_on_any_resource"] for v in lv.values())
            row["gen"] = sum(v["actions_on_generalised_resources"] for v in lv.values())
            row["levels"] = {k: v["allowed_actions"] for k, v in lv.items()}
            row["proof"] = f'{rep["proof"]["allowed"]}/{rep["proof"]["replayed"]}'
            genp = os.path.join(tmp, "gen.json")
            with open(genp, "w") as f:
                json.dump(pol, f)
            v = subprocess.run([BIN, "validate", genp], capture_output=True, text=True)
            row["valid"] = v.returncode == 0
            # tightening the generated policy against the same activity removes nothing
            c2, r2, _, _ = run(["tighten", genp, "--format", "json", "--principal", p, "--cloudtrail"] + FILES)
            row["retighten"] = (r2 or {}).get("verdict", f"exit {c2}") + \
                (f', {r2["removed"]["removed_total"]} removed' if r2 else "")
        else:
            row["err"] = err.strip().splitlines()[-1][:110] if err.strip() else ""
        code, rep, dt, err = run(["tighten", admin, "--format", "json", "--principal", p, "--cloudtrail"] + FILES)
        row["tig_code"] = code
        row["tig_s"] = dt
        if code in (0, 3) and rep:
            tig_times.append(dt)
            row["tig_verdict"] = rep["verdict"]
            row["tig_removed"] = rep["removed"]["removed_total"]
            row["tig_kept"] = sum(rep["removed"]["catalog_actions_after"].values())
            row["tig_bytes"] = len(json.dumps(rep["policy"], separators=(",", ":")))
            row["tig_proof"] = f'{rep["proof"]["observed_allowed"]}/{rep["proof"]["observed_replayed"]}'
        else:
            row["tig_err"] = err.strip().splitlines()[-1][:110] if err.strip() else ""
        rows.append(row)

    print(f"## generate and tighten: {len(rows)} principals, {len(FILES)} files\n")
    print(f"generate: {len(gen_times)} policies; wall time median {pct(gen_times, .5):.2f} s, "
          f"max {max(gen_times or [0]):.2f} s. tighten (of `Action: *, Resource: *`): {len(tig_times)} results; "
          f"median {pct(tig_times, .5):.2f} s, max {max(tig_times or [0]):.2f} s.\n")
    print("| principal | records (ok) | generate: statements / bytes / actions | on `*` resource (unknown) | generalised | proof | valid | re-tighten | tighten admin: verdict / removed / kept / bytes | proof |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        name = r["principal"].split(":", 5)[-1]
        acct = r["principal"].split(":")[4]
        if r["gen_code"] == 0:
            g = f'{r["stmts"]} / {r["bytes"]} / {r["actions"]}'
            extra = [str(r["any"]), str(r["gen"]), r["proof"], "yes" if r["valid"] else "NO", r["retighten"]]
        else:
            g = f'exit {r["gen_code"]}: {r.get("err", "")}'
            extra = ["", "", "", "", ""]
        if "tig_verdict" in r:
            t = f'{r["tig_verdict"]} / {r["tig_removed"]} / {r["tig_kept"]} / {r["tig_bytes"]}'
            tp = r["tig_proof"]
        else:
            t = f'exit {r["tig_code"]}: {r.get("tig_err", "")}'
            tp = ""
        print(f'| `{acct}:{name}` | {r["records"]} ({r["ok"]}) | {g} | ' + " | ".join(extra) + f" | {t} | {tp} |")

    # why over every real denial
    real = os.path.join(tmp, "denied.jsonl")
    n = 0
    with open(os.path.join(CT, "derived/access_denied.jsonl")) as f, open(real, "w") as out:
        for line in f:
            if json.loads(line)["set"].startswith("real/"):
                out.write(line)
                n += 1
    code, rep, dt, err = run(["why", "--account", DUMP, "--format", "json", "--event", real])
    exps = rep["explanations"] if rep and "explanations" in rep else ([rep] if rep else [])
    notx = rep.get("not_explained", []) if rep else []
    print(f"\n## why: {n} real AccessDenied / UnauthorizedOperation records, dump `tests/data/activity/account-invictus.json`\n")
    print(f"{len(exps)} explained, {len(notx)} not explained, {dt:.2f} s for all.\n")
    c = collections.Counter()
    for e in exps:
        layers = ", ".join(b["layer"] for b in e["blocking"])
        m = e.get("message") or {}
        agree = "no reason in message" if not m.get("deny") else ("agrees" if m.get("agrees") else "DISAGREES")
        c[(e["request"]["action"], e["decision"], layers, agree, (e.get("fix") or {}).get("confirmed"))] += 1
    print("| action | decision | blocking | message | fix confirmed | records |")
    print("|---|---|---|---|---|---|")
    for (a, d, l, ag, fx), k in sorted(c.items(), key=lambda x: -x[1]):
        print(f"| `{a}` | {d} | {l} | {ag} | {fx} | {k} |")
    r = collections.Counter()
    for x in notx:
        msg = x.split(": ", 1)[-1]
        if "is not in the account dump" in msg:
            key = "principal's account not in the dump: " + msg.split("`")[1] + " of " + msg.split("account ")[1].split(" ")[0]
        else:
            key = msg.split(": ", 1)[-1][:120]
        r[key] += 1
    print("\n| not explained because | records |")
    print("|---|---|")
    for k, v in sorted(r.items(), key=lambda x: -x[1]):
        print(f"| {k} | {v} |")


if __name__ == "__main__":
    main()
