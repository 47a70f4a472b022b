#!/usr/bin/env python3
"""Benchmark `iamprove diff` over the real managed-policy version pairs.

  scripts/bench-diff.py [--bin target/release/iamprove] [--corpus ../shared/corpora/aws-managed-policies]
                        [--limit N] [--jobs 1] [--out bench-diff.json]

Runs `iamprove diff OLD NEW --format json` once per pair in INDEX_version_pairs.csv (old vs new as
identity policies), process start included, and reports: how many were decided, median / p90 / p99 /
max wall time per pair, how many widened, and every pair that was unknown or failed."""
import argparse, csv, json, os, statistics, subprocess, sys, time

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/iamprove")
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "corpora", "aws-managed-policies"))
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(a.corpus, "INDEX_version_pairs.csv"))))
    if a.limit:
        rows = rows[: a.limit]
    times, verdicts, problems = [], {}, []
    findings_total = findings_known = 0
    for r in rows:
        old, new = os.path.join(a.corpus, r["old_file"]), os.path.join(a.corpus, r["new_file"])
        t0 = time.perf_counter()
        p = subprocess.run([a.bin, "diff", old, new, "--format", "json", "--type", "identity", "--timeout", str(a.timeout)], capture_output=True, text=True)
        dt = time.perf_counter() - t0
        times.append(dt)
        try:
            out = json.loads(p.stdout)
            v = out["verdict"]
            for f in out.get("findings", []):
                findings_total += 1
                if f.get("action", {}).get("known_actions"):
                    findings_known += 1
        except Exception:
            v = f"error(exit {p.returncode})"
        verdicts[v] = verdicts.get(v, 0) + 1
        if v not in ("widened", "no_widening"):
            problems.append({"pair": f'{r["policy"]} {r["old_version"]}->{r["new_version"]}', "verdict": v, "stderr": p.stderr.strip()[:300], "seconds": round(dt, 3)})
    times.sort()
    q = lambda f: times[min(len(times) - 1, int(f * len(times)))]
    decided = verdicts.get("widened", 0) + verdicts.get("no_widening", 0)
    report = {
        "pairs": len(rows), "decided": decided, "decided_pct": round(100.0 * decided / max(1, len(rows)), 2),
        "verdicts": verdicts,
        "median_ms": round(1000 * statistics.median(times), 1), "p90_ms": round(1000 * q(0.90), 1),
        "p99_ms": round(1000 * q(0.99), 1), "max_ms": round(1000 * times[-1], 1),
        "total_s": round(sum(times), 1),
        "findings": findings_total, "findings_naming_catalog_actions": findings_known,
        "problems": problems,
    }
    print(json.dumps(report, indent=1))
    if a.out:
        json.dump(report, open(a.out, "w"), indent=1)
    return 0 if not problems else 1

if __name__ == "__main__":
    sys.exit(main())
