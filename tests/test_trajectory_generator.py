"""Replays -> .hkl: the no-op rule, obs/action alignment, round trip, failures counted not leaked,
files of the replicated project, workers that end with their parent."""
import json
import os
import subprocess
import sys
import time

import hickle
import numpy as np
import psutil  # installed with pysc2 (through portpicker)
import pytest
from pysc2.agents import scripted_agent
from pysc2.env import mock_sc2_env, sc2_env
from pysc2.lib import actions

import minigames
import trajectory_generator as tg
from minigames import replay

FUNCTIONS = actions.FUNCTIONS


def record_games(folder, games=2, seed=3, game_steps=400, screen_size=32):
    env = minigames.SC2Env(
        map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=screen_size, minimap=screen_size)),
        random_seed=seed, save_replay_episodes=1, replay_dir=str(folder),
        game_steps_per_episode=game_steps)
    agent = scripted_agent.MoveToBeacon()
    agent.setup(env.observation_spec()[0], env.action_spec()[0])
    for _ in range(games):
        timestep = env.reset()[0]
        while not timestep.last():
            timestep = env.step([agent.step(timestep)])[0]
    return sorted(folder.glob("*" + tg.EMBEDDED_SUFFIX))


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    replays = tmp_path_factory.mktemp("replays")
    paths = record_games(replays)
    out = tmp_path_factory.mktemp("hkl")
    trajectories, failures = tg.convert_all(str(replays), str(out))
    return paths, trajectories, failures


def test_every_replay_becomes_one_readable_trajectory(converted):
    paths, trajectories, failures = converted
    assert failures == [] and len(trajectories) == len(paths) == 2
    for path, steps in trajectories:
        data = tg.read_trajectory(path)
        assert data["home_feature_screen"].shape == (steps, 27, 32, 32)
        assert data["home_feature_screen"].dtype == np.uint16
        assert data["home_available_actions"].shape == (steps, 573)
        assert len(tg.split_rows(data["home_feature_units"])) == steps
        assert data["home_action"]["count"].sum() == len(data["home_action"]["function"])


def test_no_op_rule(converted):
    _, trajectories, _ = converted
    data = tg.read_trajectory(trajectories[0][0])
    loops = data["home_game_loop"][:, 0]
    functions = np.split(data["home_action"]["function"], np.cumsum(data["home_action"]["count"]))
    assert loops[0] == 0 and loops[-1] == 400
    assert np.all(np.diff(loops) > 0)
    for loop, step_functions in zip(loops[1:-1], functions[1:-1]):
        only_no_op = step_functions.tolist() == [FUNCTIONS.no_op.id]
        assert (not only_no_op) or loop % 8 == 0
    # The scripted agent acts every 8 loops; each action is reported one loop later.
    acted = [loop for loop, f in zip(loops, functions) if f.tolist() != [0]]
    assert acted and all(loop % 8 == 1 for loop in acted)


def test_observations_and_actions_equal_the_replayed_game(converted):
    paths, trajectories, _ = converted
    record = replay.load(paths[0])
    data = tg.read_trajectory(trajectories[0][0])
    by_loop = {int(ts.observation.game_loop[0]): ts.observation for ts in replay.play_back(record)}
    for i, loop in enumerate(data["home_game_loop"][:, 0]):
        obs = by_loop[int(loop)]
        assert np.array_equal(data["home_feature_screen"][i], obs.feature_screen)
        assert np.array_equal(np.flatnonzero(data["home_available_actions"][i]),
                              np.sort(obs.available_actions))
    # Every recorded action is in the file, at the step after the loop it was issued.
    recorded = [(loop + 1, function) for loop, function, _ in record["actions"]]
    step_of_loop = {int(loop): i for i, loop in enumerate(data["home_game_loop"][:, 0])}
    starts = np.concatenate([[0], np.cumsum(data["home_action"]["count"])])
    for loop, function in recorded:
        i = step_of_loop[loop]
        assert function in data["home_action"]["function"][starts[i]:starts[i + 1]]


def test_action_follows_the_observation_it_was_chosen_on(converted):
    """The Move_screen target at step t is the beacon's centre in the observation at t - 1."""
    _, trajectories, _ = converted
    data = tg.read_trajectory(trajectories[0][0])
    starts = np.concatenate([[0], np.cumsum(data["home_action"]["count"])])
    checked = 0
    for t in range(1, len(starts) - 1):
        functions = data["home_action"]["function"][starts[t]:starts[t + 1]]
        if functions.tolist() != [FUNCTIONS.Move_screen.id]:
            continue
        target = data["home_action"]["arguments"][starts[t], actions.TYPES.screen.id]
        ys, xs = np.nonzero(data["home_feature_screen"][t - 1, 5] == 3)
        if len(xs):  # the beacon may have just respawned between the two observations
            assert np.allclose(target, (xs.mean(), ys.mean()), atol=0.51)
            checked += 1
    assert checked > 10


