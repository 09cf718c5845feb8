"""run.py: flags and their errors, training/evaluation end to end, replays, divergence."""
import glob
import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from pysc2.env import mock_sc2_env

import agent as agent_lib
import checkpoints
import minigames
import network
import run
import utils
from minigames import pysc2_batch_env

run.define_flags()
FLAGS = run.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = utils.Spec(16, 16)


@pytest.fixture
def parse():
    """Parse a command line with run.py's parser; restores the flags afterwards."""
    def parse_argv(*args):
        run.parse_flags(["run.py", *args])
        return FLAGS
    yield parse_argv
    FLAGS.unparse_flags()
    FLAGS.mark_as_parsed()


@pytest.mark.parametrize("args,expected", [
    (["--training", "True"], True), (["--training", "False"], False), (["--training"], True),
    (["--notraining"], False), (["--training=false"], False), (["--training", "false"], False),
    ([], False)])
def test_boolean_flags_accept_the_original_true_false_spelling(parse, args, expected):
    flags = parse(*args, "--model_name", "alphastar")
    assert flags.training is expected
    assert flags.model_name == "alphastar"  # the value after a boolean is not swallowed


def test_original_readme_command_parses(parse):
    flags = parse("--workspace_path", "/tmp/ws/", "--training", "True", "--gpu_use", "True",
                  "--save_model", "True", "--model_name", "alphastar", "--learning_rate",
                  "0.0001", "--gradient_clipping", "25.0", "--visualize", "False")
    assert (flags.training, flags.gpu_use, flags.save_model, flags.visualize) == (
        True, True, True, False)
    assert flags.learning_rate == 0.0001 and flags.gradient_clipping == 25.0


@pytest.mark.parametrize("args,expected", [
    (["--load_model", "True"], "True"), (["--load_model"], "True"),
    (["--load_model", "--visualize"], "True"), (["--load_model", "m.weights.h5"], "m.weights.h5"),
    ([], None)])
def test_load_model_takes_true_or_a_path(parse, args, expected):
    assert parse(*args).load_model == expected


def test_the_original_load_flag_is_an_alias_of_load_model(parse):
    assert parse("--visualize", "True", "--load", "True").load_model == "True"
    FLAGS.unparse_flags()
    assert parse("--load").load_model == "True"


def test_join_boolean_values_leaves_other_flags_alone():
    argv = ["run.py", "--training", "True", "--seed", "1", "--visualize", "--screen_size", "16"]
    assert run.join_boolean_values(argv, {"training", "visualize"}) == [
        "run.py", "--training=True", "--seed", "1", "--visualize", "--screen_size", "16"]


def test_a2c_config_comes_from_the_flags(parse):
    parse("--learning_rate", "0.002", "--n_steps", "8", "--optimizer", "adam")
    config = run.a2c_config_from_flags()
    assert (config.learning_rate, config.n_steps, config.optimizer) == (0.002, 8, "adam")
    assert config.value_loss_weight == agent_lib.A2CConfig().value_loss_weight


def test_each_network_gets_its_default_optimizer_epsilon_unless_the_flag_is_given(parse):
    parse("--model_name", "alphastar")
    assert run.a2c_config_from_flags().optimizer_epsilon == 1e-3
    FLAGS.unparse_flags()
    parse("--model_name", "alphastar", "--optimizer_epsilon", "1e-7")
    assert run.a2c_config_from_flags().optimizer_epsilon == 1e-7
    FLAGS.unparse_flags()
    parse("--model_name", "fullyconv")
    assert run.a2c_config_from_flags().optimizer_epsilon == agent_lib.A2CConfig().optimizer_epsilon


@pytest.fixture
def small_model():
    """A FullyConv network of this test's own, with seeded initial weights."""
    keras.utils.set_random_seed(0)
    return network.make_model("fullyconv", SPEC)


def rollout_budget(num_envs, n_steps, updates):
    return num_envs * n_steps * updates


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_training_updates_run_on_the_embedded_batch_env(tmp_path, name):
    keras.utils.set_random_seed(0)
    model = network.make_model(name, SPEC)
    config = agent_lib.A2CConfig(n_steps=4)
    agent = agent_lib.A2CAgent(model, config)
    env = run.make_batch_env("embedded", "MoveToBeacon", 4, SPEC, 8, 0,
                             use_feature_units=model.uses_feature_units)
    before = [w.numpy().copy() for w in model.trainable_weights]
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = run.train(agent, env, SPEC, config, rollout_budget(4, 4, 3), writer, log_interval=16)
    writer.close()
    assert runner.agent_steps == 48
    assert agent.trace_counts["train_step"] == 1
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))


def test_training_stops_when_the_100_episode_mean_reaches_the_target(tmp_path, small_model):
    config = agent_lib.A2CConfig(n_steps=2)
    agent = agent_lib.A2CAgent(small_model, config)
    env = minigames.BatchEnv(num_envs=50, screen_size=16, minimap_size=16, seed=0,
                             game_steps_per_episode=16)  # 2 agent steps per game
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = run.train(agent, env, SPEC, config, 10_000, writer, log_interval=10_000,
                       target_mean=0.0)
    writer.close()
    # Each update ends 50 games; the mean counts from the 100th game, after the second update.
    assert runner.agent_steps == 200
    assert len(runner.finished_episodes) == 100


