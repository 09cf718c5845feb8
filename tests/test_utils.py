"""utils: observation preprocessing and the index <-> FunctionCall conversions."""
import numpy as np
import pytest
from pysc2.env import mock_sc2_env, sc2_env
from pysc2.lib import actions, features

import minigames
import utils
from minigames import batch_format

FUNCTIONS = actions.FUNCTIONS
SIZES = (16, 32, 64, 84)


def engine_batch(screen_size=32, minimap_size=32, num_envs=3, seed=0):
    env = minigames.BatchEnv(num_envs=num_envs, screen_size=screen_size,
                             minimap_size=minimap_size, seed=seed, use_feature_units=True)
    return env, env.reset()


@pytest.mark.parametrize("screen_size,minimap_size", [(16, 16), (32, 32), (84, 64)])
def test_preprocess_shapes_follow_the_spec(screen_size, minimap_size):
    spec = utils.Spec(screen_size, minimap_size)
    _, batch = engine_batch(screen_size, minimap_size)
    inputs = utils.preprocess(batch, spec)
    assert inputs.keys() == spec.input_shapes().keys()
    for name, shape in spec.input_shapes().items():
        assert inputs[name].shape == (3,) + shape, name
        expected = np.int32 if name == "entity_count" else np.float32
        assert inputs[name].dtype == expected, name


def test_preprocess_refuses_a_batch_of_another_resolution():
    _, batch = engine_batch(32, 32)
    with pytest.raises(ValueError, match="expects 16"):
        utils.preprocess(batch, utils.Spec(16, 16))


def test_screen_planes_show_the_marine_and_the_beacon():
    spec = utils.Spec(32, 32)
    _, batch = engine_batch()
    screen = utils.preprocess(batch, spec)["screen"]
    raw = batch["feature_screen"]
    marine = raw[:, features.SCREEN_FEATURES.unit_type.index] == 48
    beacon = raw[:, features.SCREEN_FEATURES.unit_type.index] == utils.BEACON
    # Channels: player_relative (5), selected (1), visibility (4), unit type buckets, scalars.
    unit_type_channel = 5 + 1 + 4
    marine_bucket = utils.UNIT_TYPES.index(48)
    beacon_bucket = utils.UNIT_TYPES.index(utils.BEACON)
    assert np.array_equal(screen[..., unit_type_channel + marine_bucket] == 1, marine)
    assert np.array_equal(screen[..., unit_type_channel + beacon_bucket] == 1, beacon)
    self_plane = screen[..., features.PlayerRelative.SELF]
    assert np.array_equal(self_plane == 1, marine)
    # Every pixel has exactly one player_relative value and one unit-type bucket.
    assert np.all(screen[..., :5].sum(-1) == 1)
    assert np.all(screen[..., unit_type_channel:unit_type_channel + utils.NUM_UNIT_BUCKETS]
                  .sum(-1) == 1)
    assert screen.min() >= 0.0 and screen.max() <= 1.0


def test_unknown_unit_types_fall_into_the_other_bucket():
    buckets = utils.unit_bucket([0, 48, utils.BEACON, 9999, -3, 1961])
    assert buckets.tolist() == [0, utils.UNIT_TYPES.index(48), utils.UNIT_TYPES.index(
        utils.BEACON), utils.OTHER_UNIT, utils.OTHER_UNIT, utils.OTHER_UNIT]


def test_log_scale_maps_zero_to_zero_and_the_maximum_to_one():
    scaled = utils.log_scale(np.array([0, 1599, -5]), 1599)
    assert scaled.dtype == np.float32
    assert scaled.tolist() == pytest.approx([0.0, 1.0, 0.0])


def test_non_spatial_vector_carries_available_and_last_actions():
    env, batch = engine_batch(num_envs=2)
    select_army = FUNCTIONS.select_army.id
    arg_indices = np.full((2, 13), -1)
    arg_indices[0, actions.TYPES.select_add.id] = 0
    batch, _, _ = env.step(np.array([select_army, 0]), arg_indices)
    inputs = utils.preprocess(batch, utils.Spec(32, 32))
    player = len(features.Player)
    available = inputs["non_spatial"][:, player + 1:player + 1 + utils.NUM_FUNCTIONS]
    last = inputs["non_spatial"][:, player + 1 + utils.NUM_FUNCTIONS:
                                 player + 1 + 2 * utils.NUM_FUNCTIONS]
    assert np.array_equal(available, batch["available_actions"].astype(np.float32))
    assert np.array_equal(inputs["available_actions"], available)
    assert np.flatnonzero(last[0]).tolist() == [select_army]
    assert not last[1].any()  # no_op is not reported as an action


def test_player_thresholds_mark_each_step_reached():
    player = np.zeros((3, len(features.Player)), np.int64)
    player[:, features.Player.minerals] = [99, 100, 1000]
    player[:, features.Player.vespene] = [0, 24, 25]
    player[:, features.Player.food_cap] = [15, 23, 0]
    player[:, features.Player.food_used] = [15, 20, 4]
    thresholds = utils.player_thresholds(player)
    assert thresholds.shape == (3, utils.PLAYER_THRESHOLDS) and thresholds.dtype == np.float32
    minerals, vespene, supply = np.split(thresholds, [16, 32], axis=1)
    # Steps of 25 up to 400: 99 reaches 25, 50 and 75; 100 also 100; 1000 all sixteen.
    assert minerals.sum(axis=1).tolist() == [3, 4, 16]
    assert minerals[1, 3] == 1 and minerals[0, 3] == 0  # the Supply Depot's 100
    assert vespene.sum(axis=1).tolist() == [0, 0, 1]
    # Free supply 0, 3 and -4 against steps 1 to 8.
    assert supply.sum(axis=1).tolist() == [0, 3, 0]
    non_spatial = utils._non_spatial(engine_batch(num_envs=3)[1] | {"player": player})
    assert np.array_equal(non_spatial[:, -utils.PLAYER_THRESHOLDS:], thresholds)


