"""checkpoints: the save rule, model files, training checkpoints and exact resume of A2C."""
import glob
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import agent as agent_lib
import checkpoints
import hyperparameters
import loops
import minigames
import network
import utils

SPEC = utils.Spec(16, 16)


def scores(*values):
    return [float(v) for v in values]


def test_save_rule_needs_a_full_window_above_five_and_improving():
    rule = checkpoints.SaveRule()
    assert not rule.should_save(scores(*[20] * 99))  # fewer than 100 episodes
    assert not rule.should_save(scores(*[5] * 100))  # not above 5.0
    assert rule.should_save(scores(*[6] * 100))
    assert not rule.should_save(scores(*[6] * 100))  # not improving
    assert not rule.should_save(scores(*[9] * 100, *[5.5] * 100))  # only the last 100 count
    assert rule.should_save(scores(*[6] * 50, *[8] * 50))
    assert rule.best == pytest.approx(7.0)


# ------------------------------------------------------------------------------ model files
def save(model, folder, name, spec=SPEC):
    path = os.path.join(checkpoints.models_dir(folder), f"{name}.weights.h5")
    checkpoints.save_model(model, path, checkpoints.model_description(
        model.name, "MoveToBeacon", spec, seed=1))
    return path


def test_models_are_saved_atomically_and_the_newest_is_loaded(tmp_path, fullyconv):
    folder = str(tmp_path)
    older = save(fullyconv, folder, "MoveToBeacon_fullyconv_seed1_a")
    newer = save(fullyconv, folder, "MoveToBeacon_fullyconv_seed2_b")
    os.utime(older, (1, 1))
    assert sorted(os.listdir(checkpoints.models_dir(folder))) == sorted(
        os.path.basename(p) for p in (older, newer, older[:-11] + ".json", newer[:-11] + ".json"))
    with open(newer[:-11] + ".json") as f:
        assert json.load(f)["saved"]
    resolve = checkpoints.resolve_load_path
    assert resolve("True", folder, "MoveToBeacon", "fullyconv", SPEC) == newer
    assert resolve(older, folder, "MoveToBeacon", "fullyconv", SPEC) == older
    assert resolve("False", folder, "MoveToBeacon", "fullyconv", SPEC) is None
    assert resolve(None, folder, "MoveToBeacon", "fullyconv", SPEC) is None
    with pytest.raises(checkpoints.CheckpointError, match="No saved alphastar model"):
        resolve("True", folder, "MoveToBeacon", "alphastar", SPEC,
                shipped_dir=str(tmp_path / "none"))
    with pytest.raises(checkpoints.CheckpointError, match="no such file"):
        resolve("missing.weights.h5", folder, "MoveToBeacon", "fullyconv", SPEC)

    copy = network.make_model("fullyconv", SPEC)
    checkpoints.load_model(copy, newer, SPEC)
    for saved, loaded in zip(fullyconv.weights, copy.weights):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    with pytest.raises(checkpoints.CheckpointError, match="--screen_size 16"):
        checkpoints.load_model(copy, newer, utils.Spec(32, 32))


def test_load_model_true_picks_the_newest_model_of_the_requested_resolution(tmp_path,
                                                                           fullyconv):
    folder = str(tmp_path)
    at_16 = save(fullyconv, folder, "MoveToBeacon_fullyconv_seed1_16")
    keras.utils.set_random_seed(0)
    at_24 = save(network.make_model("fullyconv", utils.Spec(24, 24)), folder,
                 "MoveToBeacon_fullyconv_seed1_24", utils.Spec(24, 24))
    os.utime(at_16, (1, 1))  # the 24x24 model is the newest
    none = str(tmp_path / "none")
    assert checkpoints.resolve_load_path("True", folder, "MoveToBeacon", "fullyconv", SPEC,
                                         none) == at_16
    assert checkpoints.resolve_load_path("True", folder, "MoveToBeacon", "fullyconv",
                                         utils.Spec(24, 24), none) == at_24
    with pytest.raises(checkpoints.CheckpointError, match="screen/minimap 16/16, 24/24"):
        checkpoints.resolve_load_path("True", folder, "MoveToBeacon", "fullyconv",
                                      utils.Spec(32, 32), none)


def test_load_model_true_names_the_resolution_of_the_shipped_weights(tmp_path, fullyconv):
    # A 16x16 model laid out as weights/ holds it; the workspace has no model.
    shipped_dir = os.path.dirname(save(fullyconv, str(tmp_path / "code"), "MoveToBeacon_fullyconv"))
    workspace = str(tmp_path / "workspace")
    with pytest.raises(checkpoints.CheckpointError, match="screen/minimap 16/16: pass those"):
        checkpoints.resolve_load_path("True", workspace, "MoveToBeacon", "fullyconv",
                                      utils.Spec(32, 32), shipped_dir)