def mock_batch_env(num_envs, use_feature_units=False):
    envs = [mock_sc2_env.SC2TestEnv(**pysc2_batch_env.env_kwargs(
                "MoveToBeacon", 16, 16, 8, use_feature_units, seed=i))
            for i in range(num_envs)]
    return pysc2_batch_env.PySC2BatchEnv(envs, SPEC.screen_size, SPEC.minimap_size)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_training_updates_run_on_pysc2s_mock_environment(tmp_path, name):
    keras.utils.set_random_seed(0)
    model = network.make_model(name, SPEC)
    config = agent_lib.A2CConfig(n_steps=4)
    agent = agent_lib.A2CAgent(model, config)
    env = mock_batch_env(2, use_feature_units=model.uses_feature_units)
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = run.train(agent, env, SPEC, config, rollout_budget(2, 4, 4), writer, log_interval=8)
    writer.close()
    env.close()
    assert runner.agent_steps == 32
    # The mock ends each game on its 10th step: one game per environment in 16 steps.
    assert len(runner.finished_episodes) == 2
    assert agent.trace_counts["train_step"] == 1


def test_mock_batch_env_restarts_finished_games_and_stacks_observations():
    env = mock_batch_env(3)
    batch = env.reset()
    assert batch["feature_screen"].shape == (3, 27, 16, 16)
    dones = []
    for _ in range(11):
        batch, reward, done = env.step(np.zeros(3, np.int64), np.full((3, 13), -1))
        dones.append(done)
    env.close()
    assert np.array(dones)[:, 0].tolist() == [False] * 9 + [True, False]
    assert batch["available_actions"].shape == (3, 573)


def test_evaluation_plays_the_requested_number_of_episodes(small_model):
    agent = agent_lib.A2CAgent(small_model)
    env = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=0,
                             game_steps_per_episode=80)  # 10 agent steps per game
    scores = run.evaluate(agent, env, SPEC, episodes=4, greedy=True)
    assert len(scores) == 4 and all(s >= 0 for s in scores)


def test_visualize_writes_a_gif_of_one_episode(tmp_path, small_model):
    from PIL import Image

    agent = agent_lib.A2CAgent(small_model)
    path = str(tmp_path / "episode.gif")
    run.play_gif(agent, SPEC, "MoveToBeacon", 64, 0, True, path)  # step_mul 64: 30 steps
    # One frame per observation, 1/8 s each. Pillow merges identical frames, adding their
    # durations, and GIFs store centiseconds: a frame of 125 ms is kept as 120 or 130 ms, so
    # count the observations frame by frame.
    with Image.open(path) as gif:
        observations = 0
        for index in range(gif.n_frames):
            gif.seek(index)
            observations += round(gif.info["duration"] / 125)
    assert observations == 1920 // 64 + 1


def test_learning_curve_png(tmp_path):
    path = str(tmp_path / "image" / "curve.png")
    run.write_learning_curve([1, 2, 3, 20], [240, 480, 720, 960], path, "test")
    assert os.path.getsize(path) > 1000
    assert os.listdir(tmp_path / "image") == ["curve.png"]


def run_cli(*args):
    return subprocess.run([sys.executable, "run.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})


def test_cli_errors_are_one_clear_line_and_a_nonzero_exit():
    result = run_cli("--sl_training", "True", "--replay_hkl_file_path", "/nonexistent/hkl")
    assert result.returncode != 0
    assert "--replay_hkl_file_path /nonexistent/hkl: no such folder" in result.stderr
    result = run_cli("--training", "False")
    assert result.returncode != 0
    assert "Nothing to do" in result.stderr


def test_cli_trains_saves_and_evaluates(tmp_path):
    common = ["--workspace_path", str(tmp_path), "--screen_size", "16", "--minimap_size", "16",
              "--backend", "embedded", "--num_envs", "2"]
    result = run_cli(*common, "--training", "True", "--n_steps", "4", "--max_agent_steps", "16",
                     "--log_interval", "8")
    assert result.returncode == 0, result.stderr
    assert "steps        16" in result.stderr
    assert glob.glob(str(tmp_path / "tensorboard" / "MoveToBeacon_fullyconv_seed42_*"))
    # A model file to load, written the way training writes it.
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", SPEC)
    checkpoints.save_model(model, str(tmp_path / "Models" / "MoveToBeacon_fullyconv_x.weights.h5"),
                           checkpoints.model_description("fullyconv", "MoveToBeacon", SPEC, seed=42))
    result = run_cli(*common, "--load_model", "True", "--eval_episodes", "2", "--step_mul", "64")
    assert result.returncode == 0, result.stderr
    assert "over 2 episodes" in result.stderr


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_the_shipped_weights_play_move_to_beacon(tmp_path, name):
    path = checkpoints.resolve_load_path("True", str(tmp_path), "MoveToBeacon", name, SPEC)
    assert path == os.path.join(checkpoints.SHIPPED_WEIGHTS_DIR, f"MoveToBeacon_{name}.weights.h5")
    model = network.make_model(name, SPEC)
    checkpoints.load_model(model, path, SPEC)
    env = minigames.BatchEnv(num_envs=16, screen_size=16, minimap_size=16, seed=1234,
                             use_feature_units=model.uses_feature_units)
    scores = run.evaluate(agent_lib.A2CAgent(model), env, SPEC, episodes=16, greedy=False)
    assert np.mean(scores) >= 20  # a random policy scores about 1


def test_ship_weights_stores_float16_that_load_back(tmp_path, small_model):
    import h5py

    from tools import ship_weights

    trained = str(tmp_path / "trained.weights.h5")
    small_model.save_weights(trained)
    shipped = str(tmp_path / "shipped.weights.h5")
    ship_weights.copy_as_float16(trained, shipped)
    with h5py.File(shipped) as f:
        dtypes = set()
        f.visititems(lambda name, item: dtypes.add(item.dtype)
                     if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype(np.float16)}
    copy = network.make_model("fullyconv", SPEC)
    copy.load_weights(shipped)
    for original, loaded in zip(small_model.weights, copy.weights):
        np.testing.assert_allclose(loaded.numpy(), original.numpy(), rtol=1e-3, atol=1e-4)
