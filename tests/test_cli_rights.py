"""Rights on the command line: --policy and --actor (and their variables), a denial for every action
(exit 2, nothing written, no history entry) and its allowed twin, and the no-policy notice on a terminal.

Commands run in process (``main``, what ``contact-prefs`` runs), but for the terminal test.
"""

from __future__ import annotations

import datetime
import os
import pty
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contact_prefs import Action, Person, Snapshot, open_store, run_batch
from contact_prefs.cli import main
from contact_prefs.cli_rights import NO_POLICY
from contact_prefs.consent import Channel, ConsentPolicy
from contact_prefs.demo import build_district, sample_spec
from contact_prefs.formats import write_csv
from contact_prefs.ledger import new_review

TODAY = datetime.date.today()
NUMBER = "+1 280 555 0100"
NUMBER_KEY = "+12805550100"
RECEIVED = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
"""Recently: the message is not overdue, so that ``consent inbox`` exits 0."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite district with one batch and one message waiting for review (id ``review-1``)."""
    path = tmp_path_factory.mktemp("built") / "district.db"
    with open_store(f"sqlite:///{path}") as store:
        store.load(build_district(30, today=TODAY))
        run_batch(store, sample_spec(TODAY), actor="demo")
        waiting = new_review(
            "review-1",
            address=NUMBER_KEY,
            message="please no more",
            channel=Channel.KEYWORD_REPLY,
            received_at=RECEIVED,
            policy=ConsentPolicy(),
        )
        store.record_consent(reviews=[waiting], actor="feed")
    return path