def test_non_finite_weights_are_never_saved(tmp_path, fullyconv):
    path = save(fullyconv, str(tmp_path), "MoveToBeacon_fullyconv_good")
    before = open(path, "rb").read()
    kernel = fullyconv.function_head.kernel
    kernel.assign(tf.fill(kernel.shape, np.nan))
    with pytest.raises(checkpoints.NonFiniteWeights):
        save(fullyconv, str(tmp_path), "MoveToBeacon_fullyconv_good")
    assert open(path, "rb").read() == before  # the good model is kept
    checkpoint = checkpoints.TrainingCheckpoint(str(tmp_path / "run"), fullyconv,
                                                keras.optimizers.Adam())
    with pytest.raises(checkpoints.NonFiniteWeights):
        checkpoint.save({"step": 1}, 1)
    assert checkpoint.latest is None


def test_a_model_with_non_finite_weights_is_not_loaded(tmp_path, fullyconv):
    path = os.path.join(str(tmp_path), "diverged.weights.h5")
    kernel = fullyconv.function_head.kernel
    kernel.assign(tf.fill(kernel.shape, np.inf))
    fullyconv.save_weights(path)  # as a run of another program might have
    with pytest.raises(checkpoints.CheckpointError, match="non-finite weights"):
        checkpoints.load_model(network.make_model("fullyconv", SPEC), path, SPEC)


def test_a_model_saved_before_the_player_thresholds_is_refused_until_widened(tmp_path,
                                                                             fullyconv):
    import h5py

    from tools import widen_non_spatial

    # Such a file: the non-spatial kernel without the thresholds' rows, a description without
    # non_spatial_size.
    path = save(fullyconv, str(tmp_path), "MoveToBeacon_fullyconv_old")
    old_rows = checkpoints.NON_SPATIAL_SIZE_BEFORE_THRESHOLDS
    kernel = widen_non_spatial.non_spatial_kernel(path, rows=utils.NON_SPATIAL_SIZE)
    with h5py.File(path, "r+") as weights:
        data = weights[kernel][()]
        del weights[kernel]
        weights.create_dataset(kernel, data=data[:old_rows])
    description = checkpoints.description_path(path)
    with open(description) as f:
        saved = json.load(f)
    del saved["non_spatial_size"]
    with open(description, "w") as f:
        json.dump(saved, f)
    copy = network.make_model("fullyconv", SPEC)
    with pytest.raises(checkpoints.CheckpointError,
                       match=f"non-spatial input of {old_rows} values; .* read "
                             f"{utils.NON_SPATIAL_SIZE}"):
        checkpoints.load_model(copy, path, SPEC)

    widen_non_spatial.main(["widen_non_spatial.py", path])
    checkpoints.load_model(copy, path, SPEC)
    widened = copy.non_spatial_encoder.kernel.numpy()
    assert np.array_equal(widened[:old_rows], data[:old_rows])
    assert not widened[old_rows:].any()
    for original, loaded in zip(fullyconv.weights, copy.weights):
        if original.path != fullyconv.non_spatial_encoder.kernel.path:
            assert np.array_equal(loaded.numpy(), original.numpy()), original.path


# ---------------------------------------------------------------------- training checkpoints
def test_the_last_three_checkpoints_are_kept_and_found(tmp_path, fullyconv):
    optimizer = keras.optimizers.Adam()
    optimizer.build(fullyconv.trainable_variables)
    folders = checkpoints.checkpoints_dir(str(tmp_path))
    run_dir = os.path.join(folders, "MoveToBeacon_fullyconv_seed1_20250101-000000")
    checkpoint = checkpoints.TrainingCheckpoint(run_dir, fullyconv, optimizer)
    for step in (10, 20, 30, 40):
        checkpoint.save({"run_name": "r", "agent_steps": step}, step)
    assert sorted(f for f in os.listdir(run_dir) if f.endswith(".index")) == [
        "ckpt-20.index", "ckpt-30.index", "ckpt-40.index"]
    latest = os.path.join(run_dir, "ckpt-40")
    assert checkpoints.read_loop_state(latest) == {"run_name": "r", "agent_steps": 40}
    find = checkpoints.find_checkpoint
    assert find("True", str(tmp_path), "MoveToBeacon", "fullyconv", supervised=False) == latest
    assert find(run_dir, str(tmp_path), "MoveToBeacon", "fullyconv", False) == latest
    assert find(os.path.join(run_dir, "ckpt-30"), str(tmp_path), "MoveToBeacon", "fullyconv",
                False).endswith("ckpt-30")
    assert find("False", str(tmp_path), "MoveToBeacon", "fullyconv", False) is None
    with pytest.raises(checkpoints.CheckpointError, match="no supervised training checkpoint"):
        find("True", str(tmp_path), "MoveToBeacon", "fullyconv", supervised=True)
    with pytest.raises(checkpoints.CheckpointError, match="no training checkpoint of alphastar"):
        find("True", str(tmp_path), "MoveToBeacon", "alphastar", supervised=None)
    with pytest.raises(checkpoints.CheckpointError, match="no such checkpoint"):
        find(os.path.join(run_dir, "ckpt-10"), str(tmp_path), "MoveToBeacon", "fullyconv", False)


