"""The Lambda package: built from requirements/lambda.lock for the function's Python, well
under Lambda's 250 MB, and its handler imports (without pandas) under that Python."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The templates' runtime; CI has that interpreter (pyenv) to import the package with.
RUNTIME = re.search(r"Runtime: python(3\.\d+)", (ROOT / "deploy" / "org-scan.yaml").read_text())
LIMIT_MB = 250
BUDGET_MB = 100  # "well under": a dependency that doubles the package fails this test


def _interpreter(version: str) -> str:
    # pyenv's own copy first: its shim on PATH fails unless that version is selected.
    pyenv = Path.home() / ".pyenv" / "versions"
    found = str(next(pyenv.glob(f"{version}.*/bin/python{version}"), "")) or shutil.which(
        f"python{version}"
    )
    assert found, f"python{version} (the Lambda runtime) is needed to test the package"
    return found


@pytest.mark.slow
def test_lambda_package_is_small_built_from_the_lock_and_imports_on_the_runtime(
    tmp_path: Path,
) -> None:
    assert RUNTIME is not None
    version = RUNTIME.group(1)
    assert f"Runtime: python{version}" in (ROOT / "deploy" / "template.yaml").read_text()
    spec = importlib.util.spec_from_file_location(
        "build_lambda", ROOT / "deploy" / "build_lambda.py"
    )
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    target = tmp_path / "build"
    size_mb = build.build(target, version) / 1e6
    assert size_mb < BUDGET_MB < LIMIT_MB, f"{size_mb:.1f} MB"
    # Every pinned runtime package is in it at its locked version.
    pins = dict(
        line.split("==")
        for line in (ROOT / "requirements" / "lambda.lock").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    installed = {
        name.lower().replace("_", "-"): version
        for name, version in (
            p.name.removesuffix(".dist-info").split("-", 1) for p in target.glob("*.dist-info")
        )
    }
    for name, pinned in pins.items():
        assert installed.get(name.lower().replace("_", "-")) == pinned, name
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import awsresp.lambda_handler, awsresp.scan;"
        "d = awsresp.scan.Definitions.load();"
        "assert 'pandas' not in sys.modules and 'numpy' not in sys.modules;"
        "print(sys.version_info[:2], len(d.specs))"
    )
    out = subprocess.run(
        [_interpreter(version), "-I", "-c", code, str(target)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert out.startswith(f"({version.replace('.', ', ')})"), out
