"""run.py: flags and their errors, training/evaluation end to end, replays, divergence."""
import glob
import logging
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
import cli_flags
import hyperparameters
import loops
import minigames
import network
import run
import utils
from minigames import pysc2_batch_env, replay

cli_flags.define_flags()
FLAGS = run.FLAGS
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = utils.Spec(16, 16)


@pytest.fixture
def parse():
    """Parse a command line with run.py's parser; restores the flags afterwards."""
    def parse_argv(*args):
        cli_flags.parse_flags(["run.py", *args])
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


def test_simple64_runs_default_to_its_shipped_networks_settings_unless_flags_are_given(parse):
    flags = parse("--environment", "Simple64")
    assert (flags.model_name, flags.screen_size, flags.minimap_size,
            flags.argument_temperature) == ("alphastar", 32, 32, 0.4)
    FLAGS.unparse_flags()
    flags = parse("--environment", "Simple64", "--model_name", "fullyconv", "--screen_size", "64",
                  "--argument_temperature", "1")
    assert (flags.model_name, flags.screen_size, flags.minimap_size,
            flags.argument_temperature) == ("fullyconv", 64, 32, 1.0)
    FLAGS.unparse_flags()
    flags = parse("--environment", "DefeatRoaches")
    assert (flags.model_name, flags.screen_size, flags.minimap_size,
            flags.argument_temperature) == ("fullyconv", 16, 16, 1.0)


def test_join_boolean_values_leaves_other_flags_alone():
    argv = ["run.py", "--training", "True", "--seed", "1", "--visualize", "--screen_size", "16"]
    assert cli_flags.join_boolean_values(argv, {"training", "visualize"}) == [
        "run.py", "--training=True", "--seed", "1", "--visualize", "--screen_size", "16"]


def test_a2c_config_comes_from_the_flags(parse):
    parse("--learning_rate", "0.002", "--n_steps", "8", "--optimizer", "adam")
    config = cli_flags.a2c_config_from_flags()
    assert (config.learning_rate, config.n_steps, config.optimizer) == (0.002, 8, "adam")
    assert config.value_loss_weight == hyperparameters.A2CConfig().value_loss_weight


def test_a2c_from_a_loaded_model_gets_the_fine_tuning_defaults_unless_flags_are_given(parse):
    parse("--training", "True")
    assert run.a2c_training_config(None, None) == hyperparameters.A2CConfig()
    loaded = run.a2c_training_config(None, "model.weights.h5")
    assert (loaded.kl_weight, loaded.critic_warmup_steps, loaded.learning_rate) == (
        0.5, 20_000, 5e-4)
    FLAGS.unparse_flags()
    parse("--training", "True", "--kl_weight", "0", "--learning_rate", "0.001")
    loaded = run.a2c_training_config(None, "model.weights.h5")
    assert (loaded.kl_weight, loaded.critic_warmup_steps, loaded.learning_rate) == (
        0.0, 20_000, 0.001)


def test_each_network_gets_its_default_optimizer_epsilon_unless_the_flag_is_given(parse):
    parse("--model_name", "alphastar")
    assert cli_flags.a2c_config_from_flags().optimizer_epsilon == 1e-3
    FLAGS.unparse_flags()
    parse("--model_name", "alphastar", "--optimizer_epsilon", "1e-7")
    assert cli_flags.a2c_config_from_flags().optimizer_epsilon == 1e-7
    FLAGS.unparse_flags()
    parse("--model_name", "fullyconv")
    assert (cli_flags.a2c_config_from_flags().optimizer_epsilon
            == hyperparameters.A2CConfig().optimizer_epsilon)


def rollout_budget(num_envs, n_steps, updates):
    return num_envs * n_steps * updates


SC2LE_MINIGAMES = ("MoveToBeacon", "CollectMineralShards", "FindAndDefeatZerglings",
                   "DefeatRoaches", "DefeatZerglingsAndBanelings", "CollectMineralsAndGas",
                   "BuildMarines")


