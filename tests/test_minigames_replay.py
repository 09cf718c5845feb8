"""Replays of the embedded engine re-simulate to the same observations and score."""
import json

import numpy as np
import pytest
from pysc2.agents import scripted_agent
from pysc2.env import sc2_env

import minigames
from minigames import replay


def record_game(tmp_path, seed=4, games=2):
    env = minigames.SC2Env(
        map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=32, minimap=32), use_feature_units=True),
        random_seed=seed, save_replay_episodes=1, replay_dir=str(tmp_path))
    agent = scripted_agent.MoveToBeacon()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    live = []
    for _ in range(games):
        timestep = env.reset()[0]
        live = [timestep.observation]
        while not timestep.last():
            timestep = env.step([agent.step(timestep)])[0]
            live.append(timestep.observation)
    return sorted(tmp_path.glob("*.json")), live


def test_replay_plays_back_to_the_same_observations(tmp_path):
    paths, live = record_game(tmp_path)
    assert len(paths) == 2
    record = replay.load(paths[-1])  # the second game: its start depends on the game index
    assert record["game_index"] == 1 and record["score"] > 15
    replayed = list(replay.play_back(record))
    assert len(replayed) == 1921  # first observation and one per game loop
    every_step = [ts.observation for ts in replayed[::8]]
    assert len(every_step) == len(live)
    for ours, theirs in zip(every_step, live):
        for key in ("feature_screen", "feature_minimap", "feature_units", "score_cumulative",
                    "available_actions", "single_select", "game_loop"):
            assert np.array_equal(ours[key], theirs[key]), key
    assert replayed[-1].last
    assert replayed[-1].observation.score_cumulative[0] == record["score"]


def test_last_actions_appear_one_loop_after_they_are_issued(tmp_path):
    paths, _ = record_game(tmp_path, games=1)
    record = replay.load(paths[0])
    replayed = list(replay.play_back(record))
    first_loop, first_function, _ = record["actions"][0]
    assert replayed[first_loop + 1].observation.last_actions.tolist() == [first_function]
    assert replayed[first_loop + 2].observation.last_actions.tolist() == []


def test_bad_replay_files_are_clear_errors(tmp_path):
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    with pytest.raises(replay.ReplayError, match="not a readable replay"):
        replay.load(garbage)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(replay.ReplayError, match="not a minigames-replay file"):
        replay.load(other)
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps({"format": replay.FORMAT, "version": replay.VERSION}))
    with pytest.raises(replay.ReplayError, match="lacks map_name"):
        replay.load(partial)
