"""DeepMind's own pysc2 agents run unchanged on the engine and score as on the real game."""
import numpy as np
from pysc2.agents import random_agent, scripted_agent
from pysc2.env import run_loop, sc2_env

import minigames


def make_env(seed, screen=64, minimap=64):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=screen, minimap=minimap))
    return minigames.SC2Env(map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
                            agent_interface_format=aif, random_seed=seed)


def episode_scores(agent, env, episodes):
    """Run pysc2's run_loop and read each episode's score off the LAST observation."""
    scores = []
    original_step = agent.step

    def step(obs):
        if obs.last():
            scores.append(int(obs.observation.score_cumulative.score))
        return original_step(obs)

    agent.step = step
    run_loop.run_loop([agent], env, max_episodes=episodes)
    return scores


def test_scripted_move_to_beacon_scores_like_a_human_expert():
    # SC2LE (arXiv:1708.04782) Table 1, MoveToBeacon: DeepMind human player 26 (max 28),
    # StarCraft Grandmaster 28; the scripted agent walks straight to the beacon every step.
    agent = scripted_agent.MoveToBeacon()
    scores = episode_scores(agent, make_env(seed=1), episodes=8)
    assert len(scores) == 8
    assert agent.reward == sum(scores)  # rewards are the score's increments
    assert 22 <= np.mean(scores) <= 30


def test_scripted_agent_at_32_pixels():
    agent = scripted_agent.MoveToBeacon()
    scores = episode_scores(agent, make_env(seed=2, screen=32, minimap=32), episodes=4)
    assert 20 <= np.mean(scores) <= 30


def test_random_agent_scores_like_the_sc2le_random_policy():
    # SC2LE Table 1: random policy mean 1, max 6 on MoveToBeacon.
    np.random.seed(0)
    agent = random_agent.RandomAgent()
    scores = episode_scores(agent, make_env(seed=3), episodes=20)
    assert 0 <= np.mean(scores) <= 3 and max(scores) <= 8


def test_pysc2_mock_environment_imports_with_the_fix():
    from pysc2.env import mock_sc2_env

    env = mock_sc2_env.SC2TestEnv(
        map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=32, minimap=32)))
    assert env.reset()[0].first()