def test_a2c_trains_on_every_minigame(tmp_path):
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", SPEC)
    config = hyperparameters.A2CConfig(n_steps=2)
    agent = agent_lib.A2CAgent(model, config)  # one agent for every map: traced once
    for map_name in SC2LE_MINIGAMES:
        env = loops.make_batch_env("embedded", map_name, 2, SPEC, 8, 0,
                                   use_feature_units=model.uses_feature_units)
        before = [w.numpy().copy() for w in model.trainable_weights]
        writer = tf.summary.create_file_writer(str(tmp_path / map_name))
        runner = loops.train(agent, env, SPEC, config, rollout_budget(2, 2, 2), writer,
                             log_interval=8)
        writer.close()
        assert runner.agent_steps == 8, map_name
        changed = [not np.array_equal(b, w.numpy())
                   for b, w in zip(before, model.trainable_weights)]
        assert any(changed), map_name
    assert agent.trace_counts["train_step"] == 1


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_training_updates_run_on_the_embedded_batch_env(tmp_path, name):
    keras.utils.set_random_seed(0)
    model = network.make_model(name, SPEC)
    config = hyperparameters.A2CConfig(n_steps=4)
    agent = agent_lib.A2CAgent(model, config)
    env = loops.make_batch_env("embedded", "MoveToBeacon", 4, SPEC, 8, 0,
                               use_feature_units=model.uses_feature_units)
    before = [w.numpy().copy() for w in model.trainable_weights]
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = loops.train(agent, env, SPEC, config, rollout_budget(4, 4, 3), writer, log_interval=16)
    writer.close()
    assert runner.agent_steps == 48
    assert agent.trace_counts["train_step"] == 1
    assert any(not np.array_equal(b, w.numpy()) for b, w in zip(before, model.trainable_weights))
    assert glob.glob(str(tmp_path / "events.out.tfevents.*"))


def test_training_stops_when_the_100_episode_mean_reaches_the_target(tmp_path, fullyconv):
    config = hyperparameters.A2CConfig(n_steps=2)
    agent = agent_lib.A2CAgent(fullyconv, config)
    env = minigames.BatchEnv(num_envs=50, screen_size=16, minimap_size=16, seed=0,
                             game_steps_per_episode=16)  # 2 agent steps per game
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = loops.train(agent, env, SPEC, config, 10_000, writer, log_interval=10_000,
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
    config = hyperparameters.A2CConfig(n_steps=4)
    agent = agent_lib.A2CAgent(model, config)
    env = mock_batch_env(2, use_feature_units=model.uses_feature_units)
    writer = tf.summary.create_file_writer(str(tmp_path))
    runner = loops.train(agent, env, SPEC, config, rollout_budget(2, 4, 4), writer, log_interval=8)
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


def test_the_gif_game_does_not_depend_on_what_the_agent_played_before(tmp_path, fullyconv):
    paths = [str(tmp_path / f"{name}.gif") for name in ("fresh", "after_evaluation")]
    fresh, evaluated = agent_lib.A2CAgent(fullyconv, seed=3), agent_lib.A2CAgent(fullyconv, seed=3)
    env = minigames.BatchEnv(num_envs=2, screen_size=16, minimap_size=16, seed=0,
                             game_steps_per_episode=80)
    loops.evaluate(evaluated, env, SPEC, episodes=2, greedy=False)  # sampled: draws advance
    for agent, path in zip((fresh, evaluated), paths):
        loops.play_gif(agent, SPEC, "MoveToBeacon", 64, 5, False, path)
    with open(paths[0], "rb") as first, open(paths[1], "rb") as second:
        assert first.read() == second.read()


def test_evaluation_plays_the_requested_number_of_episodes(fullyconv):
    agent = agent_lib.A2CAgent(fullyconv)
    env = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=0,
                             game_steps_per_episode=80)  # 10 agent steps per game
    scores = loops.evaluate(agent, env, SPEC, episodes=4, greedy=True)
    assert len(scores) == 4 and all(s >= 0 for s in scores)


def test_visualize_writes_a_gif_of_one_episode(tmp_path, fullyconv):
    from PIL import Image

    agent = agent_lib.A2CAgent(fullyconv)
    path = str(tmp_path / "episode.gif")
    loops.play_gif(agent, SPEC, "MoveToBeacon", 64, 0, True, path)  # step_mul 64: 30 steps
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
    loops.write_learning_curve([1, 2, 3, 20], [240, 480, 720, 960], path, "test")
    assert os.path.getsize(path) > 1000
    assert os.listdir(tmp_path / "image") == ["curve.png"]


def run_cli(*args):
    return subprocess.run([sys.executable, "run.py", *args], cwd=REPO, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})


def last_line(result):
    return result.stderr.strip().splitlines()[-1]


def test_cli_errors_are_one_clear_line_and_a_nonzero_exit():
    # Exit status 1 and one line for other errors: test_a2c_at_a_huge_learning_rate_...
    result = run_cli("--model_name", "lstm")  # a flag error, from absl's own parser
    assert result.returncode == 2
    assert last_line(result) == ("run.py: error: flag --model_name=lstm: value should be one of "
                                 "<fullyconv|alphastar> (--helpshort lists the flags)")


