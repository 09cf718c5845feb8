"""The Simple64 demonstrator plays the two-Barracks marine rush through pysc2's interface and wins."""
import collections

import numpy as np
import pytest

from pysc2.env import sc2_env
from pysc2.lib import actions

from agents.marine_rush import MarineRush
from minigames import SC2Env, pysc2_batch_env

F = actions.FUNCTIONS


def simple64_against_very_easy(use_feature_units):
    return SC2Env(map_name="Simple64", players=pysc2_batch_env.players("Simple64"),
                  agent_interface_format=sc2_env.AgentInterfaceFormat(
                      feature_dimensions=sc2_env.Dimensions(screen=32, minimap=32),
                      use_feature_units=use_feature_units),
                  step_mul=8, random_seed=1)


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
