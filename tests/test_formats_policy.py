"""The policy file: a valid example read whole, and every kind of error named by file and place."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from contact_prefs import Action, Mode, Reason
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.formats.policy_file import PolicyFileError, read_policy
from contact_prefs.reasons import ReasonSet

EXAMPLE = """\
[roles]
clerk = ["plan", "export"]
coordinator = ["plan", "apply", "undo", "import", "export", "consent"]
approver = ["plan", "approve"]
admin = ["plan", "apply", "undo", "import", "export", "consent", "approve", "admin"]

[actors]
jdoe = ["clerk"]
asmith = ["coordinator", "approver"]
"Dr. Lane" = ["admin"]

[approval]            # optional; present means batches may need approval
max_changes = 5000    # optional
reasons = ["emergency", "Food Service"]
modes = ["census-staff", "students"]
expires_after_days = 3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_complete_policy_is_read_whole(tmp_path: Path) -> None:
    governance = read_policy(write(tmp_path, EXAMPLE))
    rights = governance.rights
    assert rights is not None
    assert dict(rights.roles) == {
        "admin": frozenset(Action),
        "approver": {Action.PLAN, Action.APPROVE},
        "clerk": {Action.PLAN, Action.EXPORT},
        "coordinator": {Action.PLAN, Action.APPLY, Action.UNDO, Action.IMPORT, Action.EXPORT, Action.CONSENT},
    }
    assert dict(rights.actors) == {"Dr. Lane": {"admin"}, "asmith": {"coordinator", "approver"}, "jdoe": {"clerk"}}
    assert governance.approval == ApprovalPolicy(
        required=True,
        max_changes=5000,
        reasons=ReasonSet([Reason.EMERGENCY, Reason.FOOD_SERVICE]),
        modes=frozenset({Mode.CENSUS_STAFF, Mode.STUDENTS}),
        expires_after=datetime.timedelta(days=3),
    )


def test_without_an_approval_table_no_batch_needs_approval(tmp_path: Path) -> None:
    governance = read_policy(write(tmp_path, EXAMPLE.partition("[approval]")[0]))
    assert governance.approval == ApprovalPolicy() and not governance.approval.required


def test_an_empty_approval_table_takes_the_defaults(tmp_path: Path) -> None:
    governance = read_policy(write(tmp_path, EXAMPLE.partition("[approval]")[0] + "[approval]\n"))
    assert governance.approval == ApprovalPolicy(required=True)
    assert governance.approval.reasons == ReasonSet([Reason.EMERGENCY])
    assert governance.approval.modes == {Mode.CENSUS_STAFF}
    assert governance.approval.max_changes is None and governance.approval.expires_after.days == 7


