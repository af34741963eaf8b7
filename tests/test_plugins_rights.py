"""Authorization through the plugin system: the contact_prefs_authorize hook, Plugins.authorize, and
the stores from Plugins.open_store, which ask before every write (on a memory and a SQLite store)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import attrs
import pytest

from contact_prefs import (
    Action,
    ConsentPolicy,
    Governance,
    NotAuthorizedError,
    Plugins,
    Rights,
    Store,
    hookimpl,
    plan,
)
from contact_prefs.identifiers import IdError
from contact_prefs.testing.consent import CONSENT_DISTRICT, NUMBER_KEY, ON_SPEC, review, revoke


@attrs.define
class Gate:
    """A plugin that denies the actions in ``deny`` and remembers every question it was asked."""

    deny: set[str] = attrs.field(factory=set)
    asked: list[tuple[str, str, Mapping[str, object]]] = attrs.field(factory=list)

    @hookimpl
    def contact_prefs_authorize(self, actor: str, action: str, context: Mapping[str, object]) -> str | None:
        self.asked.append((actor, action, context))
        return f"the gate is closed to {action}" if action in self.deny else None


def state(store: Store) -> tuple[Any, ...]:
    """Everything a store holds that a write could change."""
    return (
        store.dump(),
        store.history(),
        store.ledger(NUMBER_KEY),
        store.reviews(),
        store.consent_policy(),
        store.policy_changes(),
    )


@pytest.fixture(params=["memory://", "sqlite://"])
def gated(request: pytest.FixtureRequest) -> Iterator[tuple[Store, Gate]]:
    """A store holding the consent district, a batch, a revocation and a waiting review, behind a gate."""
    gate = Gate()
    with Plugins.load(extra=[gate]).open_store(request.param) as store:
        store.load(CONSENT_DISTRICT, actor="loader")
        store.commit(plan(ON_SPEC, store.snapshot(ON_SPEC)), actor="ann")
        store.record_consent([revoke()], reviews=[review("r1", hours=1)], actor="feed")
        gate.asked.clear()
        yield store, gate


WRITES: dict[str, tuple[Action, Callable[[Store], object], set[str]]] = {
    "load": (
        Action.IMPORT,
        lambda s: s.load(CONSENT_DISTRICT, actor="bob"),
        {"snapshot", "remove", "keep_preferences"},
    ),
    "commit": (
        Action.APPLY,
        lambda s: s.commit(plan(ON_SPEC, s.snapshot(ON_SPEC)).inverse(), actor="bob"),
        {"spec", "change_set"},
    ),
    "undo": (Action.UNDO, lambda s: s.undo(s.history()[0].batch_id, actor="bob"), {"batch_id"}),
    "record_consent": (
        Action.CONSENT,
        lambda s: s.record_consent([revoke(hours=2)], actor="bob"),
        {"events", "reviews"},
    ),
    "resolve_review": (
        Action.CONSENT,
        lambda s: s.resolve_review("r1", revoked=True, actor="bob", note="", at=s.reviews()[0].received_at),
        {"review_id", "revoked"},
    ),
    "set_consent_policy": (
        Action.ADMIN,
        lambda s: s.set_consent_policy(ConsentPolicy(region="CA"), actor="bob", why="moved"),
        {"policy", "why"},
    ),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_a_denied_write_raises_before_anything_is_written(gated: tuple[Store, Gate], write: str) -> None:
    store, gate = gated
    action, call, keys = WRITES[write]
    gate.deny = {action.value}
    before = state(store)
    with pytest.raises(NotAuthorizedError) as denied:
        call(store)
    assert (denied.value.actor, denied.value.action, denied.value.reason) == (
        "bob",
        action.value,
        f"the gate is closed to {action.value}",
    )
    assert str(denied.value) == f"'bob' may not take the action '{action.value}': the gate is closed to {action.value}"
    assert isinstance(denied.value, PermissionError)
    assert state(store) == before
    (asked,) = [question for question in gate.asked if question[1] == action.value]
    assert asked[0] == "bob" and set(asked[2]) == {"store", *keys}
    assert asked[2]["store"] in ("memory://", "sqlite://")


@pytest.mark.parametrize("write", list(WRITES))
def test_an_allowed_write_goes_through(gated: tuple[Store, Gate], write: str) -> None:
    store, gate = gated
    action, call, _ = WRITES[write]
    gate.deny = {a.value for a in Action} - {action.value}
    before = state(store)
    call(store)
    assert state(store) != before
    assert [question[1] for question in gate.asked].count(action.value) == 1


def test_the_actor_rule_comes_before_any_plugin(gated: tuple[Store, Gate]) -> None:
    store, gate = gated
    with pytest.raises(IdError, match="control character"):
        store.commit(plan(ON_SPEC, store.snapshot(ON_SPEC)), actor="bob\n")
    with pytest.raises(IdError, match="only spaces"):
        store.load(CONSENT_DISTRICT, actor="  ")
    assert gate.asked == []


def test_the_first_plugin_that_denies_decides() -> None:
    first, second = Gate(deny={"apply"}), Gate(deny={"apply", "undo"})
    plugins = Plugins.load(extra=[first, second])
    with pytest.raises(NotAuthorizedError) as denied:
        plugins.authorize("ann", "apply", {"store": "x"})
    # pluggy asks the plugin registered last first: it denied, so the other was not asked.
    assert denied.value.reason == "the gate is closed to apply"
    assert (len(first.asked), len(second.asked)) == (0, 1)
    plugins.authorize("ann", Action.PLAN)  # nobody denies: allowed
    assert (len(first.asked), len(second.asked)) == (1, 2)
    assert dict(second.asked[-1][2]) == {}


def test_authorize_takes_the_actions_names_only() -> None:
    with pytest.raises(ValueError, match="unknown action 'aply'"):
        Plugins.load().authorize("ann", "aply")


def test_the_bundled_policy_is_a_plugin_of_the_same_hook() -> None:
    rights = Rights(
        roles={"clerk": ["plan"], "approver": ["plan", "approve"]}, actors={"jdoe": ["clerk"], "al": ["approver"]}
    )
    plugins = Plugins.load(governance=Governance(rights=rights))
    assert plugins.governance.rights == rights
    plugins.authorize("al", "approve")
    with pytest.raises(
        NotAuthorizedError, match=r"^'jdoe' may not take the action 'approve': no role of theirs grants it"
    ):
        plugins.authorize("jdoe", "approve")
    with pytest.raises(
        NotAuthorizedError, match=r"^'nobody' may not take the action 'plan': not an actor of the policy$"
    ):
        plugins.authorize("nobody", "plan")
    with (
        plugins.open_store("memory://") as store,
        pytest.raises(NotAuthorizedError, match="'jdoe' may not take the action 'import'"),
    ):
        store.load(CONSENT_DISTRICT, actor="jdoe")
    # Without rights, every actor may do everything.
    for action in Action:
        Plugins.load().authorize("anyone", action)
