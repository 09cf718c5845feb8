"""The batch API: index actions, batch-format observations, auto-reset, agreement with SC2Env."""
import numpy as np
import pytest
from pysc2.env import sc2_env
from pysc2.lib import actions

import minigames
from minigames import action_format, batch_format

FUNCTIONS = actions.FUNCTIONS


def no_args(n):
    return np.full((n, 13), -1, np.int64)


def random_indices(rng, available, sizes):
    """A random available function per row, with random indices for every argument type."""
    fn = np.array([rng.choice(np.flatnonzero(row)) for row in available])
    args = np.stack([rng.integers(0, max(s, 1), size=len(fn)) for s in sizes], axis=1)
    return fn, args


def test_batch_shapes_and_dtypes():
    env = minigames.BatchEnv(num_envs=4, screen_size=32, minimap_size=16, seed=0,
                             use_feature_units=True)
    batch = env.reset()
    assert batch["feature_screen"].shape == (4, 27, 32, 32)
    assert batch["feature_minimap"].shape == (4, 11, 16, 16)
    assert batch["available_actions"].shape == (4, 573) and batch["available_actions"].dtype == bool
    assert batch["feature_units"].shape == (4, batch_format.PADDED_ROWS["feature_units"], 46)
    assert batch["feature_units_count"].tolist() == [2, 2, 2, 2]
    assert batch["single_select_count"].tolist() == [0, 0, 0, 0]


def test_rows_equal_single_envs_with_the_same_seeds():
    n, seed = 3, 11
    batch_env = minigames.BatchEnv(num_envs=n, screen_size=24, minimap_size=24, seed=seed,
                                   use_feature_units=True)
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=24, minimap=24), use_feature_units=True)
    envs = [minigames.SC2Env(map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
                             agent_interface_format=aif, random_seed=seed + i) for i in range(n)]
    batch = batch_env.reset()
    observations = [env.reset()[0].observation for env in envs]
    rng = np.random.default_rng(0)
    for _ in range(60):
        stacked = batch_format.stack_observations(observations)
        assert stacked.keys() == batch.keys()
        for key in batch:
            assert np.array_equal(stacked[key], batch[key]), key
        fn, args = random_indices(rng, batch["available_actions"], batch_env.arg_sizes)
        batch, reward, done = batch_env.step(fn, args)
        timesteps = []
        for i, env in enumerate(envs):
            values = batch_env.index_to_values(args[i:i + 1])[0]
            call = action_format.values_to_function_call(int(fn[i]), values)
            timesteps.append(env.step([call])[0])
        assert reward.tolist() == [float(ts.reward) for ts in timesteps]
        observations = [ts.observation for ts in timesteps]


def test_finished_games_restart_in_place():
    env = minigames.BatchEnv(num_envs=2, seed=0, game_steps_per_episode=24)
    env.reset()
    for step in range(3):
        batch, reward, done = env.step(np.zeros(2, np.int64), no_args(2))
    assert done.tolist() == [True, True]
    assert batch["game_loop"][:, 0].tolist() == [0, 0]


def test_scripted_policy_scores_through_the_batch_api():
    """Move to the mean beacon pixel every step, in index form: a full episode scores ~26."""
    n = 8
    env = minigames.BatchEnv(num_envs=n, screen_size=64, minimap_size=64, seed=5)
    batch = env.reset()
    totals = np.zeros(n)
    for _ in range(240):
        fn = np.full(n, FUNCTIONS.select_army.id)
        args = no_args(n)
        args[:, actions.TYPES.select_add.id] = 0
        selected = batch["available_actions"][:, FUNCTIONS.Move_screen.id]
        for i in np.flatnonzero(selected):
            ys, xs = np.nonzero(batch["feature_screen"][i, 5] == 3)
            fn[i] = FUNCTIONS.Move_screen.id
            args[i, actions.TYPES.queued.id] = 0
            args[i, actions.TYPES.screen.id] = int(ys.mean().round()) * 64 + int(xs.mean().round())
        batch, reward, done = env.step(fn, args)
        totals += reward
    assert done.all()
    assert 22 <= totals.mean() <= 30


def test_bad_batch_actions_are_refused():
    env = minigames.BatchEnv(num_envs=2, seed=0)
    env.reset()
    with pytest.raises(ValueError, match="Move_screen is currently not available"):
        env.step(np.array([0, FUNCTIONS.Move_screen.id]), no_args(2))
    with pytest.raises(ValueError, match="select_add is out of range"):
        env.step(np.array([FUNCTIONS.select_army.id, 0]), no_args(2))
    with pytest.raises(ValueError, match="Invalid function id"):
        env.step(np.array([600, 0]), no_args(2))
    with pytest.raises(ValueError, match="shape"):
        env.step(np.array([0]), no_args(1))
    with pytest.raises(ValueError, match="no map 'Simple128'"):
        minigames.BatchEnv(map_name="Simple128")
