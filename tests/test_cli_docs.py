"""Every shell example in ``docs/*.md`` runs, and prints what the page says it prints.

Which blocks run is decided by the fence's language alone:

* ```` ```console ````: ``$ `` lines are commands (a line ending in ``\\``
  continues on the next); the lines up to the next command are its expected
  output, standard output and error together, where ``...`` matches anything
  (doctest's ELLIPSIS).
* ```` ```sh ````: a script that must succeed; its output is not checked.
* Any other fence (``text``, ``json``, ``python``...) is not run.

A page's blocks run in order in one shell, in a fresh folder with no
``$CONTACT_PREFS_STORE``, so shell variables and files carry over from one
block to the next, and ``$?`` is the previous command's exit status.  A
command that fails must be followed by ``echo $?``: every failure a page shows
is deliberate.  (Python examples on the pages are ``>>>`` doctests, which
pytest collects by itself.)
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```(?P<kind>[\w-]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
MARK = "@@contact-prefs-docs-step@@"


@attrs.frozen
class Step:
    command: str
    expected: str | None  # None: the output is not checked
    line: int


def steps(page: str) -> list[Step]:
    """The commands of a page's ``console`` and ``sh`` blocks, with their expected outputs."""
    found: list[Step] = []
    for block in FENCE.finditer(page):
        kind, body = block["kind"], block["body"]
        first = page.count("\n", 0, block.start("body")) + 1
        if kind == "sh":
            found.append(Step(command=body, expected=None, line=first))
        elif kind == "console":
            found.extend(_console(body, first))
    return found


def _console(body: str, first: int) -> list[Step]:
    found: list[Step] = []
    command: list[str] = []
    output: list[str] = []
    line = first
    for number, text in enumerate(body.splitlines(), start=first):
        if text.startswith("$ ") and not (command and command[-1].endswith("\\")):
            if command:
                found.append(Step(command="\n".join(command), expected=_expected(output), line=line))
            command, output, line = [text[2:]], [], number
        elif command and command[-1].endswith("\\") and not output:
            command.append(text)
        elif command:
            output.append(text)
        else:
            raise AssertionError(f"line {number}: a console block must begin with a '$ ' command")
    if command:
        found.append(Step(command="\n".join(command), expected=_expected(output), line=line))
    return found


def _expected(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


def run_page(steps: list[Step], folder: Path) -> list[tuple[int, str]]:
    """Run the steps in one shell; returns each step's exit status and output."""
    script = ["exec 2>&1"]
    for step in steps:
        # Print a mark with the previous step's status, then restore that status for ``$?``.
        script += [f"__status=$?; printf '\\n{MARK} %s\\n' \"$__status\"; (exit $__status)", step.command]
    script.append(f"printf '\\n{MARK} %s\\n' \"$?\"")
    shim = folder / ".bin"
    shim.mkdir()
    (shim / "contact-prefs").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m contact_prefs "$@"\n')
    (shim / "contact-prefs").chmod(0o755)
    env = {key: value for key, value in os.environ.items() if key != "CONTACT_PREFS_STORE"}
    env |= {"PATH": f"{shim}{os.pathsep}{env.get('PATH', '')}", "COLUMNS": "100", "PYTHONUNBUFFERED": "1"}
    result = subprocess.run(
        ["sh", "-c", "\n".join(script)], cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    parts = result.stdout.split(f"\n{MARK} ")
    statuses = [int(part.partition("\n")[0]) for part in parts[2:]]
    outputs = [_ending(part.partition("\n")[2]) for part in parts[1:-1]]
    return list(zip(statuses, outputs, strict=True))


def _ending(output: str) -> str:
    """The output with a final newline, as a page shows it."""
    return output if not output or output.endswith("\n") else output + "\n"


def pages() -> list[Path]:
    return sorted(path for path in DOCS.glob("*.md") if steps(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", pages(), ids=lambda path: path.name)
def test_the_shell_examples_of_a_page_run_as_shown(path: Path, tmp_path: Path) -> None:
    page = steps(path.read_text(encoding="utf-8"))
    checker = doctest.OutputChecker()
    results = run_page(page, tmp_path)
    for index, (step, (status, output)) in enumerate(zip(page, results, strict=True)):
        where = f"{path.name}, line {step.line}: $ {step.command}"
        following = page[index + 1].command.strip() if index + 1 < len(page) else ""
        assert status == 0 or following == "echo $?", f"{where}\nexited {status} unannounced:\n{output}"
        if step.expected is not None and not checker.check_output(step.expected, output, doctest.ELLIPSIS):
            example = doctest.Example(step.command, step.expected)
            pytest.fail(f"{where}\n{checker.output_difference(example, output, doctest.ELLIPSIS)}")


def test_the_user_docs_have_shell_examples() -> None:
    assert {path.name for path in pages()} >= {"guide.md", "cli.md", "formats.md", "consent.md"}


def test_the_extraction_reads_commands_outputs_and_continuations() -> None:
    page = (
        "Text.\n\n```console\n$ contact-prefs plan \\\n    --mode students\nline one\n...\n$ echo $?\n0\n```\n\n"
        "```sh\nprintf 'a\\n' > ids.txt\n```\n\n```text\n$ not run\n```\n"
    )
    assert steps(page) == [
        Step(command="contact-prefs plan \\\n    --mode students", expected="line one\n...\n", line=4),
        Step(command="echo $?", expected="0\n", line=8),
        Step(command="printf 'a\\n' > ids.txt\n", expected=None, line=13),
    ]
