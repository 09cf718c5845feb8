"""network: output contract of both models, the AlphaStar core over time and its conditioning."""
import keras
import numpy as np
import pytest
import tensorflow as tf

import hyperparameters
import network
import utils


def random_inputs(model, num_envs, time_steps, seed=0):
    """Example inputs with random observations (entities masked by a random count)."""
    rng = np.random.default_rng(seed)
    inputs = model.example_inputs(num_envs, time_steps)
    batch = num_envs * time_steps
    for name in ("screen", "minimap", "non_spatial", "available_actions", "entities"):
        inputs[name] = tf.constant(rng.random(inputs[name].shape), tf.float32)
    inputs["entity_count"] = tf.constant(rng.integers(0, 5, batch), tf.int32)
    inputs["function_id"] = tf.constant(rng.integers(0, utils.NUM_FUNCTIONS, batch), tf.int32)
    inputs["reset"] = tf.zeros(batch)
    return inputs


@pytest.fixture(scope="module")
def alphastar():
    """Seeded, and only called (never trained) by the tests that share it."""
    keras.utils.set_random_seed(0)
    return network.make_model("alphastar", utils.Spec(16, 16))


@pytest.mark.parametrize("name,screen_size,minimap_size", [
    ("fullyconv", 16, 16), ("fullyconv", 24, 16), ("alphastar", 32, 32), ("alphastar", 84, 64)])
def test_outputs_are_logits_of_every_pysc2_argument_at_its_true_size(name, screen_size,
                                                                      minimap_size):
    spec = utils.Spec(screen_size, minimap_size)
    keras.utils.set_random_seed(0)
    model = network.make_model(name, spec)
    outputs = model(random_inputs(model, num_envs=2, time_steps=3))
    assert outputs["function"].shape == (6, 573)
    assert outputs["value"].shape == (6,)
    sizes = {name: outputs["arguments"][name].shape[1] for name in outputs["arguments"]}
    assert sizes == {
        "screen": screen_size ** 2, "minimap": minimap_size ** 2, "screen2": screen_size ** 2,
        "queued": 2, "control_group_act": 5, "control_group_id": 10, "select_point_act": 4,
        "select_add": 2, "select_unit_act": 4, "select_unit_id": 500, "select_worker": 4,
        "build_queue_id": 10, "unload_id": 500}
    assert outputs["state_h"].shape == (2, model.state_size)
    for logits in [outputs["function"], outputs["value"], *outputs["arguments"].values()]:
        assert np.isfinite(logits.numpy()).all()


def test_alphastar_is_small_enough_for_a_cpu(alphastar):
    at_32 = network.make_model("alphastar", utils.Spec(32, 32))
    assert 300_000 < at_32.count_params() < 2_500_000


def test_unknown_model_and_bad_screen_size_are_refused():
    with pytest.raises(ValueError, match="Unknown model"):
        network.make_model("lstm", utils.Spec(16, 16))
    with pytest.raises(ValueError, match="multiple of 4"):
        network.make_model("alphastar", utils.Spec(30, 30))


def test_the_flags_network_names_are_the_networks():
    # run.py's --model_name choices come from hyperparameters, which imports no TensorFlow.
    assert hyperparameters.MODEL_NAMES == tuple(network.MODELS)


def test_alphastar_arguments_are_conditioned_on_the_given_function(alphastar):
    inputs = random_inputs(alphastar, num_envs=2, time_steps=1)
    move = dict(inputs, function_id=tf.fill([2], 331))
    attack = dict(inputs, function_id=tf.fill([2], 12))
    move_out, attack_out = alphastar(move), alphastar(attack)
    assert not np.allclose(move_out["arguments"]["screen"], attack_out["arguments"]["screen"])
    assert not np.allclose(move_out["arguments"]["queued"], attack_out["arguments"]["queued"])
    # The function logits and the value do not depend on the function they condition on.
    np.testing.assert_allclose(move_out["function"], attack_out["function"], rtol=1e-5)
    np.testing.assert_allclose(move_out["value"], attack_out["value"], rtol=1e-5)


def test_fullyconv_arguments_do_not_depend_on_the_function():
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", utils.Spec(16, 16))
    inputs = random_inputs(model, num_envs=2, time_steps=1)
    one = model(dict(inputs, function_id=tf.fill([2], 331)))
    other = model(dict(inputs, function_id=tf.fill([2], 12)))
    np.testing.assert_allclose(one["arguments"]["screen"], other["arguments"]["screen"])


def test_alphastar_unrolls_time_major_batches_like_step_by_step_calls(alphastar):
    num_envs, time_steps = 2, 3
    inputs = random_inputs(alphastar, num_envs, time_steps)
    state = {"state_h": tf.random.stateless_normal([num_envs, 256], seed=[1, 0]),
             "state_c": tf.random.stateless_normal([num_envs, 256], seed=[2, 0])}
    whole = alphastar({**inputs, **state})
    for t in range(time_steps):
        rows = slice(t * num_envs, (t + 1) * num_envs)
        step = alphastar({**{name: value[rows] for name, value in inputs.items()
                             if name not in state}, **state})
        np.testing.assert_allclose(step["function"], whole["function"][rows], atol=1e-4)
        np.testing.assert_allclose(step["value"], whole["value"][rows], atol=1e-4)
        state = {"state_h": step["state_h"], "state_c": step["state_c"]}
    np.testing.assert_allclose(state["state_h"], whole["state_h"], atol=1e-4)


