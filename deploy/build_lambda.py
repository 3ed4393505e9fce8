"""Builds the Lambda package: awsresp's wheel and requirements/lambda.lock, as Linux wheels
for the function's Python, into one folder (the templates' CodeUri); prints its size."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lambda.lock"


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def build(target: Path, python_version: str = "3.12") -> int:
    """Returns the package's size in bytes, unzipped (what Lambda's 250 MB limit counts).

    uv (a dev dependency) installs the wheels for the Lambda's platform in seconds; pip,
    whose --platform mode re-resolves against the index, takes a minute."""
    pip = [str(Path(sys.executable).parent / "uv"), "pip", "install", "-q"]
    platform = ["--python-platform", "x86_64-manylinux2014", "--python-version", python_version]
    platform += ["--only-binary", ":all:"]
    shutil.rmtree(target, ignore_errors=True)
    with tempfile.TemporaryDirectory() as wheels:
        wheel_cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps"]
        wheel_cmd += ["--no-build-isolation", "-w", wheels, str(ROOT)]
        subprocess.run(wheel_cmd, check=True)
        (wheel,) = Path(wheels).glob("awsresp-*.whl")
        subprocess.run([*pip, "--target", str(target), *platform, "-r", str(LOCK)], check=True)
        subprocess.run(
            [*pip, "--target", str(target), *platform, "--no-deps", str(wheel)], check=True
        )
    return folder_size(target)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", type=Path)
    parser.add_argument("--python-version", default="3.12")
    args = parser.parse_args()
    size = build(args.target, args.python_version)
    print(f"{args.target}: {size / 1e6:.1f} MB unzipped (Lambda's limit: 250 MB)")
