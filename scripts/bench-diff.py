#!/usr/bin/env python3
"""Benchmark `iamprove diff` over the real managed-policy version pairs.

  scripts/bench-diff.py [--bin target/release/iamprove] [--compare OTHER_BIN]
                        [--corpus ../shared/corpora/aws-managed-policies]
                        [--limit N] [--every N] [--pairs FILE] [--timeout 30]
                        [--out bench-diff.json]

Runs `iamprove diff OLD NEW --format json --type identity` once per pair in
INDEX_version_pairs.csv (old vs new as identity policies), process start included, and reports:
how many were decided, median / p90 / p99 / max wall-clock and CPU (user + system) time per pair,
a histogram of wall times, how many widened, and every pair that was unknown or failed.

With --compare, OTHER_BIN runs on each pair right after --bin, so both see the same load on a
shared machine; both are reported, plus the pairs whose verdicts differ ("verdicts_differ") and
those whose whole JSON output differs ("outputs_differ").

--every N keeps every Nth pair; --pairs FILE adds the pairs named in FILE (one
`Policy vOLD->vNEW` a line, as in the report's "per_pair" list), e.g. the slowest of an earlier
run: `--every 10 --pairs slow.txt` is the subset used for A/B runs. The report's "per_pair" list
has each pair's verdict, wall and CPU milliseconds (CPU = the child's own user + system time).

--repeat N runs --bin N times on each pair (times are from the first run) and lists under
"varies" every pair whose output (verdict and findings, the whole JSON) is not the same in all N
runs: the same input must give the same answer (issue 13)."""
import argparse, csv, hashlib, json, os, resource, statistics, subprocess, sys, time

BUCKETS_MS = [3, 5, 10, 20, 50, 100, 200, 500, 1000, 5000, 30000]


def run(binary, old, new, timeout):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([binary, "diff", old, new, "--format", "json", "--type", "identity", "--timeout", str(timeout)], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    findings = known = 0
    try:
        out = json.loads(p.stdout)
        v = out["verdict"]
        for f in out.get("findings", []):
            findings += 1
            if f.get("action", {}).get("known_actions"):
                known += 1
    except Exception:
        v = f"error(exit {p.returncode})"
    return v, wall, cpu, findings, known, p.stderr.strip()[:300], hashlib.sha256(p.stdout.encode()).hexdigest()


def pair_name(r):
    return f'{r["policy"]} {r["old_version"]}->{r["new_version"]}'


def summary(rows, results):
    walls = sorted(r[1] for r in results)
    cpus = sorted(r[2] for r in results)
    q = lambda xs, f: xs[min(len(xs) - 1, int(f * len(xs)))]
    verdicts, problems = {}, []
    for r, (v, wall, cpu, _, _, err, _) in zip(rows, results):
        verdicts[v] = verdicts.get(v, 0) + 1
        if v not in ("widened", "no_widening"):
            problems.append({"pair": f'{r["policy"]} {r["old_version"]}->{r["new_version"]}', "verdict": v, "stderr": err, "seconds": round(wall, 3)})
    decided = verdicts.get("widened", 0) + verdicts.get("no_widening", 0)
    hist, lo = {}, 0
    for b in BUCKETS_MS:
        hist[f"{lo}-{b} ms"] = sum(1 for w in walls if lo <= w * 1000 < b)
        lo = b
    hist[f">= {lo} ms"] = sum(1 for w in walls if w * 1000 >= lo)
    ms = lambda x: round(1000 * x, 1)
    return {
        "pairs": len(results), "decided": decided, "decided_pct": round(100.0 * decided / max(1, len(results)), 2),
        "verdicts": verdicts,
        "median_ms": ms(statistics.median(walls)), "p90_ms": ms(q(walls, 0.90)), "p99_ms": ms(q(walls, 0.99)), "max_ms": ms(walls[-1]),
        "cpu_median_ms": ms(statistics.median(cpus)), "cpu_p90_ms": ms(q(cpus, 0.90)), "cpu_p99_ms": ms(q(cpus, 0.99)), "cpu_max_ms": ms(cpus[-1]),
        "total_s": round(sum(walls), 1), "cpu_total_s": round(sum(cpus), 1),
        "histogram_wall": hist,
        "findings": sum(r[3] for r in results), "findings_naming_catalog_actions": sum(r[4] for r in results),
        "problems": problems,
        "per_pair": [{"pair": pair_name(r), "verdict": v, "wall_ms": ms(wall), "cpu_ms": ms(cpu)}
                     for r, (v, wall, cpu, _, _, _, _) in zip(rows, results)],
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_corpus = next((p for p in (os.path.join(here, "..", "..", "shared", "corpora", "aws-managed-policies"),
                                       os.path.join(here, "..", "..", "..", "shared", "corpora", "aws-managed-policies"))
                           if os.path.exists(os.path.join(p, "INDEX_version_pairs.csv"))), "")
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/iamprove")
    ap.add_argument("--compare", default="")
    ap.add_argument("--corpus", default=default_corpus)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--pairs", default="")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    rows = list(csv.DictReader(open(os.path.join(a.corpus, "INDEX_version_pairs.csv"))))
    if a.every or a.pairs:
        named = set()
        if a.pairs:
            named = {line.strip() for line in open(a.pairs) if line.strip()}
        rows = [r for i, r in enumerate(rows) if (a.every and i % a.every == 0) or pair_name(r) in named]
    if a.limit:
        rows = rows[: a.limit]
    res, res2, varies = [], [], []
    for r in rows:
        old, new = os.path.join(a.corpus, r["old_file"]), os.path.join(a.corpus, r["new_file"])
        res.append(run(a.bin, old, new, a.timeout))
        again = [run(a.bin, old, new, a.timeout) for _ in range(a.repeat - 1)]
        if any(x[6] != res[-1][6] for x in again):
            varies.append(f'{pair_name(r)}: ' + ", ".join(x[0] for x in [res[-1]] + again))
        if a.compare:
            res2.append(run(a.compare, old, new, a.timeout))
    report = summary(rows, res)
    if a.repeat > 1:
        report["repeat"] = a.repeat
        report["varies"] = varies
    if a.compare:
        report = {"bin": a.bin, "result": report, "compare": a.compare, "compare_result": summary(rows, res2),
                  "verdicts_differ": [f'{pair_name(r)}: {x[0]} vs {y[0]}'
                                      for r, x, y in zip(rows, res, res2) if x[0] != y[0]],
                  # the whole JSON output (verdict, findings, notes, assumptions), not only the verdict
                  "outputs_differ": [pair_name(r) for r, x, y in zip(rows, res, res2) if x[6] != y[6]]}
    print(json.dumps(report, indent=1))
    if a.out:
        json.dump(report, open(a.out, "w"), indent=1)
    problems = report["problems"] if not a.compare else report["result"]["problems"]
    return 0 if not problems and not varies else 1


if __name__ == "__main__":
    sys.exit(main())
