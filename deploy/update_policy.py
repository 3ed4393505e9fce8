"""Rewrites the scanner's read actions in deploy/template.yaml from the collector specs."""

import sys
from pathlib import Path

from awsresp.collect.deploy_policy import read_actions, with_actions
from awsresp.collect.specs import load_specs

path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("template.yaml"))
actions = read_actions(load_specs())
path.write_text(with_actions(path.read_text(), actions))
print(f"{path}: {len(actions)} read actions")