@pytest.fixture
def folder(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private copy of the district as ``district.db`` in the current folder, with the files
    the commands read, and no policy or actor in the environment."""
    shutil.copy(built, tmp_path / "district.db")
    write_csv(Snapshot(persons=[Person(id="newcomer", name="New")]), tmp_path / "files")
    (tmp_path / "replies.csv").write_text(f"address,message,received_at\n{NUMBER},STOP,{RECEIVED.isoformat()}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONTACT_PREFS_POLICY", raising=False)
    monkeypatch.delenv("CONTACT_PREFS_ACTOR", raising=False)
    monkeypatch.delenv("CONTACT_PREFS_STORE", raising=False)
    yield tmp_path


URL = "sqlite:///district.db"


def policy(folder: Path, denied: Action) -> Path:
    """A policy: ``bob`` may do everything, ``ann`` everything but ``denied``."""
    path = folder / "policy.toml"
    others = ", ".join(f'"{action.value}"' for action in Action if action is not denied)
    everything = ", ".join(f'"{action.value}"' for action in Action)
    path.write_text(f'[roles]\nmost = [{others}]\nall = [{everything}]\n\n[actors]\nann = ["most"]\nbob = ["all"]\n')
    return path


def state() -> tuple[Any, ...]:
    """Everything the store holds that a command could write."""
    with open_store(URL) as store:
        return (
            store.dump(),
            store.history(),
            store.ledger(NUMBER_KEY),
            store.reviews(),
            store.consent_policy(),
            store.policy_changes(),
        )


def batch_id() -> str:
    with open_store(URL) as store:
        return store.history()[0].batch_id


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


COMMANDS: list[tuple[Action, tuple[str, ...]]] = [
    (Action.PLAN, ("plan", "--mode", "students", "--set", "priority=on")),
    (Action.PLAN, ("history",)),
    (Action.PLAN, ("show", "{batch}")),
    (Action.PLAN, ("info",)),
    (Action.PLAN, ("consent", "inbox")),
    (Action.PLAN, ("consent", "proof", NUMBER)),
    (Action.PLAN, ("consent", "policy")),
    (Action.APPLY, ("apply", "--mode", "students", "--set", "priority=on", "--yes")),
    (Action.UNDO, ("undo", "{batch}", "--yes")),
    (Action.IMPORT, ("import", "csv", "files")),
    (Action.EXPORT, ("export", "csv", "exported")),
    (Action.CONSENT, ("consent", "record", NUMBER, "--revoke", "--channel", "portal")),
    (Action.CONSENT, ("consent", "import", "replies.csv")),
    (Action.CONSENT, ("consent", "resolve", "review-1", "--keep")),
    (Action.ADMIN, ("consent", "policy", "--scope", "named", "--why", "counsel")),
    (Action.ADMIN, ("demo", "--students", "5", "--force")),
]
WRITES = {Action.APPLY, Action.UNDO, Action.IMPORT, Action.CONSENT, Action.ADMIN}


def command(args: tuple[str, ...]) -> list[str]:
    return [arg.replace("{batch}", batch_id()) for arg in args]


@pytest.mark.parametrize(("action", "args"), COMMANDS, ids=[" ".join(args[:2]) for _, args in COMMANDS])
def test_a_denied_command_exits_2_and_writes_nothing(
    folder: Path, capsys: pytest.CaptureFixture[str], action: Action, args: tuple[str, ...]
) -> None:
    before = state()
    code, out, err = cli(
        capsys, "--store", URL, "--policy", str(policy(folder, action)), "--actor", "ann", *command(args)
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"contact-prefs: error: 'ann' may not take the action '{action.value}': no role of theirs")
    assert "the roles that do: all" in err and "Traceback" not in err
    assert state() == before
    assert not (folder / "exported").exists()


LATER_COMMANDS: list[tuple[Action, tuple[str, ...]]] = [
    (Action.PLAN, ("proposals",)),
    (Action.PLAN, ("verify",)),
    (Action.PLAN, ("schedules",)),
    (Action.APPLY, ("propose", "--mode", "students", "--set", "priority=on")),
    (Action.APPLY, ("schedule", "--mode", "students", "--set", "priority=on", "--starts-on", "2099-06-01")),
    (Action.APPLY, ("run-due",)),
    (Action.EXPORT, ("backup", "night.zip")),
    (Action.ADMIN, ("copy", "--from", URL, "--to", "sqlite:///copy.db")),
]


@pytest.mark.parametrize(("action", "args"), LATER_COMMANDS, ids=[" ".join(args[:1]) for _, args in LATER_COMMANDS])
def test_the_approval_schedule_and_backup_commands_are_denied_alike(
    folder: Path, capsys: pytest.CaptureFixture[str], action: Action, args: tuple[str, ...]
) -> None:
    before = state()
    code, out, err = cli(capsys, "--store", URL, "--policy", str(policy(folder, action)), "--actor", "ann", *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"contact-prefs: error: 'ann' may not take the action '{action.value}': no role of theirs")
    assert state() == before
    assert not (folder / "night.zip").exists() and not (folder / "copy.db").exists()
    with open_store(URL) as store:
        assert (store.proposals(), store.schedules()) == ((), ())


@pytest.mark.parametrize(("action", "args"), COMMANDS, ids=[" ".join(args[:2]) for _, args in COMMANDS])
def test_an_allowed_actor_succeeds(
    folder: Path, capsys: pytest.CaptureFixture[str], action: Action, args: tuple[str, ...]
) -> None:
    before = state()
    # The options after the command this time, and the actor from the environment.
    os.environ["CONTACT_PREFS_ACTOR"] = "bob"
    try:
        code, out, err = cli(capsys, *command(args), "--store", URL, "--policy", str(policy(folder, action)))
    finally:
        del os.environ["CONTACT_PREFS_ACTOR"]
    assert code == 0, err
    assert out
    if action in WRITES:
        assert state() != before
    if action is Action.EXPORT:
        assert (folder / "exported" / "persons.csv").is_file()


def test_who_acts_is_recorded_from_option_variable_or_login_name(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    apply = ("--store", URL, "apply", "--mode", "students", "--yes")
    assert cli(capsys, *apply, "--set", "priority=on", "--actor", "ann")[0] == 0
    monkeypatch.setenv("CONTACT_PREFS_ACTOR", "cy")
    assert cli(capsys, *apply, "--set", "priority=off")[0] == 0
    monkeypatch.delenv("CONTACT_PREFS_ACTOR")
    monkeypatch.setattr("getpass.getuser", lambda: "login-dee")
    assert cli(capsys, *apply, "--set", "teacher=off")[0] == 0
    with open_store(URL) as store:
        assert [record.actor for record in store.history()[:3]] == ["login-dee", "cy", "ann"]


def test_an_actor_the_rule_refuses_is_a_usage_error_naming_where_it_came_from(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACT_PREFS_ACTOR", "ann\nbob")
    code, out, err = cli(capsys, "--store", URL, "history")
    assert (code, out) == (2, "")
    assert err == (
        "contact-prefs: error: $CONTACT_PREFS_ACTOR: the actor 'ann\\nbob' holds a control character; "
        "name who does this with --actor NAME\n"
    )
    monkeypatch.delenv("CONTACT_PREFS_ACTOR")
    monkeypatch.setattr("getpass.getuser", lambda: " ")
    assert "error: the login name: the actor is only spaces" in cli(capsys, "--store", URL, "history")[2]

    def nobody() -> str:
        raise OSError("no user")

    monkeypatch.setattr("getpass.getuser", nobody)
    assert (
        "error: no actor: name who does this with --actor NAME or $CONTACT_PREFS_ACTOR"
        in cli(capsys, "--store", URL, "history")[2]
    )


def test_the_policy_comes_from_the_variable_and_its_errors_exit_2(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACT_PREFS_POLICY", str(policy(folder, Action.EXPORT)))
    code, out, err = cli(capsys, "--store", URL, "--actor", "ann", "export", "csv", "exported")
    assert (code, out) == (2, "") and "'ann' may not take the action 'export'" in err
    code, out, err = cli(capsys, "--store", URL, "--actor", "someone", "history")
    assert (code, out) == (2, "")
    assert err == "contact-prefs: error: 'someone' may not take the action 'plan': not an actor of the policy\n"
    (folder / "broken.toml").write_text("[roles]\nclerk = [plan]\n")
    monkeypatch.setenv("CONTACT_PREFS_POLICY", "broken.toml")
    code, out, err = cli(capsys, "--store", URL, "--actor", "ann", "history")
    assert (code, out) == (2, "")
    assert err.startswith("contact-prefs: error: broken.toml, line 2, column 10: not valid TOML: ")
    # --policy wins over the variable.
    assert cli(capsys, "--store", URL, "--actor", "bob", "--policy", str(folder / "policy.toml"), "history")[0] == 0


def run_on_terminal(folder: Path, *args: str, policy: Path | None = None) -> str:
    """``contact-prefs ARGS`` with its standard error on a terminal: what it wrote there."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CONTACT_PREFS_")}
    if policy is not None:
        env["CONTACT_PREFS_POLICY"] = str(policy)
    controller, terminal = pty.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "contact_prefs", "--store", URL, "--actor", "bob", *args],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            timeout=120,
        )
        os.close(terminal)
        terminal = -1
        written = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: everything is read
                break
            if not chunk:
                break
            written += chunk
    finally:
        if terminal >= 0:
            os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, written
    return written.decode()


