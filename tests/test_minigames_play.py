"""`python -m minigames.play` reports its games and how many of the agent's actions the game refused."""
import collections
import json
import os
import subprocess
import sys

import numpy as np
from s2clientprotocol import error_pb2

from agents.marine_rush import MarineRush
from tests.engine_helpers import simple64_against_very_easy

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEED = 3  # (any game: the marine rush orders Marines into full queues, which the game refuses)


def refusals_of_one_game(seed):
    """The marine rush's game of `seed`, as `minigames.play --seed` plays it, counted here."""
    np.random.seed(seed)
    env = simple64_against_very_easy(seed=seed)
    agent = MarineRush()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    agent.reset()
    timestep, = env.reset()
    refused = collections.Counter()
    while True:
        refused.update(error_pb2.ActionResult.Name(int(r))
                       for r in timestep.observation.action_result)
        if timestep.last():
            return int(timestep.reward), dict(refused)
        timestep, = env.step([agent.step(timestep)])


def test_play_reports_the_outcome_and_the_refused_actions_by_reason():
    result = subprocess.run(
        [sys.executable, "-m", "minigames.play", "--map_name", "Simple64", "--agent",
         "agents.marine_rush.MarineRush", "--episodes", "1", "--screen_size", "32",
         "--minimap_size", "32", "--seed", str(SEED), "--backend", "embedded"],
        cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": REPO})
    report = json.loads(result.stdout.strip().splitlines()[-1])
    outcome, refused = refusals_of_one_game(SEED)
    assert refused, "the game refused nothing: the test shows nothing"
    assert report["refused"] == refused
    assert (report["wins"], report["losses"], report["ties"]) == (
        int(outcome == 1), int(outcome == -1), int(outcome == 0))


def test_games_played_together_are_the_games_each_environment_plays_alone(tmp_path):
    """--num_envs 3 --episodes 4: environment e's games are SC2Env(seed + e)'s, played by
    run_loop, and only the 4 counted games are recorded (environment 0 plays two)."""
    from pysc2.agents import scripted_agent
    from pysc2.env import run_loop, sc2_env

    import minigames
    from minigames import action_format, replay

    seed = 5
    subprocess.run(
        [sys.executable, "-m", "minigames.play", "--agent",
         "pysc2.agents.scripted_agent.MoveToBeacon", "--episodes", "4", "--num_envs", "3",
         "--screen_size", "16", "--minimap_size", "16", "--seed", str(seed), "--backend",
         "embedded", "--replay_dir", str(tmp_path / "together")],
        cwd=REPO, capture_output=True, text=True, check=True,
        env={**os.environ, "PYTHONPATH": REPO})
    together = {(r["random_seed"], r["game_index"]): r for r in
                map(replay.load, (tmp_path / "together").glob("*.minigames-replay.json"))}
    assert sorted(together) == [(5, 0), (5, 1), (6, 0), (7, 0)]
    for env_seed, games in ((5, 2), (6, 1), (7, 1)):
        env = minigames.SC2Env(
            map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
            agent_interface_format=sc2_env.AgentInterfaceFormat(
                feature_dimensions=sc2_env.Dimensions(screen=16, minimap=16),
                use_feature_units=True),
            random_seed=env_seed, save_replay_episodes=1, replay_dir=str(tmp_path / "alone"))
        run_loop.run_loop([scripted_agent.MoveToBeacon()], env, max_episodes=games)
    alone = {(r["random_seed"], r["game_index"]): r for r in
             map(replay.load, (tmp_path / "alone").glob("*.minigames-replay.json"))}
    assert sorted(alone) == sorted(together)

    def calls(record):  # (SC2Env writes a scalar argument as [v, 0], BatchEnv as [v, -1])
        return [(loop, action_format.values_to_function_call(function_id, values))
                for loop, function_id, values in record["actions"]]

    for key, record in alone.items():
        assert record["score"] > 0
        assert calls(together[key]) == calls(record), key
        for field in ("score", "game_loops", "outcome"):
            assert together[key][field] == record[field], (key, field)


def test_num_envs_with_a_gif_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "minigames.play", "--num_envs", "2", "--gif", "x.gif",
         "--backend", "embedded"],
        cwd=REPO, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": REPO})
    assert result.returncode != 0
    assert "--gif records one game: use it with --num_envs 1." in result.stderr
