"""Rewrites the scanner's read actions in the deploy templates from the collector specs, and
the StackSet template from the member role's template."""

import sys
from pathlib import Path

from awsresp.collect.deploy_policy import read_actions, stackset_template, with_actions
from awsresp.collect.specs import load_specs

HERE = Path(__file__).resolve().parent
TEMPLATES = ("template.yaml", "org-member-role.yaml", "org-scan.yaml")

actions = read_actions(load_specs())
paths = [Path(p) for p in sys.argv[1:]] or [HERE / name for name in TEMPLATES]
for path in paths:
    path.write_text(with_actions(path.read_text(), actions))
    print(f"{path}: {len(actions)} read actions")
stackset = HERE / "org-stackset.yaml"
stackset.write_text(stackset_template((HERE / "org-member-role.yaml").read_text()))
print(f"{stackset}: the member role's template inline")
