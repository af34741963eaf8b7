"""Who may do what: the actions, rights (roles and actors) and the rule rights_denial."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contact_prefs import Action, Governance, Rights
from contact_prefs.approval import ApprovalPolicy
from contact_prefs.rights import RightsError, action_of, rights_denial

RIGHTS = Rights(
    roles={
        "clerk": ["plan", "export"],
        "coordinator": ["plan", "apply", "undo", "import", "export", "consent"],
        "approver": ["plan", "approve"],
        "nothing": [],
    },
    actors={"jdoe": ["clerk"], "asmith": ["coordinator", "approver"], "idle": []},
)


def test_the_actions_are_exactly_these() -> None:
    assert [action.value for action in Action] == [
        "plan", "apply", "undo", "import", "export", "consent", "approve", "admin"
    ]  # fmt: skip
    assert action_of("Apply") is Action.APPLY and action_of(Action.UNDO) is Action.UNDO


def test_an_unknown_action_is_refused_with_the_closest_and_the_choices() -> None:
    with pytest.raises(RightsError, match=r"unknown action 'aprove' \(did you mean 'approve'\?\); actions: plan, "):
        action_of("aprove")
    with pytest.raises(RightsError, match="an action is a name, not int"):
        action_of(3)


@pytest.mark.parametrize(
    ("actor", "action"),
    [("jdoe", Action.PLAN), ("jdoe", Action.EXPORT), ("asmith", Action.APPLY), ("asmith", Action.APPROVE)],
)
def test_an_actor_may_do_what_one_of_their_roles_grants(actor: str, action: Action) -> None:
    assert rights_denial(RIGHTS, actor, action) is None


def test_a_denial_names_the_actors_roles_and_the_roles_that_would_grant_it() -> None:
    assert rights_denial(RIGHTS, "jdoe", Action.APPLY) == (
        "no role of theirs grants it (their roles: clerk); the roles that do: coordinator"
    )
    assert rights_denial(RIGHTS, "jdoe", Action.APPROVE) == (
        "no role of theirs grants it (their roles: clerk); the roles that do: approver"
    )
    assert rights_denial(RIGHTS, "idle", Action.PLAN) == (
        "no role of theirs grants it (they hold no role); the roles that do: approver, clerk, coordinator"
    )
    assert rights_denial(RIGHTS, "asmith", Action.ADMIN) == (
        "no role of theirs grants it (their roles: approver, coordinator); no role of the policy does"
    )


def test_an_unknown_actor_is_denied_everything_with_the_closest_names() -> None:
    for action in Action:
        assert rights_denial(RIGHTS, "jdo", action) == "not an actor of the policy (did you mean 'jdoe'?)"
    assert rights_denial(RIGHTS, "zz", Action.PLAN) == "not an actor of the policy"
    assert rights_denial(RIGHTS, "JDOE", Action.PLAN) is not None  # names are exact: no case folding


def test_rights_refuse_an_actor_with_an_unknown_role() -> None:
    with pytest.raises(RightsError, match=r"the actor 'jdoe' has the unknown role 'clerck' \(did you mean 'clerk'\?\)"):
        Rights(roles={"clerk": ["plan"]}, actors={"jdoe": ["clerck"]})


@pytest.mark.parametrize(
    ("roles", "actors", "message"),
    [
        ({"clerk": ["plann"]}, {}, r"unknown action 'plann' \(did you mean 'plan'\?\)"),
        ({"cl\nerk": ["plan"]}, {}, "a role name 'cl\\\\nerk' holds a control character"),
        ({"clerk": ["plan"]}, {"": ["clerk"]}, "an actor name is empty"),
        ({"clerk": ["plan"]}, {"  ": ["clerk"]}, "an actor name '  ' is only spaces"),
        ({"clerk": ["plan"]}, {"jdoe": "clerk"}, "the roles of the actor 'jdoe' must be a collection of names"),
        (["clerk"], {}, "roles must map role names to actions, not list"),
    ],
)
def test_rights_refuse_what_they_cannot_mean(roles: object, actors: object, message: str) -> None:
    with pytest.raises(RightsError, match=message):
        Rights(roles=roles, actors=actors)  # type: ignore[arg-type]


def test_governance_without_rights_allows_everyone_everything() -> None:
    governance = Governance()
    assert governance.rights is None and governance.approval == ApprovalPolicy()
    assert not governance.approval.required
    assert all(governance.denial(actor, action) is None for actor in ("anyone", "jdoe") for action in Action)
    assert Governance(rights=RIGHTS).denial("jdoe", Action.APPLY) == rights_denial(RIGHTS, "jdoe", Action.APPLY)


ROLE_NAMES = st.sampled_from(["clerk", "coordinator", "approver", "admin", "auditor"])
ACTOR_NAMES = st.sampled_from(["ann", "bob", "cy", "dee"])


@st.composite
def rights(draw: st.DrawFn) -> Rights:
    roles = draw(st.dictionaries(ROLE_NAMES, st.frozensets(st.sampled_from(Action)), max_size=5))
    actors = draw(st.dictionaries(ACTOR_NAMES, st.frozensets(st.sampled_from(sorted(roles) or ["-"])), max_size=4))
    return Rights(roles=roles, actors={actor: held & roles.keys() for actor, held in actors.items()})


@given(rights(), ACTOR_NAMES, st.sampled_from(Action))
def test_an_actor_is_allowed_exactly_when_one_of_their_roles_grants_the_action(
    rights: Rights, actor: str, action: Action
) -> None:
    granted = actor in rights.actors and any(action in rights.roles[role] for role in rights.actors[actor])
    denial = rights_denial(rights, actor, action)
    assert (denial is None) == granted
    assert Governance(rights=rights).denial(actor, action) == denial
    assert Governance().denial(actor, action) is None
    if denial is not None and actor in rights.actors:
        assert all(role in denial for role in rights.granting(action))  # it says which roles would grant it
