"""Stockwire is Apache-2.0: the repository's LICENSE is the licence's text, and every
package of the workspace declares it and ships that text in its wheel and sdist (so a
new service is checked the day it joins the workspace)."""

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LICENCE = ROOT / "LICENSE"


def workspace_members() -> list[Path]:
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    return sorted(member for pattern in workspace["members"] for member in ROOT.glob(pattern))


def test_the_licence_file_is_the_apache_2_0_text():
    text = LICENCE.read_text()
    assert text.split()[:5] == ["Apache", "License", "Version", "2.0,", "January"]
    assert "http://www.apache.org/licenses/" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert "APPENDIX: How to apply the Apache License to your work." in text


@pytest.mark.parametrize(
    "package", [ROOT, *workspace_members()], ids=lambda path: str(path.relative_to(ROOT))
)
def test_every_package_declares_apache_2_0_and_carries_the_licence_text(package: Path):
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    assert project.get("license") == "Apache-2.0"
    assert project.get("license-files") == ["LICENSE"]
    # A copy, not a symlink: an sdist stores a symlink as a link to outside itself.
    assert not (package / "LICENSE").is_symlink()
    assert (package / "LICENSE").read_bytes() == LICENCE.read_bytes()
