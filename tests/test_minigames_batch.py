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


def toward_beacon(batch):
    """select_army, then Move_screen to the centre of the beacon's pixels: games that score."""
    n = len(batch["game_loop"])
    function_ids = np.full(n, FUNCTIONS.select_army.id)
    arg_indices = no_args(n)
    arg_indices[:, actions.TYPES.select_add.id] = 0
    size = batch["feature_screen"].shape[-1]
    neutral = batch["feature_screen"][:, features_index("player_relative")] == 3
    for i in np.flatnonzero(batch["single_select_count"] > 0):
        y, x = np.nonzero(neutral[i])
        function_ids[i] = FUNCTIONS.Move_screen.id
        arg_indices[i, actions.TYPES.queued.id] = 0
        arg_indices[i, actions.TYPES.screen.id] = int(y.mean()) * size + int(x.mean())
    return function_ids, arg_indices


def features_index(name):
    from pysc2.lib import features
    return getattr(features.SCREEN_FEATURES, name).index


def test_set_state_continues_every_game_exactly():
    import pickle

    env = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=7,
                             use_feature_units=True, game_steps_per_episode=160)
    batch = env.reset()
    for _ in range(25):  # into the second game (20 steps per game)
        batch, _, _ = env.step(*toward_beacon(batch))
    state = pickle.loads(pickle.dumps(env.get_state()))
    saved_observation = {k: v.copy() for k, v in batch.items()}

    restored = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=99,
                                  use_feature_units=True, game_steps_per_episode=160)
    restored.reset()
    again = restored.set_state(state)
    for key, value in saved_observation.items():
        np.testing.assert_array_equal(again[key], value, err_msg=key)
    scores = []
    for _ in range(40):  # through beacon respawns and the third game's start
        batch, reward, done = env.step(*toward_beacon(batch))
        again, reward_again, done_again = restored.step(*toward_beacon(again))
        np.testing.assert_array_equal(reward, reward_again)
        np.testing.assert_array_equal(done, done_again)
        for key in batch:
            np.testing.assert_array_equal(again[key], batch[key], err_msg=key)
        scores.append(reward)
    assert np.sum(scores) > 10  # the beacon was reached (and redrawn) many times


def test_set_state_refuses_another_number_of_environments():
    state = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=1).get_state()
    other = minigames.BatchEnv(num_envs=2, screen_size=16, minimap_size=16, seed=1)
    with pytest.raises(ValueError, match="holds 3 environments; this engine has 2"):
        other.set_state(state)


def test_every_kth_game_of_each_environment_is_recorded_as_a_replay(tmp_path):
    from minigames import replay

    env = minigames.BatchEnv(num_envs=2, screen_size=16, minimap_size=16, seed=5,
                             game_steps_per_episode=160, replay_dir=str(tmp_path),
                             save_replay_episodes=2)
    batch = env.reset()
    game_scores = {0: [0.0], 1: [0.0]}
    for _ in range(80):  # four games of 20 steps in each environment
        batch, reward, done = env.step(*toward_beacon(batch))
        for i in range(2):
            game_scores[i][-1] += reward[i]
            if done[i]:
                game_scores[i].append(0.0)
    paths = sorted(tmp_path.glob("*.minigames-replay.json"))
    records = sorted((replay.load(p) for p in paths),
                     key=lambda r: (r["random_seed"], r["game_index"]))
    assert [(r["random_seed"], r["game_index"]) for r in records] == [(5, 1), (5, 3), (6, 1),
                                                                       (6, 3)]
    for record in records:
        environment = record["random_seed"] - 5
        assert record["score"] == game_scores[environment][record["game_index"]] > 0
        assert record["game_loops"] == 160 and record["step_mul"] == 8
        final = list(replay.play_back(record))[-1]
        assert final.observation.score_cumulative[0] == record["score"]
        for _, function_id, values in record["actions"]:
            unused = ~action_format.USES_ARG[function_id]
            assert (np.array(values)[unused] == -1).all()


def test_replays_need_a_folder():
    with pytest.raises(ValueError, match="Missing replay_dir"):
        minigames.BatchEnv(num_envs=1, save_replay_episodes=1)


def test_final_observation_is_the_ended_games_last_step():
    env = minigames.BatchEnv(num_envs=2, screen_size=16, minimap_size=16, seed=4,
                             game_steps_per_episode=24, keep_final_observations=True)
    batch = env.reset()
    scores = np.zeros(2)
    for step in range(3):
        batch, reward, done = env.step(*toward_beacon(batch))
        scores += reward
        if step < 2:
            assert env.final_observation is None
    assert done.tolist() == [True, True] and batch["game_loop"][:, 0].tolist() == [0, 0]
    assert env.final_observation["game_loop"][:, 0].tolist() == [24, 24]
    assert env.final_observation["score_cumulative"][:, 0].tolist() == scores.tolist()
    batch, _, _ = env.step(*toward_beacon(batch))
    assert env.final_observation is None


def test_stopped_environments_write_no_replays(tmp_path):
    from minigames import replay

    env = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=7,
                             game_steps_per_episode=24, replay_dir=str(tmp_path),
                             save_replay_episodes=1)
    batch = env.reset()
    env.stop_recording([1])
    for step in range(6):  # two games in each environment
        if step == 3:
            env.stop_recording([2])  # from its second game on
        batch, _, _ = env.step(*toward_beacon(batch))
    records = [replay.load(p) for p in tmp_path.glob("*.minigames-replay.json")]
    assert sorted((r["random_seed"], r["game_index"]) for r in records) == [(7, 0), (7, 1),
                                                                            (9, 0)]
