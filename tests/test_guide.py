"""docs/development.md's "Add a control" guide, followed literally: its blocks, applied to a
copy of mappings/ and of the golden fixtures, give a control the catalog loads and the golden
runner passes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from awsresp.paths import mappings_dir
from awsresp.scan import Definitions

from .test_golden import check_golden_file

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "development.md"
# A block the guide tells the reader to add: the file it names, then a fenced YAML block.
_STEP = re.compile(r"<!-- guide: (\S+) -->\n\s*```yaml\n(.*?)\n\s*```", re.DOTALL)


def _steps() -> list[tuple[str, str]]:
    found = []
    for path, block in _STEP.findall(GUIDE.read_text(encoding="utf-8")):
        indent = min(len(line) - len(line.lstrip()) for line in block.splitlines() if line.strip())
        found.append((path, "\n".join(line[indent:] for line in block.splitlines()) + "\n"))
    return found


def test_the_guide_names_one_control_entry_and_its_golden_file() -> None:
    paths = [path for path, _ in _steps()]
    assert len(paths) == 2
    assert paths[0].startswith("mappings/controls/") and paths[1].startswith("tests/golden/")
    service = Path(paths[0]).stem
    assert Path(paths[1]).parent.name == service


def test_following_the_guide_adds_a_control_that_loads_and_passes_its_golden_cases(
    tmp_path: Path,
) -> None:
    mappings = tmp_path / "mappings"
    shutil.copytree(mappings_dir(), mappings)
    golden = tmp_path / "tests" / "golden"
    shutil.copytree(ROOT / "tests" / "golden", golden)
    (entry_path, entry), (fixture_path, fixture) = _steps()
    control_file = tmp_path / entry_path
    assert control_file.is_file(), "the guide adds to an existing control file"
    # Step 1: one entry at the end of the service's control file.
    control_file.write_text(control_file.read_text() + "\n" + entry)
    # Step 2: the golden fixture.
    (tmp_path / fixture_path).write_text(fixture)
    control_id = Path(fixture_path).stem
    assert control_id not in Definitions.load().catalog.controls, "an example, not a control"
    catalog = Definitions.load(extra_mappings=mappings).catalog
    control = catalog.controls[control_id]
    assert control.source_file.endswith(Path(entry_path).name)
    check_golden_file(control, tmp_path / fixture_path)