def test_flags_are_checked_before_tensorflow_is_imported():
    # -X importtime logs every module import to stderr: a flag mistake must end before TensorFlow's
    # (a 5 s import) and before any module of the project that imports it.
    result = subprocess.run([sys.executable, "-X", "importtime", "run.py", "--n_steps", "0"],
                            cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": REPO})
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert result.returncode == 2
    assert "cli_flags" in imported and "pysc2.env.sc2_env" in imported
    assert not imported & {"tensorflow", "keras", "agent", "network", "loops"}


@pytest.mark.parametrize("args,message", [
    (["--model_name", "lstm"], "flag --model_name=lstm: value should be one of"),
    (["--num_envs", "abc"], "flag --num_envs=abc: invalid literal for int()"),
    (["--log_interval", "0"], "flag --log_interval=0: 0 is not a positive integer"),
    (["--eval_episodes", "0"], "flag --eval_episodes=0: 0 is not a positive integer"),
    (["--n_steps", "0"], "flag --n_steps=0: 0 is not a positive integer"),
    (["--screen_size", "0"], "flag --screen_size=0: 0 is not a positive integer"),
    (["--learning_rate", "0"], "--learning_rate must be greater than 0"),
    (["--argument_temperature", "-1"], "--argument_temperature must be greater than 0"),
    (["--discount", "1.5"], "flag --discount=1.5: 1.5 is not a number in the range [0.0, 1.0]"),
    (["--seed", "-1"], "flag --seed=-1: -1 is not a non-negative integer"),
    (["--player_1", "elf"], "flag --player_1=elf: value should be one of"),
    (["--no_such_flag"], "Unknown command line flag 'no_such_flag'"),
])
def test_every_bad_flag_value_is_one_line_and_exit_status_2(args, message, capsys):
    with pytest.raises(SystemExit) as exit:
        cli_flags.parse_flags(["run.py", *args])
    FLAGS.unparse_flags()
    FLAGS.mark_as_parsed()
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("run.py: error: ") and message in error


@pytest.fixture
def run_main():
    """Run run.py's main in this process with a command line; returns its SystemExit code."""
    def main(*args):
        FLAGS.unparse_flags()
        cli_flags.parse_flags(["run.py", *args])
        with pytest.raises(SystemExit) as exit:
            run.main(["run.py"])
        return exit.value.code
    yield main
    FLAGS.unparse_flags()
    FLAGS.mark_as_parsed()


def test_a_workspace_that_is_a_file_is_refused_before_any_work(tmp_path, run_main):
    workspace = tmp_path / "file"
    workspace.write_text("not a folder")
    expected = (f"run.py: error: --workspace_path {workspace}: {workspace} is a file, not a "
                "folder; move it away or pass another --workspace_path.")
    assert run_main("--training", "True", "--workspace_path", str(workspace)) == expected
    # Evaluating with --visualize: refused before the evaluation, not when the GIF is written.
    assert run_main("--load_model", "True", "--visualize", "True", "--workspace_path",
                    str(workspace)) == expected
    (tmp_path / "ws").mkdir()
    gifs = tmp_path / "ws" / "gifs"
    gifs.write_text("a file where the GIF folder goes")
    assert run_main("--load_model", "True", "--visualize", "True", "--workspace_path",
                    str(tmp_path / "ws")).endswith(f"{gifs} is a file, not a folder; move it "
                                                   "away or pass another --workspace_path.")


@pytest.mark.parametrize("args,message", [
    (["--training", "False"], "Nothing to do: pass --training True to train"),
    (["--training", "True", "--player_1", "zerg"], "--player_1 zerg: the embedded engine plays "
                                                   "Terran only"),
    (["--resume", "True"], "--resume continues a training run: add --training True"),
    (["--training", "True", "--actors", "2", "--kl_weight", "0.5"],
     "--kl_weight and --critic_warmup_steps fine-tune with A2C in one process"),
    (["--training", "True", "--resume", "True", "--load_model", "True"],
     "--resume and --load_model together"),
    (["--training", "True", "--resume", "True"], "--resume True: no A2C training checkpoint of "
                                                 "fullyconv on MoveToBeacon"),
    (["--training", "True", "--resume", "/no/such/run"], "--resume /no/such/run: no such "
                                                         "checkpoint folder or checkpoint."),
    (["--load_model", "/no/model.weights.h5"], "--load_model /no/model.weights.h5: no such file."),
    (["--training", "True", "--argument_temperature", "0.4"],
     "--argument_temperature is for evaluation"),
    (["--sl_training", "True", "--replay_hkl_file_path", "/no/hkl"],
     "--replay_hkl_file_path /no/hkl: no such folder; convert replays into it with "
     "trajectory_generator.py --saving_path."),
])
def test_bad_flag_combinations_are_one_line(tmp_path, run_main, args, message):
    error = run_main("--workspace_path", str(tmp_path), "--backend", "embedded", *args)
    assert error.startswith("run.py: error: ") and message in error and "\n" not in error


def test_a2c_at_a_huge_learning_rate_stops_with_one_line_naming_it(tmp_path):
    result = run_cli("--workspace_path", str(tmp_path), "--training", "True", "--backend",
                     "embedded", "--num_envs", "2", "--n_steps", "4", "--learning_rate", "1e4",
                     "--max_agent_steps", "100000", "--checkpoint_interval", "16")
    assert result.returncode == 1
    line = last_line(result)
    assert line.startswith("run.py: error: training diverged: ")
    assert "the learning rate (10000) is the likely cause: lower --learning_rate" in line
    assert "is currently not available" not in result.stderr  # no action from NaN logits


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
    result = run_cli(*common, "--load_model", "True", "--eval_episodes", "2", "--step_mul", "64",
                     "--save_replay_episodes", "1")
    assert result.returncode == 0, result.stderr
    assert "over 2 episodes of seed 1000042" in result.stderr  # not the games training played
    # --save_replay_episodes 1: each environment's game is a replay that plays back its score.
    records = [replay.load(path) for path in (tmp_path / "replays").glob("*.json")]
    assert sorted(r["random_seed"] for r in records) == [1000042, 1000043]
    assert all(list(replay.play_back(r))[-1].observation.score_cumulative[0] == r["score"]
               for r in records)


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_the_shipped_weights_play_move_to_beacon(tmp_path, name):
    path = checkpoints.resolve_load_path("True", str(tmp_path), "MoveToBeacon", name, SPEC)
    assert path == os.path.join(checkpoints.SHIPPED_WEIGHTS_DIR, f"MoveToBeacon_{name}.weights.h5")
    model = network.make_model(name, SPEC)  # its weights are loaded; the agent's draws seeded
    checkpoints.load_model(model, path, SPEC)
    env = minigames.BatchEnv(num_envs=16, screen_size=16, minimap_size=16, seed=1234,
                             use_feature_units=model.uses_feature_units)
    scores = loops.evaluate(agent_lib.A2CAgent(model), env, SPEC, episodes=16, greedy=False)
    assert np.mean(scores) >= 20  # a random policy scores about 1


def test_the_shipped_simple64_weights_load_at_their_resolution(tmp_path):
    # The supervised agent of the README's Simple64 pipeline: 32x32, alphastar.
    spec = utils.Spec(32, 32)
    path = checkpoints.resolve_load_path("True", str(tmp_path), "Simple64", "alphastar", spec)
    assert path == os.path.join(checkpoints.SHIPPED_WEIGHTS_DIR, "Simple64_alphastar.weights.h5")
    keras.utils.set_random_seed(0)
    checkpoints.load_model(network.make_model("alphastar", spec), path, spec)
    with pytest.raises(checkpoints.CheckpointError, match="screen/minimap 32/32"):
        checkpoints.resolve_load_path("True", str(tmp_path), "Simple64", "alphastar", SPEC)


def test_ship_weights_stores_float16_that_load_back(tmp_path, fullyconv):
    import h5py

    from tools import ship_weights

    trained = str(tmp_path / "trained.weights.h5")
    fullyconv.save_weights(trained)
    shipped = str(tmp_path / "shipped.weights.h5")
    ship_weights.copy_hdf5(trained, shipped, ship_weights.as_float16)
    with h5py.File(shipped) as f:
        dtypes = set()
        f.visititems(lambda name, item: dtypes.add(item.dtype)
                     if isinstance(item, h5py.Dataset) else None)
    assert dtypes == {np.dtype(np.float16)}
    copy = network.make_model("fullyconv", SPEC)
    copy.load_weights(shipped)
    for original, loaded in zip(fullyconv.weights, copy.weights):
        np.testing.assert_allclose(loaded.numpy(), original.numpy(), rtol=1e-3, atol=1e-4)


def test_a_run_that_saved_nothing_says_why(tmp_path, fullyconv, caplog):
    config = hyperparameters.A2CConfig(n_steps=4)
    env = loops.make_batch_env("embedded", "MoveToBeacon", 4, SPEC, 8, 0, False)
    writer = tf.summary.create_file_writer(str(tmp_path))
    save_path = str(tmp_path / "model.weights.h5")
    with caplog.at_level(logging.INFO, logger="absl"):
        loops.train(agent_lib.A2CAgent(fullyconv, config), env, SPEC, config,
                    rollout_budget(4, 4, 2), writer, log_interval=16, save_path=save_path)
    writer.close()
    assert not os.path.exists(save_path)
    assert (f"No model saved to {save_path}: only 0 episodes ended and the rule needs 100"
            in caplog.text)
    assert "A2C from 0 to 32 agent steps at a learning rate of 0.005; saves " in caplog.text
