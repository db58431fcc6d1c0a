"""Fire transitions on an 8-state ring, and lint a 10,000-state definition.

salesflow side by side with `transitions` 0.9 and `python-statemachine` 3.x in one
process, on the same ring, each keeping a history of who fired what, when, from where
to where (salesflow's is built in; the peers get the callback their users bolt on).
Then the lint time of a 10,000-state, 50,000-transition definition. Prints figures and
ratios; asserts nothing about time.

With ``--roles`` every move of the ring needs the role ``sales`` and is fired by an
actor holding it: salesflow checks the transition's ``roles``, the peers a condition
callback that looks the role up in the actor's roles, passed with the event.

    pip install transitions python-statemachine   # the [bench] extra
    python benchmarks/bench_workflow.py
    python benchmarks/bench_workflow.py --roles
    python benchmarks/bench_workflow.py --fires 50000 --states 2000
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import time
from typing import TYPE_CHECKING

from salesflow.workflow import (
    Actor,
    State,
    Transition,
    Workflow,
    WorkflowDefinition,
    lint,
    load_workflow,
)

if TYPE_CHECKING:
    from collections.abc import Callable

RING = 8
NOW = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)
ACTOR = Actor("li.na", {"sales"})


def best_rate(run: Callable[[int], object], fires: int, repeats: int = 3) -> float:
    """Transitions per second, best of ``repeats`` runs of ``fires`` each."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run(fires)
        best = min(best, time.perf_counter() - start)
    return fires / best


def salesflow_ring(*, roles: bool = False) -> Callable[[int], object]:
    """The ring in salesflow: history on (the default); with ``roles``, each move needs one."""
    needed = ("sales",) if roles else ()
    definition = WorkflowDefinition(
        name="ring",
        initial="s0",
        roles=needed,
        states=[State(name=f"s{i}") for i in range(RING)] + [State(name="end", terminal=True)],
        transitions=[
            *(
                Transition(event="next", source=f"s{i}", target=f"s{(i + 1) % RING}", roles=needed)
                for i in range(RING)
            ),
            Transition(event="stop", source="s0", target="end"),
        ],
    )
    workflow = Workflow(definition)

    def run(fires: int) -> object:
        instance = workflow.start("ring", now=NOW)
        fire = workflow.fire
        for _ in range(fires):
            instance = fire(instance, "next", ACTOR, now=NOW).instance
        assert instance.history_length == fires + 1  # noqa: S101 - start + every fire, kept
        return instance

    return run


def transitions_ring(*, roles: bool = False) -> Callable[[int], object] | None:
    """The ring in `transitions`, with a history callback; with ``roles``, a condition."""
    try:
        from transitions import Machine  # noqa: PLC0415 - optional peer
    except ImportError:
        return None

    class Model:
        def __init__(self) -> None:
            self.history: list[tuple[object, ...]] = []

        def record(self, event: object) -> None:
            data = event  # transitions.EventData
            self.history.append(
                (
                    data.event.name,  # type: ignore[attr-defined]
                    data.transition.source,  # type: ignore[attr-defined]
                    data.transition.dest,  # type: ignore[attr-defined]
                    data.kwargs.get("actor"),  # type: ignore[attr-defined]
                    data.kwargs.get("now"),  # type: ignore[attr-defined]
                )
            )

        def has_role(self, event: object) -> bool:
            return "sales" in event.kwargs["roles"]  # type: ignore[attr-defined]

    condition = {"conditions": "has_role"} if roles else {}
    extra = {"roles": ACTOR.roles} if roles else {}

    def run(fires: int) -> object:
        model = Model()
        Machine(
            model=model,
            states=[f"s{i}" for i in range(RING)],
            transitions=[
                {"trigger": "next", "source": f"s{i}", "dest": f"s{(i + 1) % RING}", **condition}
                for i in range(RING)
            ],
            initial="s0",
            send_event=True,
            after_state_change="record",
            auto_transitions=False,
        )
        fire = model.next  # type: ignore[attr-defined]
        for _ in range(fires):
            fire(actor=ACTOR.id, now=NOW, **extra)
        assert len(model.history) == fires  # noqa: S101
        return model

    return run