def test_without_a_policy_a_terminal_is_told_once(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    told = run_on_terminal(folder, "apply", "--mode", "students", "--set", "priority=on", "--yes")
    assert told.count(NO_POLICY) == 1  # the command authorizes twice, and says it once
    assert f"contact-prefs: {NO_POLICY}" in told
    assert NO_POLICY not in run_on_terminal(folder, "history", policy=policy(folder, Action.ADMIN))
    # Off a terminal, nothing: scripts get a quiet standard error.
    assert cli(capsys, "--store", URL, "history")[2] == ""


SIS_PLUGIN = """
import contact_prefs

@contact_prefs.hookimpl
def contact_prefs_authorize(actor, action, context):
    if action == "apply" and context["spec"].mode.value == "census_staff":
        return "census batches are run by the SIS team"
    return None
"""


def test_an_installed_plugin_denies_through_the_same_gate(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = folder / "site-packages"
    info = site / "sis_rights-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sis-rights\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[contact_prefs]\nsis = sis_rights\n")
    (site / "sis_rights.py").write_text(SIS_PLUGIN)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, "sis_rights", raising=False)
    (folder / "staff.txt").write_text("stf-0001\n")
    before = state()
    census = ("apply", "--mode", "census-staff", "--filter-file", "staff.txt", "--set", "staff=on", "--yes")
    code, out, err = cli(capsys, "--store", URL, "--actor", "bob", *census)
    assert (code, out) == (2, "")
    assert (
        err == "contact-prefs: error: 'bob' may not take the action 'apply': census batches are run by the SIS team\n"
    )
    assert state() == before
    # With a policy too, both are asked: the policy lets bob apply, the plugin still says no.
    code, _, err = cli(capsys, "--store", URL, "--actor", "bob", "--policy", str(policy(folder, Action.UNDO)), *census)
    assert code == 2 and "census batches are run by the SIS team" in err
    assert (
        cli(capsys, "--store", URL, "--actor", "bob", "apply", "--mode", "students", "--set", "staff=on", "--yes")[0]
        == 0
    )
    monkeypatch.delitem(sys.modules, "sis_rights", raising=False)
