"""The Simple64 demonstrator plays the two-Barracks marine rush through pysc2's interface and wins."""
import collections

import numpy as np
import pytest

from pysc2.lib import actions

from agents.economy import NOT_ENOUGH_MINERALS
from agents.marine_rush import MarineRush
from tests.engine_helpers import simple64_against_very_easy

F = actions.FUNCTIONS


def test_the_marine_rush_builds_two_barracks_and_destroys_the_very_easy_ai():
    env = simple64_against_very_easy(use_feature_units=True)
    np.random.seed(0)  # its pauses
    agent = MarineRush()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    agent.reset()
    timestep, = env.reset()
    used = collections.Counter()
    while not timestep.last():
        call = agent.step(timestep)
        used[call.function] += 1
        timestep, = env.step([call])
    assert timestep.reward == 1
    assert timestep.observation.game_loop[0] < 20 * 60 * 16  # well inside the 30-minute limit
    assert used[F.Build_Barracks_screen.id] >= 2
    assert used[F.Attack_minimap.id] >= 1
    assert used[F.Train_Marine_quick.id] >= 10


def test_the_marine_rush_needs_feature_units_and_says_so():
    env = simple64_against_very_easy(use_feature_units=False)
    agent = MarineRush()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    agent.reset()
    timestep, = env.reset()
    with pytest.raises(ValueError, match="use_feature_units=True"):
        agent.step(timestep)


def build_orders(agent_class, functions, seed=3, steps=400):
    """Play `steps` agent steps of `agent_class` against very_easy; its orders of `functions`:
    [(agent step, minerals when ordered, function, point, the game's refusals)]."""
    env = simple64_against_very_easy(use_feature_units=True)
    np.random.seed(seed)
    agent = agent_class()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    agent.reset()
    timestep, = env.reset()
    orders = []
    for step in range(steps):
        call = agent.step(timestep)
        minerals = int(timestep.observation.player.minerals)
        timestep, = env.step([call])
        if call.function in functions:
            orders.append((step, minerals, call.function, tuple(call.arguments[1]),
                           [int(r) for r in timestep.observation.action_result]))
    return orders


class AlwaysMovedBuilds(MarineRush):
    """The demonstrator with every Build command's point moved (its DART noise always on), and
    never ordering a building early (only spots are refused)."""
    BUILD_NOISE = 1.0
    EARLY_BUILD = 0.0


def test_a_refused_build_is_ordered_again_at_once_at_another_spot():
    orders = build_orders(AlwaysMovedBuilds,
                          {F.Build_SupplyDepot_screen.id, F.Build_Barracks_screen.id})
    refused = [i for i, order in enumerate(orders) if order[4]]
    assert refused, "no Build command was refused: the test shows nothing"
    for i in refused:
        step, _, function, point, _ = orders[i]
        retry = next(order for order in orders[i + 1:] if order[2] == function)
        assert retry[0] - step <= 3, "ordered again only after waiting for the SCV"
        assert retry[3] != point


class AlwaysEarlyBuilds(MarineRush):
    """The demonstrator ordering every building as soon as it is EARLY_MINERALS short."""
    EARLY_BUILD = 1.0


def test_a_building_ordered_early_is_refused_and_ordered_again_at_the_same_spot():
    orders = build_orders(AlwaysEarlyBuilds, {F.Build_SupplyDepot_screen.id})
    first_accepted = next(i for i, order in enumerate(orders) if not order[4])
    assert first_accepted > 0, "the first depot was not ordered early"
    assert orders[0][1] < 100
    assert all(order[4] == [NOT_ENOUGH_MINERALS] for order in orders[:first_accepted])
    assert orders[1][3] == orders[0][3], "a spot refused for want of minerals was avoided"
