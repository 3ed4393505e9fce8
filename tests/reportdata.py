"""scan.json documents for the report tests: hostile names, a larger account, two accounts."""

from __future__ import annotations

import copy
from typing import Any

# What an attacker can name a resource, a tag or an account: markup, quotes, a script end,
# JavaScript line ends and text-direction overrides.
HOSTILE = (
    '<script>window.__pwned=1</script>"\'&amp;<img src=x onerror="window.__pwned=2">'
    "</script><!--\u2028\u2029\u202eexe.txt \u05e9\u05dc\u05d5\u05dd\x1b[31m"
)


def hostile(doc: dict[str, Any]) -> dict[str, Any]:
    """The scan with every resource name, evidence, account name and issue message hostile."""
    out = copy.deepcopy(doc)
    for f in out["findings"]:
        f["resource_name"] = HOSTILE
        f["evidence"] = '{"Name": ' + _json_text(HOSTILE) + "}"
        f["account_name"] = HOSTILE
    for i in out["issues"]:
        i["message"] = HOSTILE
    out["account_name"] = HOSTILE
    return out


def _json_text(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)


def scaled(doc: dict[str, Any], factor: int) -> dict[str, Any]:
    """The scan as if the account held `factor` times its resources: every resource and
    finding repeated under new ids, the matrix counts multiplied."""
    out = copy.deepcopy(doc)
    findings, resources = [], []
    for n in range(factor):
        for f in doc["findings"]:
            g = dict(f)
            g["resource_id"] = f"{f['resource_id']}-{n}"
            g["resource_arn"] = f"{f['resource_arn']}-{n}" if f["resource_arn"] else ""
            g["resource_name"] = f"{f['resource_name']}-{n}"
            g["finding_id"] = f"{f['finding_id']}{n:04d}"
            findings.append(g)
        for r in doc["resources"]:
            if r["account_fact"] and n:
                continue
            s = dict(r)
            s["id"] = r["id"] if r["account_fact"] else f"{r['id']}-{n}"
            resources.append(s)
    out["findings"], out["resources"] = findings, resources
    for c in [*out["matrix"], *out["gaps"]]:
        for key in ("resources", "controlled", "exposed", "weak", "unreadable"):
            c[key] *= factor
    return out


SECOND = "210987654321"


def two_accounts(doc: dict[str, Any]) -> dict[str, Any]:
    """An organization's merged scan: the account and a copy of it under another id, with
    names and OU paths."""
    out = copy.deepcopy(doc)
    first = doc["account"]
    for key in ("findings", "matrix", "gaps", "issues"):
        copies = []
        for row in doc[key]:
            other = dict(row, account_id=SECOND, account_name="staging", ou_path="r-1/ou-dev")
            copies.append(other)
        for row in out[key]:
            row.update(account_id=first, account_name="production", ou_path="r-1/ou-prod")
        out[key] = out[key] + copies
    out["account"] = ""
    out["organization"] = {
        "id": "o-example",
        "management_account": first,
        "accounts": [
            {"account_id": first, "account_name": "production", "ou_path": "r-1/ou-prod"},
            {"account_id": SECOND, "account_name": "staging", "ou_path": "r-1/ou-dev"},
        ],
    }
    return out