def test_a_checkpoint_of_another_network_is_refused(tmp_path, fullyconv):
    checkpoint = checkpoints.TrainingCheckpoint(str(tmp_path), fullyconv,
                                                keras.optimizers.Adam())
    path = checkpoint.save({"run_name": "r"}, 1)
    keras.utils.set_random_seed(0)
    other = network.make_model("alphastar", SPEC)
    with pytest.raises(checkpoints.CheckpointError, match="does not fit"):
        checkpoints.TrainingCheckpoint(str(tmp_path / "other"), other,
                                       keras.optimizers.Adam()).restore(path)


# -------------------------------------------------------------------------- exact A2C resume
UPDATE = 3 * 4  # agent steps per update: 3 environments, 4 steps each


def a2c_run(name, budget, checkpoint_dir, resume_from=None, seed=0, should_stop=None):
    """A2C with checkpoints every 4 updates; games of 10 steps, so that episodes end, reset and
    score within a few updates. `seed` seeds the parts a resumed run must restore."""
    keras.utils.set_random_seed(seed)
    model = network.make_model(name, SPEC)
    config = hyperparameters.A2CConfig(n_steps=4, learning_rate=1e-3)
    agent = agent_lib.A2CAgent(model, config, seed=seed)
    env = minigames.BatchEnv(num_envs=3, screen_size=16, minimap_size=16, seed=seed,
                             use_feature_units=model.uses_feature_units,
                             game_steps_per_episode=80)
    writer = tf.summary.create_file_writer(os.path.join(checkpoint_dir, "tensorboard"))
    checkpointing = checkpoints.Checkpointing(checkpoint_dir, 4 * UPDATE, {"run_name": "test"},
                                              resume_from)
    runner = loops.train(agent, env, SPEC, config, budget, writer, log_interval=10 ** 9,
                         checkpointing=checkpointing, should_stop=should_stop)
    writer.close()
    return agent, runner


@pytest.mark.parametrize("name", ["fullyconv", "alphastar"])
def test_a_killed_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, name):
    whole_agent, whole = a2c_run(name, 8 * UPDATE, str(tmp_path / "whole"))

    first_half_dir = str(tmp_path / "halves")
    a2c_run(name, 4 * UPDATE, first_half_dir)  # then "killed": nothing of it is kept but files
    latest = tf.train.latest_checkpoint(first_half_dir)
    assert latest.endswith(f"ckpt-{4 * UPDATE}")
    # Other seeds: everything the second half needs must come from the checkpoint.
    resumed_agent, resumed = a2c_run(name, 8 * UPDATE, first_half_dir, resume_from=latest,
                                     seed=1)

    assert resumed.agent_steps == whole.agent_steps == 8 * UPDATE
    assert resumed.finished_episodes == whole.finished_episodes and whole.finished_episodes
    assert int(resumed_agent.optimizer.iterations) == int(whole_agent.optimizer.iterations) == 8
    for ours, theirs in zip(resumed_agent.optimizer.variables, whole_agent.optimizer.variables):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    for ours, theirs in zip(resumed_agent.model.weights, whole_agent.model.weights):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy(), err_msg=ours.path)
    np.testing.assert_array_equal(resumed_agent.generator.state.numpy(),
                                  whole_agent.generator.state.numpy())


def test_a_stop_request_writes_a_checkpoint_after_the_current_update(tmp_path):
    updates = []

    def stop_after_two_updates():
        updates.append(1)
        return len(updates) == 2

    agent, runner = a2c_run("fullyconv", 100 * UPDATE, str(tmp_path),
                            should_stop=stop_after_two_updates)
    assert runner.agent_steps == 2 * UPDATE
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert latest.endswith(f"ckpt-{2 * UPDATE}")
    state = checkpoints.read_loop_state(latest)
    assert state["agent_steps"] == 2 * UPDATE and state["run_name"] == "test"
    assert state["skipped_updates"] == 0 and state["save_rule_best"] == 5.0


