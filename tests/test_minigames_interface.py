"""minigames.SC2Env speaks pysc2's interface: specs, TimeSteps, observation containers, errors."""
import numpy as np
import pytest
from pysc2.env import environment, sc2_env
from pysc2.lib import actions, features, named_array, point
from s2clientprotocol import sc2api_pb2 as sc_pb

import minigames

FUNCTIONS = actions.FUNCTIONS


def make_env(screen=32, minimap=32, **kwargs):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=screen, minimap=minimap),
        use_feature_units=kwargs.pop("use_feature_units", False))
    return minigames.SC2Env(map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
                            agent_interface_format=aif, random_seed=kwargs.pop("random_seed", 7),
                            **kwargs)


@pytest.mark.parametrize("screen,minimap,use_feature_units",
                         [(16, 16, False), (32, 32, True), (64, 64, True), (84, 64, False)])
def test_specs_equal_pysc2_features(screen, minimap, use_feature_units):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=screen, minimap=minimap),
        use_feature_units=use_feature_units)
    reference = features.Features(aif, map_size=point.Point(64, 64))
    env = minigames.SC2Env(map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
                           agent_interface_format=aif)
    obs_spec, = env.observation_spec()
    assert dict(obs_spec) == dict(reference.observation_spec())
    act_spec, = env.action_spec()
    assert act_spec == reference.action_spec()
    assert act_spec.functions[FUNCTIONS.Move_screen.id].args[1].sizes == (screen, screen)


def test_observation_keys_match_spec_and_shapes():
    env = make_env(screen=64, minimap=32, use_feature_units=True)
    spec, = env.observation_spec()
    obs = env.reset()[0].observation
    assert isinstance(obs, named_array.NamedDict)
    assert set(obs.keys()) == set(spec.keys())
    for key, shape in spec.items():
        if key == "map_name":
            assert obs[key] == "MoveToBeacon"
            continue
        value = np.asarray(obs[key])
        assert value.ndim == len(shape), key
        assert all(s == 0 or s == v for s, v in zip(shape, value.shape)), key


def test_reset_timestep_and_containers():
    env = make_env(use_feature_units=True)
    timesteps = env.reset()
    assert isinstance(timesteps, tuple) and len(timesteps) == 1
    ts = timesteps[0]
    assert ts.step_type is environment.StepType.FIRST and ts.first()
    assert ts.reward == 0.0 and ts.discount == 0.0
    obs = ts.observation
    assert obs.feature_screen.shape == (27, 32, 32) and obs.feature_screen.dtype == np.int32
    assert obs.feature_minimap.shape == (11, 32, 32) and obs.feature_minimap.dtype == np.int32
    assert isinstance(obs.feature_screen, named_array.NamedNumpyArray)
    assert obs.feature_screen.player_relative.shape == (32, 32)
    assert obs.player.player_id == 1 and obs.player.army_count == 1
    assert obs.game_loop.tolist() == [0]
    assert sorted(obs.available_actions.tolist()) == [0, 1, 2, 3, 4, 7]
    assert type(obs.single_select) is np.ndarray and obs.single_select.shape == (0, 7)
    assert obs.feature_units.dtype == np.int64 and obs.feature_units.shape == (2, 46)
    assert sorted(obs.feature_units[:, features.FeatureUnit.unit_type].tolist()) == [48, 317]
    assert obs.feature_units[0].unit_type in (48, 317)  # rows are named


def test_select_army_then_marine_commands_available():
    env = make_env()
    env.reset()
    obs = env.step([FUNCTIONS.select_army("select")])[0].observation
    assert obs.last_actions.tolist() == [FUNCTIONS.select_army.id]
    assert set(obs.available_actions.tolist()) == {0, 1, 2, 3, 4, 7, 12, 13, 274, 331, 332, 333,
                                                   334, 451, 452, 453}
    assert obs.single_select.tolist() == [[48, 1, 45, 0, 0, 0, 0]]
    assert obs.single_select[0].unit_type == 48
    marine_pixels = obs.feature_screen.player_relative == features.PlayerRelative.SELF
    assert marine_pixels.any()
    assert np.array_equal(obs.feature_screen.selected == 1, marine_pixels)
    obs = env.step([FUNCTIONS.no_op()])[0].observation
    assert obs.last_actions.tolist() == []


def test_bad_actions_raise_pysc2_errors():
    env = make_env()
    env.reset()
    with pytest.raises(ValueError, match=r"Function 331/Move_screen is currently not available"):
        env.step([FUNCTIONS.Move_screen("now", [3, 3])])
    with pytest.raises(ValueError, match="Wrong number of arguments for function"):
        env.step([actions.FunctionCall(FUNCTIONS.select_army.id, [])])
    with pytest.raises(ValueError, match="Argument is out of range"):
        env.step([actions.FunctionCall(FUNCTIONS.select_point.id, [[0], [-1, 3]])])
    with pytest.raises(ValueError, match="Wrong number of values for argument"):
        env.step([actions.FunctionCall(FUNCTIONS.select_point.id, [[0], [1, 2, 3]])])
    with pytest.raises(ValueError, match="Invalid function id"):
        env.step([actions.FunctionCall("not_a_function", [])])
    # Like pysc2, values beyond the screen are not refused; the command goes to the map's edge.
    env.step([FUNCTIONS.select_army("select")])
    env.step([actions.FunctionCall(FUNCTIONS.Move_screen.id, [[0], [500, 500]])])