def test_a_toml_syntax_error_names_the_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace('jdoe = ["clerk"]', 'jdoe ["clerk"]'))
    with pytest.raises(PolicyFileError) as error:
        read_policy(path)
    assert str(error.value) == (
        f"{path}, line 8, column 6: not valid TOML: Expected '=' after a key in a key/value pair"
    )
    assert (error.value.file, error.value.where) == (str(path), "line 8, column 6")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            '"apply", "undo"',
            '"aply", "undo"',
            "roles.coordinator[1]: unknown action 'aply' (did you mean 'apply'?); "
            "actions: plan, apply, undo, import, export, consent, approve, admin",
        ),
        (
            'jdoe = ["clerk"]',
            'jdoe = ["clerck"]',
            "actors.jdoe[0]: unknown role 'clerck' (did you mean 'clerk'?); roles: admin, approver, clerk, coordinator",
        ),
        (
            '"Dr. Lane" = ["admin"]',
            '"Dr. Lane" = ["admin", "boss"]',
            "actors.\"Dr. Lane\"[1]: unknown role 'boss'; roles: admin, approver, clerk, coordinator",
        ),
        (
            'jdoe = ["clerk"]',
            'jdoe = "clerk"',
            "actors.jdoe: must be a list of names, such as [\"plan\"], not the string 'clerk'",
        ),
        ('jdoe = ["clerk"]', 'jdoe = ["clerk", 3]', "actors.jdoe[1]: a role is a name (a string), not the number 3"),
        (
            'clerk = ["plan", "export"]',
            "clerk = [true]",
            "roles.clerk[0]: an action is a name (a string), not the boolean true",
        ),
        ("[actors]", "[actor]", "actor: unknown key (did you mean 'actors'?); keys: roles, actors, approval"),
        ("max_changes = 5000", "max_change = 5000", "approval.max_change: unknown key (did you mean 'max_changes'?)"),
        (
            "max_changes = 5000",
            "max_changes = -1",
            "approval.max_changes: must be a whole number of 0 or more, not the number -1",
        ),
        (
            "max_changes = 5000",
            'max_changes = "lots"',
            "approval.max_changes: must be a whole number of 0 or more, not the string 'lots'",
        ),
        (
            "expires_after_days = 3",
            "expires_after_days = 0",
            "approval.expires_after_days: must be a whole number of 1 or more",
        ),
        (
            "expires_after_days = 3",
            "expires_after_days = 1.5",
            "approval.expires_after_days: must be a whole number of 1 or more, not the number 1.5",
        ),
        (
            '"emergency", "Food Service"',
            '"emergncy"',
            "approval.reasons[0]: unknown reason 'emergncy' (did you mean 'emergency'?); reasons: emergency, ",
        ),
        ('"census-staff", "students"', '"census", "students"', "approval.modes[0]: unknown mode 'census'"),
        (
            '"Dr. Lane" = ["admin"]',
            '"Dr.\\tLane" = ["admin"]',
            'actors."Dr.\\tLane": the actor name holds a control character',
        ),
        ('"Dr. Lane" = ["admin"]', '"" = ["admin"]', 'actors."": the actor name is empty'),
    ],
)
def test_an_invalid_policy_names_the_file_and_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in EXAMPLE
    path = write(tmp_path, EXAMPLE.replace(old, new, 1))
    with pytest.raises(PolicyFileError) as error:
        read_policy(path)
    assert str(error.value).startswith(f"{path}: {message}")


def test_a_missing_table_or_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"policy.toml: the table \[actors\] is missing"):
        read_policy(write(tmp_path, "[roles]\nclerk = []\n"))
    with pytest.raises(
        PolicyFileError, match=r"policy.toml: approval: must be a table \(\[approval\]\), not the number 5"
    ):
        read_policy(write(tmp_path, "approval = 5\n" + EXAMPLE.partition("[approval]")[0]))
    with pytest.raises(PolicyFileError, match=r"policy.toml: roles: must be a table \(\[roles\]\), not a list"):
        read_policy(write(tmp_path, 'roles = ["clerk"]\n[actors]\n'))
    with pytest.raises(PolicyFileError, match=r"nowhere.toml: cannot read the policy file: No such file or directory"):
        read_policy(tmp_path / "nowhere.toml")
    (tmp_path / "latin.toml").write_bytes(b"[roles]\nclerk = ['pl\xe4n']\n")
    with pytest.raises(PolicyFileError, match=r"latin.toml: is not UTF-8 text"):
        read_policy(tmp_path / "latin.toml")


def test_a_policy_of_approval_alone_sets_no_rights(tmp_path: Path) -> None:
    governance = read_policy(write(tmp_path, "[approval]\nmax_changes = 10\n"))
    assert governance.rights is None
    assert governance.approval.required and governance.approval.max_changes == 10
    assert governance.denial("anyone", Action.ADMIN) is None


def test_an_actor_that_looks_like_an_address_is_not_repeated(tmp_path: Path) -> None:
    path = write(tmp_path, EXAMPLE.replace('jdoe = ["clerk"]', '"jdoe@district.org" = ["clerck"]'))
    with pytest.raises(PolicyFileError) as error:
        read_policy(path)
    assert "actors.<withheld>[0]: unknown role 'clerck'" in str(error.value)
    assert "district.org" not in str(error.value)