# ------------------------------------------------------------------ signals and kill -9, CLI
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start_training(workspace, log, *args):
    """run.py training in the background, its log (stderr) written to `log`."""
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would block the run
        return subprocess.Popen(
            [sys.executable, "run.py", "--workspace_path", str(workspace), "--training", "True",
             "--backend", "embedded", "--num_envs", "2", "--n_steps", "4", "--log_interval", "16",
             "--checkpoint_interval", "16", "--step_mul", "64", *args],  # games of 30 steps
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=stderr,
            env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})


def wait_for_checkpoint(workspace, beyond=0, timeout=300):
    """The latest checkpoint of the workspace's only run once its step is beyond `beyond`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        folders = glob.glob(os.path.join(checkpoints.checkpoints_dir(str(workspace)), "*"))
        latest = tf.train.latest_checkpoint(folders[0]) if folders else None
        if latest and int(latest.rsplit("-", 1)[1]) > beyond:
            return latest
        time.sleep(0.2)
    raise AssertionError(f"no checkpoint beyond {beyond} within {timeout} s")


def step_of(path):
    return int(path.rsplit("-", 1)[1])


def test_sigterm_and_kill_9_leave_checkpoints_a_resumed_run_goes_on_from(tmp_path):
    # SIGTERM: the run writes a checkpoint after its current update and exits 128 + 15.
    log = tmp_path / "run.log"
    training = start_training(tmp_path, log, "--max_agent_steps", "1000000")
    wait_for_checkpoint(tmp_path)
    training.send_signal(signal.SIGTERM)
    training.wait(timeout=120)
    assert training.returncode == 128 + signal.SIGTERM, log.read_text()[-2000:]
    assert "Stopped by SIGTERM; continue with --resume True." in log.read_text()
    stopped_at = step_of(wait_for_checkpoint(tmp_path))

    # kill -9 of the resumed run: its latest checkpoint is whole and restores.
    training = start_training(tmp_path, log, "--resume", "True", "--max_agent_steps", "1000000")
    latest = wait_for_checkpoint(tmp_path, beyond=stopped_at + 16)
    training.kill()
    training.wait(timeout=60)
    latest = wait_for_checkpoint(tmp_path, beyond=stopped_at + 16)  # the newest whole one
    state = checkpoints.read_loop_state(latest)
    assert state["agent_steps"] == step_of(latest) and state["flags"]["num_envs"] == 2
    keras.utils.set_random_seed(0)
    model = network.make_model("fullyconv", SPEC)
    agent = agent_lib.A2CAgent(model)
    restored = checkpoints.TrainingCheckpoint(str(tmp_path / "scratch"), model, agent.optimizer,
                                              generator=agent.generator).restore(latest)
    assert restored["run_name"] == state["run_name"] and int(agent.optimizer.iterations) > 0

    # Resumed again, the run ends at its budget in the same folders.
    budget = step_of(latest) + 32
    training = start_training(tmp_path, log, "--resume", "True", "--max_agent_steps", str(budget))
    training.wait(timeout=300)
    assert training.returncode == 0, log.read_text()[-2000:]
    assert f"at {step_of(latest)} agent steps" in log.read_text()
    assert step_of(wait_for_checkpoint(tmp_path)) == budget
    run_name = state["run_name"]
    assert os.listdir(checkpoints.checkpoints_dir(str(tmp_path))) == [run_name]
    assert os.listdir(tmp_path / "tensorboard") == [run_name]
    assert os.path.getsize(tmp_path / "tensorboard" / run_name / "learning_curve.png") > 1000


def test_ctrl_c_stops_cleanly_and_writes_what_a_finished_run_writes(tmp_path):
    log = tmp_path / "run.log"
    training = start_training(tmp_path, log, "--max_agent_steps", "1000000", "--save_model",
                              "True", "--visualize", "True")
    wait_for_checkpoint(tmp_path, beyond=64)  # two games of 30 steps ended in each environment
    training.send_signal(signal.SIGINT)
    training.wait(timeout=180)
    text = log.read_text()
    assert training.returncode == 128 + signal.SIGINT, text[-2000:]
    assert "Traceback" not in text
    assert "Stopped by SIGINT; continue with --resume True." in text
    assert "No model saved to " in text and "the rule needs 100" in text
    [run_name] = os.listdir(tmp_path / "tensorboard")
    assert os.path.getsize(tmp_path / "tensorboard" / run_name / "learning_curve.png") > 1000
    assert os.path.getsize(tmp_path / "gifs" / f"{run_name}.gif") > 1000