def test_unavailable_allowed_when_not_ensured():
    env = make_env(ensure_available_actions=False)
    env.reset()
    obs = env.step([FUNCTIONS.Move_screen("now", [3, 3])])[0].observation
    assert obs.last_actions.tolist() == []  # nothing was selected, so the game ignored it


def test_episode_lasts_1920_game_loops_then_resets():
    env = make_env()
    ts = env.reset()[0]
    steps = 0
    while not ts.last():
        ts = env.step([FUNCTIONS.no_op()])[0]
        steps += 1
        if not ts.last():
            assert ts.step_type is environment.StepType.MID and ts.discount == 1.0
    assert steps == 240
    assert ts.observation.game_loop.tolist() == [1920]
    assert ts.discount == 0.0
    ts = env.step([FUNCTIONS.no_op()])[0]
    assert ts.first() and ts.observation.game_loop.tolist() == [0]


def test_game_steps_per_episode_cuts_short_with_discount():
    env = make_env(game_steps_per_episode=80)
    env.reset()
    for _ in range(9):
        assert not env.step([FUNCTIONS.no_op()])[0].last()
    ts = env.step([FUNCTIONS.no_op()])[0]
    assert ts.last() and ts.discount == 1.0 and ts.observation.game_loop.tolist() == [80]
    env = make_env(game_steps_per_episode=80, discount_zero_after_timeout=True)
    env.reset()
    for _ in range(10):
        ts = env.step([FUNCTIONS.no_op()])[0]
    assert ts.last() and ts.discount == 0.0


def test_step_before_reset_resets_and_step_mul_override():
    env = make_env()
    ts = env.step([FUNCTIONS.no_op()])[0]
    assert ts.first()
    ts = env.step([FUNCTIONS.no_op()], step_mul=3)[0]
    assert ts.observation.game_loop.tolist() == [3]
    with pytest.raises(ValueError, match="step_mul should be positive"):
        env.step([FUNCTIONS.no_op()], step_mul=-1)


def test_empty_proto_action_is_a_no_op_and_context_manager_closes():
    with make_env() as env:
        env.reset()
        ts = env.step([sc_pb.Action()])[0]
        assert ts.observation.game_loop.tolist() == [8]
    env.close()
    env.close()


def test_constructor_errors():
    aif = sc2_env.AgentInterfaceFormat(feature_dimensions=sc2_env.Dimensions(32, 32))
    agent = [sc2_env.Agent(sc2_env.Race.terran)]
    with pytest.raises(ValueError, match="Missing a map name"):
        minigames.SC2Env(players=agent, agent_interface_format=aif)
    with pytest.raises(ValueError, match="no map 'Simple128'; it plays .*MoveToBeacon"):
        minigames.SC2Env(map_name="Simple128", players=agent, agent_interface_format=aif)
    with pytest.raises(ValueError, match="specify the list of players"):
        minigames.SC2Env(map_name="MoveToBeacon", agent_interface_format=aif)
    with pytest.raises(ValueError, match="Please specify agent_interface_format"):
        minigames.SC2Env(map_name="MoveToBeacon", players=agent)
    with pytest.raises(ValueError, match="Missing replay_dir"):
        minigames.SC2Env(map_name="MoveToBeacon", players=agent, agent_interface_format=aif,
                         save_replay_episodes=1)
    rgb = sc2_env.AgentInterfaceFormat(rgb_dimensions=sc2_env.Dimensions(64, 32))
    with pytest.raises(ValueError, match="feature layers"):
        minigames.SC2Env(map_name="MoveToBeacon", players=agent, agent_interface_format=rgb)


def test_visualize_records_frames_and_writes_gif(tmp_path):
    env = make_env(visualize=True)
    env.reset()
    env.step([FUNCTIONS.select_army("select")])
    assert len(env.frames) == 2
    frame = env.frames[-1]
    assert frame.dtype == np.uint8 and frame.shape == (240, 240, 3)
    assert not np.array_equal(env.frames[0], frame)  # the selection circle appeared
    path = tmp_path / "episode.gif"
    minigames.render.write_gif(env.frames, str(path))
    assert path.read_bytes()[:6] == b"GIF89a"


def test_save_replay_episodes_writes_one_file_per_episode(tmp_path):
    env = make_env(save_replay_episodes=1, replay_dir=str(tmp_path), game_steps_per_episode=16)
    for _ in range(2):
        env.reset()
        env.step([FUNCTIONS.select_army("select")])
        env.step([FUNCTIONS.no_op()])
    files = sorted(tmp_path.iterdir())
    assert len(files) == 2
    assert '"actions": [[0, 7,' in files[0].read_text()


def test_pysc2_wrappers_run_on_the_engine(capsys):
    from pysc2.env import available_actions_printer

    env = available_actions_printer.AvailableActionsPrinter(make_env())
    env.reset()
    env.step([FUNCTIONS.select_army("select")])
    printed = capsys.readouterr().out
    assert "331/Move_screen" in printed and "7/select_army" in printed