def test_a_bad_replay_is_counted_and_does_not_leak(tmp_path):
    replays = tmp_path / "replays"
    replays.mkdir()
    good = record_games(replays, games=1, game_steps=80)
    (replays / ("broken" + tg.EMBEDDED_SUFFIX)).write_text("{truncated")
    trajectories, failures = tg.convert_all(str(replays), str(tmp_path / "out"))
    assert len(failures) == 1 and "broken" in failures[0]
    assert len(trajectories) == len(good) == 1
    data = tg.read_trajectory(trajectories[0][0])
    assert data["home_game_loop"][0, 0] == 0 and data["home_game_loop"][-1, 0] == 80


def test_missing_or_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(tg.TrajectoryError, match="is not a folder"):
        tg.convert_all(str(tmp_path / "nowhere"), str(tmp_path / "out"))
    with pytest.raises(tg.TrajectoryError, match="no replays"):
        tg.convert_all(str(tmp_path), str(tmp_path / "out"))


def test_corrupt_or_truncated_hkl_is_a_trajectory_error(converted, tmp_path):
    _, trajectories, _ = converted
    content = open(trajectories[0][0], "rb").read()
    truncated = tmp_path / "truncated.hkl"
    truncated.write_bytes(content[:len(content) // 2])
    with pytest.raises(tg.TrajectoryError, match="not a readable .hkl file"):
        tg.read_trajectory(str(truncated))
    garbage = tmp_path / "garbage.hkl"
    garbage.write_bytes(b"not hdf5 at all")
    with pytest.raises(tg.TrajectoryError):
        tg.read_trajectory(str(garbage))


def test_real_game_observations_build_the_same_layout(tmp_path):
    """The .SC2Replay path feeds pysc2's transform_obs output; pysc2's mock env produces it."""
    env = mock_sc2_env.SC2TestEnv(
        map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=32, minimap=32), use_feature_units=True))
    builder = tg.TrajectoryBuilder()
    timestep = env.reset()[0]
    builder.add(timestep.observation, [], first=True, last=False)
    timestep = env.step([FUNCTIONS.no_op()])[0]
    builder.add(timestep.observation, [FUNCTIONS.select_point("select", [3, 4])], False, False)
    builder.add(timestep.observation, [], first=False, last=True)
    path = tmp_path / "mock.hkl"
    tg.write_trajectory(str(path), builder.arrays())
    data = tg.read_trajectory(str(path))
    assert data["home_action"]["function"].tolist() == [0, FUNCTIONS.select_point.id, 0]
    arguments = data["home_action"]["arguments"][1]
    assert arguments[actions.TYPES.screen.id].tolist() == [3, 4]
    assert arguments[actions.TYPES.select_point_act.id, 0] == 0
    assert arguments[actions.TYPES.queued.id].tolist() == [-1, -1]
    assert data["home_feature_units"]["count"].tolist() == [1, 1, 1]  # the mock's one unit


def test_original_pairing_is_observation_t_minus_1_with_action_t(converted):
    _, trajectories, _ = converted
    data = tg.read_trajectory(trajectories[0][0])
    observations, function_ids, arg_indices = tg.training_pairs(data, step_mul=None)
    steps = len(data["home_action"]["count"])
    assert observations["feature_screen"].shape == (steps - 1, 27, 32, 32)
    assert len(function_ids) == len(arg_indices) == steps - 1
    assert np.array_equal(observations["game_loop"][:, 0], data["home_game_loop"][:-1, 0])
    # The scripted agent's action steps are followed by kept no-op steps: labels alternate.
    assert 0.4 < np.mean(function_ids == FUNCTIONS.no_op.id) < 0.6