def test_entities_are_feature_units_masked_by_count():
    _, batch = engine_batch()
    inputs = utils.preprocess(batch, utils.Spec(32, 32))
    assert inputs["entity_count"].tolist() == [2, 2, 2]  # the marine and the beacon
    assert inputs["entities"][:, :2].any(axis=-1).all()
    assert not inputs["entities"][:, 2:].any()
    # A marine row: its bucket is set and its x is its screen column divided by the width.
    rows = batch["feature_units"][0, :2]
    marine_row = int(np.flatnonzero(rows[:, features.FeatureUnit.unit_type] == 48)[0])
    entity = inputs["entities"][0, marine_row]
    assert entity[utils.UNIT_TYPES.index(48)] == 1
    x_column = utils.NUM_UNIT_BUCKETS + 5 + 3
    assert entity[x_column] == pytest.approx(rows[marine_row, features.FeatureUnit.x] / 32)


def test_entities_are_empty_without_feature_units():
    env = minigames.BatchEnv(num_envs=2, screen_size=16, minimap_size=16, seed=0)
    inputs = utils.preprocess(env.reset(), utils.Spec(16, 16))
    assert inputs["entity_count"].tolist() == [0, 0]
    assert not inputs["entities"].any()


def test_preprocess_reads_pysc2_observations_of_the_mock_environment():
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=24, minimap=16), use_feature_units=True)
    env = mock_sc2_env.SC2TestEnv(map_name="MoveToBeacon", agent_interface_format=aif)
    batch = batch_format.stack_observations([env.reset()[0].observation])
    inputs = utils.preprocess(batch, utils.Spec(24, 16))
    assert inputs["screen"].shape[1:3] == (24, 24) and inputs["minimap"].shape[1:3] == (16, 16)
    assert inputs["entity_count"].tolist() == [1]
    assert inputs["entities"][0, 0, utils.OTHER_UNIT] == 1  # the mock's LabBot is not in the table


@pytest.mark.parametrize("size", SIZES)
def test_points_are_x_y_of_index_y_times_width_plus_x(size):
    indices = np.full(13, -1)
    indices[actions.TYPES.queued.id] = 1
    indices[actions.TYPES.screen.id] = 5 * size + 3
    call = utils.to_function_call(FUNCTIONS.Move_screen.id, indices, size, size)
    assert call.function == FUNCTIONS.Move_screen.id
    assert [list(a) for a in call.arguments] == [[1], [3, 5]]


@pytest.mark.parametrize("size", SIZES)
def test_function_call_round_trip(size):
    rng = np.random.default_rng(size)
    minimap = size // 2
    spec = utils.Spec(size, minimap)
    sizes = spec.argument_sizes()
    for function in FUNCTIONS:
        indices = np.full(13, -1, np.int64)
        for arg_type in function.args:
            indices[arg_type.id] = rng.integers(sizes[arg_type.name])
        call = utils.to_function_call(function.id, indices, size, minimap)
        actions.FunctionCall.init_with_validation(call.function, call.arguments)  # pysc2 accepts it
        function_id, round_trip = utils.function_call_to_indices(call, size, minimap)
        assert function_id == function.id
        assert np.array_equal(round_trip, indices), function.name


def test_function_call_to_indices_reads_enum_arguments():
    call = actions.FUNCTIONS.select_point("toggle", (7, 2))
    function_id, indices = utils.function_call_to_indices(call, 32, 32)
    assert function_id == FUNCTIONS.select_point.id
    assert indices[actions.TYPES.select_point_act.id] == actions.SelectPointAct.toggle
    assert indices[actions.TYPES.screen.id] == 2 * 32 + 7
    assert (np.delete(indices, [actions.TYPES.select_point_act.id,
                                actions.TYPES.screen.id]) == -1).all()


@pytest.mark.parametrize("screen_size,minimap_size", [(16, 16), (32, 24)])
def test_function_calls_mean_what_the_engine_batch_api_means(screen_size, minimap_size):
    """The same index action, sent through SC2Env as a FunctionCall and through BatchEnv, plays
    the same game."""
    seed, rng = 5, np.random.default_rng(1)
    batch_env = minigames.BatchEnv(num_envs=1, screen_size=screen_size,
                                   minimap_size=minimap_size, seed=seed)
    env = minigames.SC2Env(map_name="MoveToBeacon", players=[sc2_env.Agent(sc2_env.Race.terran)],
                           agent_interface_format=sc2_env.AgentInterfaceFormat(
                               feature_dimensions=sc2_env.Dimensions(screen=screen_size,
                                                                     minimap=minimap_size)),
                           random_seed=seed)
    batch = batch_env.reset()
    observation = env.reset()[0].observation
    sizes = np.array(list(utils.Spec(screen_size, minimap_size).argument_sizes().values()))
    for _ in range(40):
        available = np.flatnonzero(batch["available_actions"][0])
        function_id = int(rng.choice(available))
        indices = np.where(utils.USES_ARGUMENT[function_id], rng.integers(0, sizes), -1)
        batch, _, _ = batch_env.step(np.array([function_id]), indices[None])
        call = utils.to_function_call(function_id, indices, screen_size, minimap_size)
        observation = env.step([call])[0].observation
        assert np.array_equal(observation["feature_screen"], batch["feature_screen"][0])
        assert np.array_equal(observation["feature_minimap"], batch["feature_minimap"][0])
