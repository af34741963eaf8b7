"""The README's promises: its table is what ``contact-prefs demo`` prints, and its Python example runs."""

from __future__ import annotations

import os
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


def test_starting_on_real_data_as_the_readme_says_keeps_the_demo_apart(tmp_path: Path) -> None:
    from .test_cli import SAMPLE

    section = README.split("## Start on real data", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^    (\S.*)$", section, re.MULTILINE)
    assert commands[0] == "export CONTACT_PREFS_STORE=sqlite:///district.db" and len(commands) == 4
    script = "\n".join(["set -e", "contact-prefs demo --students 20 > /dev/null", *commands])
    script = script.replace("path/to/oneroster-export", str(SAMPLE)).replace("SCHOOL_ID", "255901001")
    script = script.replace("contact-prefs ", f"'{sys.executable}' -m contact_prefs ")  # this interpreter's
    env = {key: value for key, value in os.environ.items() if key != "CONTACT_PREFS_STORE"}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert "\nDemo data: no\n" in done.stdout
    # Without the store named, the import is the demo's, and refused.
    refused = subprocess.run(
        [sys.executable, "-m", "contact_prefs", "import", "oneroster", str(SAMPLE)],
        cwd=tmp_path, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert refused.returncode == 2 and "holds the demo district" in refused.stderr and "--into-demo" in refused.stderr