def test_step_mul_pairing_sees_what_an_agent_acting_every_8_loops_sees(converted):
    _, trajectories, _ = converted
    data = tg.read_trajectory(trajectories[0][0])
    observations, function_ids, arg_indices = tg.training_pairs(data, step_mul=8)
    loops = observations["game_loop"][:, 0]
    assert np.all(loops % 8 == 0) and loops[0] == 0 and len(loops) == 50  # 400 loops / 8
    assert np.all(function_ids != FUNCTIONS.no_op.id)  # the scripted agent acts every step
    assert function_ids[0] == FUNCTIONS.select_army.id
    assert observations["last_actions_count"][0] == 0
    assert observations["last_actions"][1, 0] == FUNCTIONS.select_army.id
    moves = np.flatnonzero(function_ids == FUNCTIONS.Move_screen.id)
    assert len(moves) > 40
    for t in moves:
        # The label's screen index points at the beacon in the paired (earlier) observation.
        index = arg_indices[t, actions.TYPES.screen.id]
        assert arg_indices[t, actions.TYPES.queued.id] == 0
        assert (arg_indices[t] >= 0).sum() == 2
        ys, xs = np.nonzero(observations["feature_screen"][t, 5] == 3)
        if len(xs):
            assert abs(index % 32 - xs.mean()) <= 0.51 and abs(index // 32 - ys.mean()) <= 0.51
        assert observations["available_actions"][t, FUNCTIONS.Move_screen.id]
        if t:
            assert observations["last_actions_count"][t] == 1


# ------------------------------------------------------------------------ bad replays, workers
def damaged_copy(good, folder, name, **changes):
    """A copy of replay `good` with some fields replaced."""
    record = json.loads(good.read_text())
    record.update(changes)
    path = folder / (name + tg.EMBEDDED_SUFFIX)
    path.write_text(json.dumps(record))
    return path


def test_every_bad_replay_is_reported_and_the_good_ones_convert(tmp_path):
    replays = tmp_path / "replays"
    replays.mkdir()
    good = record_games(replays, games=2, game_steps=80)
    damaged_copy(good[0], replays, "unknown_map", map_name="NoSuchMap")
    damaged_copy(good[0], replays, "many_loops", game_loops="many")
    damaged_copy(good[0], replays, "bad_action", actions=[[8, 331, [[1, 2]]]])
    damaged_copy(good[0], replays, "other_engine_map", map_name="AbyssalReef")
    trajectories, failures = tg.convert_all(str(replays), str(tmp_path / "out"))
    assert len(trajectories) == 2
    reasons = sorted(failures)
    assert len(reasons) == 4
    assert any("many_loops" in r and "game_loops is 'many', expected an integer" in r
               for r in reasons)
    assert any("unknown_map" in r and "map_name 'NoSuchMap' is not a pysc2 map" in r
               for r in reasons)
    assert any("bad_action" in r and "is not [game_loop, function id" in r for r in reasons)
    assert any("other_engine_map" in r and "has no map 'AbyssalReef'" in r for r in reasons)


def test_original_hkl_files_are_read_into_the_same_training_pairs(converted, tmp_path):
    """A file in the replicated project's layout (a list per key, one entry per kept step, no
    format_version) gives the pairs this project's file of the same game gives."""
    _, trajectories, _ = converted
    data = tg.read_trajectory(trajectories[0][0])
    steps = len(data["home_action"]["count"])
    rows = {name: tg.split_rows(data[name]) for name, _, _, _ in tg.RAGGED_FIELDS}
    starts = np.concatenate([[0], np.cumsum(data["home_action"]["count"])])
    original = {name: [data[name][t].astype(np.int32) for t in range(steps)]
                for name, _, _ in tg.FIXED_FIELDS}
    original.update({name: [r.astype(np.int32) for r in per_step]
                     for name, per_step in rows.items()})
    original["home_available_actions"] = [np.flatnonzero(mask).astype(np.int32)
                                          for mask in data["home_available_actions"]]
    actions_of_step = []
    for t in range(steps):
        step = []
        for a in range(starts[t], starts[t + 1]):
            function_id = int(data["home_action"]["function"][a])
            values = data["home_action"]["arguments"][a]
            function = FUNCTIONS[function_id]
            # Enums as plain ints, points as [x, y], other values as [k], no_op as [0, [0]].
            arguments = [values[t.id].tolist() if len(t.sizes) == 2 else
                         (int(values[t.id, 0]) if t.values else [int(values[t.id, 0])])
                         for t in function.args] or [0]
            step.append([function_id, arguments])
        actions_of_step.append(step)
    original["home_action"] = actions_of_step
    ours = tg.training_pairs(data, step_mul=8)

    def assert_same_pairs(read):
        theirs = tg.training_pairs(read, step_mul=8)
        for key in ours[0]:
            np.testing.assert_array_equal(ours[0][key], theirs[0][key], err_msg=key)
        np.testing.assert_array_equal(ours[1], theirs[1])
        np.testing.assert_array_equal(ours[2], theirs[2])

    assert_same_pairs(tg.from_original_layout(original, "in memory"))
    # Through a file: hickle 5 cannot write ragged nested lists under numpy 2 (numpy 1, which the
    # replicated project used, made them object arrays), so the actions go as object arrays.
    on_disk = {**original, "home_action": [[object_array([f, object_array(arguments)])
                                            for f, arguments in step] for step in actions_of_step]}
    path = tmp_path / "original.hkl"
    hickle.dump(on_disk, str(path), mode="w")
    assert_same_pairs(tg.read_trajectory(str(path)))

    del on_disk["home_player"]
    hickle.dump(on_disk, str(path), mode="w")
    with pytest.raises(tg.TrajectoryError, match="not a trajectory file"):
        tg.read_trajectory(str(path))


def object_array(items):
    array = np.empty(len(items), object)
    array[:] = items
    return array


CONVERTER = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "trajectory_generator.py")


