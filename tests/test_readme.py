"""The README's promises: its table is what ``contact-prefs demo`` prints, and its Python example runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _block(kind: str) -> str:
    match = re.search(rf"^```{kind}\n(.*?)^```$", README, re.MULTILINE | re.DOTALL)
    assert match, f"the README has no {kind} block"
    return match.group(1)


def test_the_readme_shows_two_set_up_commands() -> None:
    commands = re.findall(r"^    (pip install .*)$", README, re.MULTILINE)
    assert commands == ["pip install . && contact-prefs demo", "pip install -e '.[test]' && pytest"]


def test_the_readme_example_runs_on_the_demo_district(tmp_path: Path) -> None:
    demo = subprocess.run(
        [sys.executable, "-m", "contact_prefs", "demo"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    table = _block("text")
    assert table in demo.stdout
    example = subprocess.run(
        [sys.executable, "-c", _block("python")], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert re.search(r"applied [1-9][\d,]* changes as batch [0-9a-f]{32}", example.stdout)
    assert "Contact Method" in example.stdout
