"""When a batch needs a second person: approval_needed under an ApprovalPolicy, on the kit's district."""

from __future__ import annotations

import datetime

import attrs
import pytest

from contact_prefs import Mode, Reason, Setting, plan
from contact_prefs.approval import ApprovalPolicy, approval_needed
from contact_prefs.testing.district import DISTRICT, SPEC

CHANGES = plan(SPEC, DISTRICT)  # attendance on and general off for north's messenger contacts


def test_the_district_batch_is_what_the_examples_assume() -> None:
    assert SPEC.mode is Mode.STUDENT_MESSENGER_CONTACTS and len(CHANGES) > 1
    changed = {reason for (_method, reason), count in CHANGES.counts().items() if count}
    assert changed == {Reason.ATTENDANCE, Reason.GENERAL}


def test_without_a_requirement_nothing_needs_approval() -> None:
    everything = ApprovalPolicy(max_changes=0, reasons=list(Reason), modes=list(Mode))
    assert approval_needed(everything, CHANGES) is None
    assert approval_needed(ApprovalPolicy(), CHANGES) is None


def test_a_mode_the_policy_names_needs_approval_first() -> None:
    policy = ApprovalPolicy(required=True, max_changes=0, modes=[Mode.STUDENT_MESSENGER_CONTACTS])
    assert approval_needed(policy, CHANGES) == "batches in mode student_messenger_contacts need approval"


def test_a_change_to_a_reason_the_policy_names_needs_approval() -> None:
    policy = ApprovalPolicy(required=True, reasons=[Reason.GENERAL, Reason.TEACHER])
    assert approval_needed(policy, CHANGES) == "changes to general need approval"
    # The default reasons are Emergency only, which this batch does not change.
    assert approval_needed(ApprovalPolicy(required=True), CHANGES) is None


def test_a_batch_larger_than_the_limit_needs_approval() -> None:
    size = len(CHANGES)
    assert approval_needed(ApprovalPolicy(required=True, max_changes=size), CHANGES) is None
    assert approval_needed(ApprovalPolicy(required=True, max_changes=size - 1), CHANGES) == (
        f"{size:,} changes is more than the {size - 1:,} a batch may make without approval"
    )


def test_a_reason_set_to_no_change_needs_no_approval() -> None:
    quiet = plan(attrs.evolve(SPEC, settings={Reason.EMERGENCY: Setting.NO_CHANGE, Reason.ATTENDANCE: "on"}), DISTRICT)
    assert approval_needed(ApprovalPolicy(required=True, reasons=[Reason.GENERAL]), quiet) is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_changes": -1}, "max_changes is a whole number of zero or more"),
        ({"max_changes": True}, "max_changes is a whole number of zero or more"),
        ({"expires_after": datetime.timedelta(0)}, "expires_after is a positive time span"),
        ({"expires_after": 7}, "expires_after is a positive time span"),
    ],
)
def test_a_policy_refuses_what_it_cannot_mean(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApprovalPolicy(**fields)  # type: ignore[arg-type]