def test_workers_end_when_the_converting_process_is_killed(tmp_path):
    """Killed while its workers are busy converting, the converter leaves no worker running and
    nothing is written after the kill (a worker would otherwise finish its replay, seconds of
    work, and write it)."""
    replays = tmp_path / "replays"
    replays.mkdir()
    good = record_games(replays, games=1, game_steps=1920, screen_size=64)
    for i in range(20):
        damaged_copy(good[0], replays, f"copy{i:02d}")
    out = tmp_path / "out"
    converter = subprocess.Popen(
        [sys.executable, CONVERTER, "--replay_path", str(replays), "--saving_path", str(out),
         "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list(out.glob("*.hkl")) and time.time() < deadline:  # the workers are at work
        time.sleep(0.05)
    workers = psutil.Process(converter.pid).children()
    assert len(workers) == 2
    converter.kill()
    killed_at = time.time()
    converter.wait()
    time.sleep(3)
    # An ended worker whose parent is gone may stay a zombie until someone reaps it.
    alive = [worker for worker in workers if worker.is_running()
             and worker.status() != psutil.STATUS_ZOMBIE]
    for worker in alive:
        worker.kill()
    assert not alive
    assert all(path.stat().st_mtime < killed_at + 0.1 for path in out.glob("*.hkl"))


def run_converter(*args):
    return subprocess.run([sys.executable, CONVERTER, *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("args,message", [
    ([], "--replay_path must have a value other than None. flag --saving_path=None"),
    (["--replay_path", "r", "--saving_path", "s", "--workers", "0"],
     "flag --workers=0: 0 is not a positive integer"),
    (["--replay_path", "/nonexistent", "--saving_path", "s"], "/nonexistent is not a folder"),
])
def test_converter_errors_are_one_line(args, message):
    result = run_converter(*args)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("trajectory_generator.py: error: ") and message in last


def flat_arrays(data, prefix=""):
    for key, value in data.items():
        if isinstance(value, dict):
            yield from flat_arrays(value, prefix + key + "/")
        else:
            yield prefix + key, np.asarray(value)


def test_replays_converted_together_equal_replays_converted_one_at_a_time(tmp_path):
    """Three replays of different lengths, two games at a time (the third waits for a free game
    and starts where the other stops), give the files of one game at a time, byte for byte."""
    replays = tmp_path / "replays"
    replays.mkdir()
    record_games(replays, games=2, seed=4, game_steps=400)
    record_games(replays, games=1, seed=9, game_steps=244)
    files = {}
    for games_at_once in (1, 2):
        out = tmp_path / f"out{games_at_once}"
        trajectories, failures = tg.convert_all(str(replays), str(out),
                                                games_at_once=games_at_once)
        assert failures == [] and len(trajectories) == 3
        files[games_at_once] = {os.path.basename(path): dict(flat_arrays(tg.read_trajectory(path)))
                                for path, _ in trajectories}
    assert files[1].keys() == files[2].keys()
    lengths = sorted(len(data["home_game_loop"]) for data in files[1].values())
    assert lengths[0] < lengths[-1]
    for name, data in files[1].items():
        assert data.keys() == files[2][name].keys()
        for key, array in data.items():
            assert np.array_equal(array, files[2][name][key]), (name, key)


def test_a_replay_the_game_refuses_fails_alone_when_converted_together(tmp_path):
    replays = tmp_path / "replays"
    replays.mkdir()
    good = record_games(replays, games=2, game_steps=80)
    record = json.loads(good[0].read_text())
    unavailable = [0, FUNCTIONS.Train_Marine_quick.id, record["actions"][0][2]]
    damaged_copy(good[0], replays, "refused", actions=[unavailable] + record["actions"])
    trajectories, failures = tg.convert_all(str(replays), str(tmp_path / "out"), games_at_once=3)
    assert len(trajectories) == 2
    assert len(failures) == 1
    assert "refused" in failures[0] and "Train_Marine_quick is not available" in failures[0]
