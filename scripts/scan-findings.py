#!/usr/bin/env python3
"""List every `diff` finding over the real managed-policy version pairs that names a value AWS
cannot produce.

  scripts/scan-findings.py [--bin target/release/iamprove]
                           [--corpus ../shared/corpora/aws-managed-policies]
                           [--every N] [--timeout 30] [--out scan.json]

Runs `iamprove diff OLD NEW --format json --type identity` once per pair of
INDEX_version_pairs.csv (or every Nth) and checks each finding's request (and its
`resource.example`):

* an ARN (resource, principal, or the value of `aws:PrincipalArn` / `aws:SourceArn`) has an
  account segment of 12 ASCII digits, `aws` or empty, and a region segment of `[a-z0-9-]*`;
* an S3 bucket ARN (`arn:PARTITION:s3:::BUCKET[/KEY]`) names a bucket of letters, digits, `.`,
  `-` and `_` only (never `:`; a `/` ends the bucket), and not an empty one;
* an account-valued context key (`aws:PrincipalAccount`, `aws:ResourceAccount`,
  `aws:SourceAccount`, `aws:SourceOwner`) holds 12 ASCII digits (`aws:PrincipalAccount` may be
  `anonymous`).

A value the policies themselves write literally (`:VALUE:` for an ARN segment, `"VALUE"` for a
key) is reported apart, under "literal": the encoder keeps what a policy names. Prints one line
per malformed value and a count per rule; with --out the whole list as JSON."""
import argparse, csv, json, os, re, subprocess, sys

ACCOUNT_KEYS = {"aws:principalaccount", "aws:resourceaccount", "aws:sourceaccount", "aws:sourceowner"}
ARN_KEYS = {"aws:principalarn", "aws:sourcearn"}
BUCKET = re.compile(r"^[A-Za-z0-9._-]+$")
REGION = re.compile(r"^[a-z0-9-]*$")


def real_account(s):
    return s in ("", "aws") or (len(s) == 12 and s.isascii() and s.isdigit())


def arn_problems(what, arn):
    """Malformed parts of one ARN value: (rule, detail) pairs."""
    out = []
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return out
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return out
    _, _, service, region, account, rest = parts
    if not REGION.match(region):
        out.append(("region", f"{what}: region {region!r} in {arn}", region))
    if not real_account(account):
        out.append(("arn-account", f"{what}: account {account!r} in {arn}", account))
    if service == "s3" and region == "" and account == "":
        bucket = rest.split("/", 1)[0]
        if not BUCKET.match(bucket):
            out.append(("s3-bucket", f"{what}: bucket {bucket!r} in {arn}", bucket))
    return out


def finding_problems(f):
    req = f.get("request", {})
    out = []
    out += arn_problems("resource", req.get("resource"))
    ex = f.get("resource", {}).get("example")
    if ex is not None and ex != req.get("resource"):
        out += arn_problems("resource.example", ex)
    out += arn_problems("principal", req.get("principal"))
    for k, v in (req.get("context") or {}).items():
        vals = v if isinstance(v, list) else [v]
        lk = k.lower()
        for x in vals:
            if lk in ACCOUNT_KEYS:
                ok = isinstance(x, str) and len(x) == 12 and x.isascii() and x.isdigit()
                if lk == "aws:principalaccount" and x == "anonymous":
                    ok = True
                if not ok:
                    out.append(("context-account", f"context {k} = {x!r}", x))
            if lk in ARN_KEYS:
                out += [(r, f"context {k}: {d}", val) for r, d, val in arn_problems(k, x)]
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_corpus = os.path.normpath(os.path.join(here, "..", "..", "shared", "corpora", "aws-managed-policies"))
    if not os.path.isdir(default_corpus):
        default_corpus = "/work/shared/corpora/aws-managed-policies"
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default="target/release/iamprove")
    ap.add_argument("--corpus", default=default_corpus)
    ap.add_argument("--every", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    with open(os.path.join(a.corpus, "INDEX_version_pairs.csv")) as fh:
        rows = list(csv.DictReader(fh))
    if a.every > 1:
        rows = rows[:: a.every]
    found, counts, findings, pairs_bad = [], {}, 0, set()
    for i, r in enumerate(rows):
        old, new = (os.path.join(a.corpus, r[k]) for k in ("old_file", "new_file"))
        p = subprocess.run([a.bin, "diff", old, new, "--format", "json", "--type", "identity", "--timeout", str(a.timeout)],
                           capture_output=True, text=True)
        name = f'{r["policy"]} {r["old_version"]}->{r["new_version"]}'
        try:
            out = json.loads(p.stdout)
        except Exception:
            print(f"{name}: no JSON (exit {p.returncode})", file=sys.stderr)
            continue
        text = open(old).read() + open(new).read()
        for f in out.get("findings", []):
            findings += 1
            for rule, detail, value in finding_problems(f):
                literal = (f":{value}:" in text) or (f'"{value}"' in text)
                key = rule + (" (literal)" if literal else "")
                counts[key] = counts.get(key, 0) + 1
                if not literal:
                    pairs_bad.add(name)
                found.append({"pair": name, "rule": rule, "literal": literal, "detail": detail,
                              "action": f.get("request", {}).get("action")})
                print(f"{name}: [{key}] {detail}")
        if (i + 1) % 200 == 0:
            print(f"... {i + 1}/{len(rows)} pairs", file=sys.stderr)
    report = {"pairs": len(rows), "findings": findings, "malformed_by_rule": counts,
              "pairs_with_malformed": len(pairs_bad), "malformed": found}
    print(json.dumps({k: v for k, v in report.items() if k != "malformed"}, indent=1))
    if a.out:
        with open(a.out, "w") as fh:
            json.dump(report, fh, indent=1)


if __name__ == "__main__":
    main()