def test_alphastar_reset_starts_from_a_zero_state(alphastar):
    inputs = random_inputs(alphastar, num_envs=2, time_steps=1)
    carried = {"state_h": tf.random.stateless_normal([2, 256], seed=[1, 0]),
               "state_c": tf.random.stateless_normal([2, 256], seed=[2, 0])}
    zero = alphastar.initial_state(2)
    reset_with_state = alphastar({**inputs, **carried, "reset": tf.ones(2)})
    fresh = alphastar({**inputs, **zero, "reset": tf.zeros(2)})
    carried_on = alphastar({**inputs, **carried, "reset": tf.zeros(2)})
    np.testing.assert_allclose(reset_with_state["value"], fresh["value"], atol=1e-5)
    assert not np.allclose(carried_on["value"], fresh["value"])


def test_alphastar_ignores_entity_rows_beyond_the_count(alphastar):
    inputs = dict(random_inputs(alphastar, num_envs=2, time_steps=1), entity_count=tf.fill([2], 3))
    entities = inputs["entities"].numpy()
    first = alphastar(inputs)
    padding_changed = entities.copy()
    padding_changed[:, 3:] = 7.0
    second = alphastar(dict(inputs, entities=tf.constant(padding_changed)))
    np.testing.assert_allclose(first["function"], second["function"], atol=1e-5)
    unit_changed = entities.copy()
    unit_changed[:, 0] += 1.0
    third = alphastar(dict(inputs, entities=tf.constant(unit_changed)))
    assert not np.allclose(first["function"], third["function"], atol=1e-5)


def test_architecture_figure_reads_its_sizes_from_the_model(alphastar, tmp_path):
    from matplotlib import image

    from tools import draw_network_architecture as figure

    texts = figure.describe(alphastar, alphastar.spec)
    assert f"{alphastar.count_params():,} parameters at 16x16" in texts["title"]
    assert "half 8x8" in texts["spatial"] and "quarter 4x4" in texts["spatial"]
    assert f"LSTM core, {alphastar.state_size} units" in texts["core"]
    assert "select_unit_id 500" in texts["arguments"]
    assert set(texts) - {"title"} == set(figure.LAYOUT)
    output = tmp_path / "architecture.png"
    figure.draw(texts, str(output))
    assert image.imread(output).shape[:2] == (1155, 1430)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_a_new_network_reads_the_player_thresholds_with_zero_weights(name):
    # So it computes what it computed before they were added; training moves the weights.
    keras.utils.set_random_seed(0)
    model = network.make_model(name, utils.Spec(16, 16))
    inputs = random_inputs(model, num_envs=2, time_steps=1)
    non_spatial = inputs["non_spatial"].numpy()
    non_spatial[:, -utils.PLAYER_THRESHOLDS:] = 0.0
    before = model(dict(inputs, non_spatial=tf.constant(non_spatial)))
    non_spatial[:, -utils.PLAYER_THRESHOLDS:] = 1.0
    after = model(dict(inputs, non_spatial=tf.constant(non_spatial)))
    np.testing.assert_array_equal(before["function"], after["function"])
    non_spatial[:, :-utils.PLAYER_THRESHOLDS] += 1.0
    moved = model(dict(inputs, non_spatial=tf.constant(non_spatial)))
    assert not np.allclose(before["function"], moved["function"], atol=1e-5)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_uses_feature_units_says_whether_the_entities_input_matters(name):
    # Environments report feature_units only for a network that says it reads them.
    keras.utils.set_random_seed(0)
    model = network.make_model(name, utils.Spec(16, 16))
    inputs = random_inputs(model, num_envs=2, time_steps=1)
    inputs["entity_count"] = tf.constant([3, 3], tf.int32)
    changed = dict(inputs, entities=inputs["entities"] + 1.0)
    differs = not np.allclose(model(inputs)["function"], model(changed)["function"], atol=1e-5)
    assert differs == model.uses_feature_units


@pytest.mark.parametrize("name,screen_size,minimap_size", [
    ("fullyconv", 16, 16), ("fullyconv", 24, 16), ("alphastar", 16, 16)])
def test_the_spatial_heads_computed_together_equal_each_head_on_its_own(name, screen_size,
                                                                        minimap_size):
    keras.utils.set_random_seed(0)
    model = network.make_model(name, utils.Spec(screen_size, minimap_size))
    for head in model.spatial_heads.values():  # non-zero biases, so that a mix-up shows
        head.bias.assign(np.random.default_rng(1).normal(size=1))
    channels = model.spatial_heads["screen"].kernel.shape[2]
    feature_map = tf.constant(np.random.default_rng(0).normal(
        size=(3, screen_size, screen_size, channels)), tf.float32)
    together = model.spatial_logits(feature_map, model.spatial_heads)
    for argument, head in model.spatial_heads.items():
        alone = head(feature_map)
        if argument == "minimap" and minimap_size != screen_size:
            alone = tf.image.resize(alone, (minimap_size, minimap_size), method="bilinear")
        np.testing.assert_allclose(together[argument], tf.reshape(alone, (3, -1)), rtol=1e-5,
                                   atol=1e-5)