def statemachine_ring(*, roles: bool = False) -> Callable[[int], object] | None:
    """The ring in `python-statemachine`, with a history callback; with ``roles``, a condition."""
    try:
        from statemachine import State as PState  # noqa: PLC0415 - optional peer
        from statemachine import StateMachine  # noqa: PLC0415
    except ImportError:
        return None

    states = {f"s{i}": PState(initial=i == 0) for i in range(RING)}
    condition = {"cond": "has_role"} if roles else {}
    extra = {"roles": ACTOR.roles} if roles else {}
    chain = states["s0"].to(states["s1"], **condition)
    for i in range(1, RING):
        chain |= states[f"s{i}"].to(states[f"s{(i + 1) % RING}"], **condition)

    def after_transition(
        self: StateMachine, event: str, source: PState, target: PState, **kwargs: object
    ) -> None:
        self.history.append((event, source.id, target.id, kwargs.get("actor"), kwargs.get("now")))  # type: ignore[attr-defined]

    def has_role(_machine: StateMachine, roles: frozenset[str], **_: object) -> bool:
        return "sales" in roles

    ring = type(
        "Ring",
        (StateMachine,),
        {**states, "next": chain, "after_transition": after_transition, "has_role": has_role},
    )

    def run(fires: int) -> object:
        machine = ring()
        machine.history = []
        fire = machine.next
        for _ in range(fires):
            fire(actor=ACTOR.id, now=NOW, **extra)
        assert len(machine.history) == fires  # noqa: S101
        return machine

    return run


def big_definition(states: int, transitions: int, seed: int = 7) -> dict[str, object]:
    """A ring of ``states`` with extra random moves, some on guarded shared events."""
    rng = random.Random(seed)
    names = [f"s{i}" for i in range(states - 1)] + ["end"]
    moves: list[dict[str, object]] = [
        {"event": "next", "source": names[i], "target": names[i + 1]} for i in range(states - 1)
    ]
    while len(moves) < transitions:
        source = rng.randrange(states - 1)
        target = rng.randrange(states)
        if rng.random() < 0.1:  # pairs of guarded moves on one event: the prover's work
            low = rng.randrange(1000)
            moves.append(
                {
                    "event": f"route{len(moves)}",
                    "source": names[source],
                    "target": names[target],
                    "guard": f"amount < {low}",
                }
            )
            moves.append(
                {
                    "event": f"route{len(moves) - 1}",
                    "source": names[source],
                    "target": names[rng.randrange(states)],
                    "guard": f"amount >= {low}",
                }
            )
        else:
            moves.append(
                {"event": f"jump{len(moves)}", "source": names[source], "target": names[target]}
            )
    return {
        "name": "big",
        "initial": "s0",
        "fields": {"amount": "int"},
        "states": [{"name": n, "terminal": n == "end"} for n in names],
        "transitions": moves,
    }


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fires", type=int, default=200_000)
    parser.add_argument("--states", type=int, default=10_000)
    parser.add_argument("--transitions", type=int, default=50_000)
    parser.add_argument(
        "--roles", action="store_true", help="every move needs a role the actor holds"
    )
    args = parser.parse_args()

    checked = ", a role check on every move" if args.roles else ""
    print(f"== firing on an {RING}-state ring, history on{checked}, best of 3 x {args.fires:,}")
    ours = best_rate(salesflow_ring(roles=args.roles), args.fires)
    print(f"salesflow            {ours:>12,.0f} transitions/s")
    for name, make, target in (
        ("transitions", transitions_ring, 2),
        ("python-statemachine", statemachine_ring, 10),
    ):
        run = make(roles=args.roles)
        if run is None:
            print(f"{name:<20} not installed (pip install {name})")
            continue
        rate = best_rate(run, args.fires)
        ratio = ours / rate
        print(
            f"{name:<20} {rate:>12,.0f} transitions/s   salesflow is {ratio:.1f}x"
            f" (target >= {target}x)"
        )

    print(f"\n== lint of {args.states:,} states, {args.transitions:,} transitions")
    data = big_definition(args.states, args.transitions)
    # Cold first: a definition built without load_workflow, nothing compiled yet, so
    # lint checks every reference and compiles and analyses every guard itself.
    start = time.perf_counter()
    built = WorkflowDefinition.model_validate(data)
    validated = time.perf_counter() - start
    start = time.perf_counter()
    problems = lint(built)
    cold = time.perf_counter() - start
    print(f"validate (pydantic only)          {validated:.2f} s")
    print(
        f"lint, cold (references + graph)   {cold:.2f} s (target < 1 s), {len(problems)} findings"
    )
    # The usual flow: load (which checks references once), then lint.
    start = time.perf_counter()
    definition = load_workflow(data)
    loaded = time.perf_counter() - start
    start = time.perf_counter()
    problems = lint(definition)
    linted = time.perf_counter() - start
    print(f"load (validate + references)      {loaded:.2f} s")
    print(f"lint after load (graph + guards)  {linted:.2f} s, {len(problems)} findings")


if __name__ == "__main__":
    main()
