"""supervised.py: the masked loss, the data pipeline and its failures, LSTM chunks, distribution,
and run.py --sl_training end to end."""
import dataclasses
import glob
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from pysc2.lib import actions

import agent as agent_lib
import checkpoints
import hyperparameters
import network
import supervised
import utils
from test_trajectory_generator import record_games
import trajectory_generator as tg

FUNCTIONS = actions.FUNCTIONS
TYPES = actions.TYPES
SPEC = utils.Spec(16, 16)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tiny budgets: a handful of updates on 8-example batches.
TINY = hyperparameters.SLConfig(batch_size=8, lanes=2, shuffle_buffer=16, max_examples=16,
                                log_interval=8, eval_interval=16)


@pytest.fixture(scope="module")
def hkl_folder(tmp_path_factory):
    """Four scripted games of 80 game loops at 16x16 (10 training pairs each) as .hkl files."""
    replays = tmp_path_factory.mktemp("replays")
    record_games(replays, games=4, game_steps=80, screen_size=16)
    folder = tmp_path_factory.mktemp("hkl")
    converted, failures = tg.convert_all(str(replays), str(folder))
    assert len(converted) == 4 and not failures
    return str(folder)


def copy_folder(source, destination):
    shutil.copytree(source, destination)
    return str(destination)


# ------------------------------------------------------------------------------------- loss
def fake_outputs(batch, rng):
    return {"function": tf.constant(rng.normal(size=(batch, 573)) * 3, tf.float32),
            "arguments": {name: tf.constant(rng.normal(size=(batch, size)) * 3, tf.float32)
                          for name, size in SPEC.argument_sizes().items()}}


def labelled_batch():
    """select_army (takes select_add), Move_screen (queued, screen), no_op (nothing)."""
    function_id = np.array([FUNCTIONS.select_army.id, FUNCTIONS.Move_screen.id,
                            FUNCTIONS.no_op.id], np.int32)
    arg_indices = np.full((3, 13), -1, np.int32)
    arg_indices[0, TYPES.select_add.id] = 0
    arg_indices[1, TYPES.queued.id] = 1
    arg_indices[1, TYPES.screen.id] = 5 * 16 + 7
    available = np.zeros((3, 573), np.float32)
    available[:, [FUNCTIONS.no_op.id, FUNCTIONS.select_army.id, FUNCTIONS.Move_screen.id]] = 1
    return {"inputs": {"available_actions": tf.constant(available)},
            "function_id": tf.constant(function_id), "arg_indices": tf.constant(arg_indices),
            "weight": tf.ones(3)}


def log_softmax(x):
    x = x - x.max()
    return x - np.log(np.exp(x).sum())


def test_masked_cross_entropy_counts_only_the_arguments_the_labelled_function_takes():
    rng = np.random.default_rng(0)
    outputs = fake_outputs(3, rng)
    batch = labelled_batch()
    stats = supervised.head_statistics(outputs, batch, SPEC.screen_size)
    counts = {head: stats[f"{head}/count"] for head in supervised.HEADS}
    loss = float(supervised.loss_from_statistics(stats, counts))

    # By hand: the function over every example (unavailable functions masked out); each argument
    # averaged over only the examples whose function takes it.
    available = batch["inputs"]["available_actions"].numpy() > 0
    function_logits = outputs["function"].numpy()
    function_ce = np.mean([-log_softmax(np.where(available[i], function_logits[i], -1e9))[f]
                           for i, f in enumerate(batch["function_id"].numpy())])
    args = {name: outputs["arguments"][name].numpy() for name in ("select_add", "queued",
                                                                   "screen")}
    expected = (function_ce - log_softmax(args["select_add"][0])[0]
                - log_softmax(args["queued"][1])[1] - log_softmax(args["screen"][1])[5 * 16 + 7])
    assert loss == pytest.approx(expected, rel=1e-5)
    assert float(counts["screen"]) == 1 and float(counts["function"]) == 3
    assert float(counts["minimap"]) == 0

    # Logits of arguments a function does not take change nothing.
    scrambled = {**outputs, "arguments": dict(outputs["arguments"])}
    scrambled["arguments"]["screen"] = tf.tensor_scatter_nd_update(
        outputs["arguments"]["screen"], [[0], [2]], tf.fill((2, 256), 9.0))
    scrambled["arguments"]["minimap"] = tf.zeros_like(outputs["arguments"]["minimap"])
    again = supervised.head_statistics(scrambled, batch, SPEC.screen_size)
    assert float(supervised.loss_from_statistics(again, counts)) == pytest.approx(loss, rel=1e-6)


def test_a_label_the_observation_marks_unavailable_gives_a_finite_loss():
    rng = np.random.default_rng(1)
    batch = labelled_batch()
    batch["inputs"]["available_actions"] = tf.constant(
        np.eye(573, dtype=np.float32)[[0, 0, 0]])  # only no_op available
    stats = supervised.head_statistics(fake_outputs(3, rng), batch, SPEC.screen_size)
    assert np.isfinite(float(stats["function/loss_sum"]))
    assert float(stats["function/right"]) == 1  # only the no_op row can be predicted right


def test_accuracies_count_only_real_rows_and_used_arguments():
    batch = labelled_batch()
    batch["weight"] = tf.constant([1.0, 1.0, 0.0])  # the no_op row is padding
    function_logits = np.zeros((3, 573), np.float32)
    function_logits[[0, 1, 2], batch["function_id"].numpy()] = 5.0
    arguments = {name: np.zeros((3, size), np.float32)
                 for name, size in SPEC.argument_sizes().items()}
    arguments["select_add"][0, 0] = 5.0
    arguments["queued"][1, 1] = 5.0
    arguments["screen"][1, 6 * 16 + 8] = 5.0  # one pixel off diagonally
    outputs = {"function": tf.constant(function_logits),
               "arguments": {k: tf.constant(v) for k, v in arguments.items()}}
    summary = supervised.summarise(
        {k: float(v) for k, v in supervised.head_statistics(outputs, batch, 16).items()})
    assert summary["accuracy/function"] == 1.0
    assert summary["accuracy/select_add"] == summary["accuracy/queued"] == 1.0
    assert summary["accuracy/screen"] == 0.0 and summary["accuracy/screen_within_1px"] == 1.0
    assert summary["accuracy/action"] == 0.5
    assert "accuracy/minimap" not in summary


# ------------------------------------------------------------------------------------ files
def test_missing_and_empty_folders_are_errors_naming_the_path(tmp_path):
    with pytest.raises(supervised.DataError, match=f"{tmp_path / 'none'}: no such folder"):
        supervised.find_trajectories(str(tmp_path / "none"))
    with pytest.raises(supervised.DataError, match=f"{tmp_path}: no .hkl files"):
        supervised.find_trajectories(str(tmp_path))


@pytest.mark.parametrize("files,held_out", [(1, 0), (2, 1), (9, 1), (10, 1), (25, 2)])
def test_held_out_split_is_by_game(files, held_out):
    paths = [f"game{i:02d}.hkl" for i in range(files)]
    training, held = supervised.split_by_game(paths, 10)
    assert len(held) == held_out
    assert sorted(training + held) == paths and not set(training) & set(held)
    if files >= 10:
        assert held == paths[9::10]


def test_both_players_of_one_replay_fall_on_the_same_side_of_the_split():
    # Two files per .SC2Replay, as trajectory_generator writes them.
    paths = sorted(f"replay{i:02d}_player{p}.hkl" for i in range(20) for p in (1, 2))
    training, held = supervised.split_by_game(paths, 10)
    assert held == ["replay09_player1.hkl", "replay09_player2.hkl",
                    "replay19_player1.hkl", "replay19_player2.hkl"]
    assert sorted(training + held) == paths
    games = {supervised.game_of(path) for path in training}
    assert not games & {supervised.game_of(path) for path in held}
    assert supervised.game_of("/data/replay07_player2.hkl") == "replay07"
    assert supervised.game_of("MoveToBeacon_2025.hkl") == "MoveToBeacon_2025"


def test_corrupt_and_truncated_files_are_skipped_and_counted(hkl_folder, tmp_path):
    folder = copy_folder(hkl_folder, tmp_path / "hkl")
    good = supervised.find_trajectories(folder)
    content = open(good[0], "rb").read()
    with open(os.path.join(folder, "truncated.hkl"), "wb") as f:
        f.write(content[:len(content) // 2])
    with open(os.path.join(folder, "garbage.hkl"), "wb") as f:
        f.write(b"not hdf5")
    paths = supervised.find_trajectories(folder)
    reader = supervised.TrajectoryReader(SPEC, step_mul=8)
    read = list(reader.trajectories(paths, repeat=False))
    assert len(read) == len(good) == 4
    assert sorted(os.path.basename(p) for p in reader.skipped) == ["garbage.hkl",
                                                                   "truncated.hkl"]
    # An endless stream skips them again without recounting them.
    stream = reader.trajectories(paths, repeat=True)
    assert sum(len(next(stream)["weight"]) for _ in range(8)) == 80
    assert len(reader.skipped) == 2 and reader.pairs_per_pass == 40

    only_bad = [p for p in paths if p not in good]
    with pytest.raises(supervised.DataError, match="none of the 2 training .hkl files"):
        supervised.TrajectoryReader(SPEC, 8).check(only_bad)
    with pytest.raises(supervised.DataError, match="--screen_size 16 --minimap_size 16"):
        supervised.TrajectoryReader(utils.Spec(32, 32), 8).check(good)


def test_training_pairs_become_network_inputs_and_labels(hkl_folder):
    pairs = supervised.TrajectoryReader(SPEC, 8).read(supervised.find_trajectories(hkl_folder)[0])
    assert pairs["inputs"]["screen"].shape[:3] == (10, 16, 16)
    assert pairs["reset"].tolist() == [1.0] + [0.0] * 9
    assert pairs["function_id"][0] == FUNCTIONS.select_army.id
    assert set(pairs["function_id"][1:]) == {FUNCTIONS.Move_screen.id}
    assert (pairs["arg_indices"][1:, TYPES.screen.id] >= 0).all()


# ----------------------------------------------------------------------------------- chunks
def fake_trajectory(file_id, rows):
    """Rows whose function_id says (file, row) and whose screen plane holds the same."""
    ids = file_id * 100 + np.arange(rows)
    reset = np.zeros(rows, np.float32)
    reset[0] = 1
    return {"inputs": {"screen": ids[:, None].astype(np.float32)}, "reset": reset,
            "function_id": ids.astype(np.int32), "arg_indices": np.zeros((rows, 13), np.int32),
            "weight": np.ones(rows, np.float32)}


def test_lanes_continue_their_trajectories_across_chunks():
    trajectories = [fake_trajectory(1, 5), fake_trajectory(2, 3), fake_trajectory(3, 4)]
    blocks = list(supervised.lane_blocks(iter(trajectories), lanes=2, length=3))
    # Time-major [3 steps x 2 lanes]: lane 0 walks file 1, lane 1 file 2 then file 3.
    steps = [block["function_id"].reshape(3, 2) for block in blocks]
    weights = [block["weight"].reshape(3, 2) for block in blocks]
    lane0 = [f for s, w in zip(steps, weights) for f in s[:, 0][w[:, 0] > 0]]
    lane1 = [f for s, w in zip(steps, weights) for f in s[:, 1][w[:, 1] > 0]]
    assert lane0 == [100, 101, 102, 103, 104]
    assert lane1 == [200, 201, 202, 300, 301, 302, 303]
    assert len(blocks) == 3 and weights[-1].sum() == 1  # padding until every lane is dry
    resets = [b["reset"].reshape(3, 2) for b in blocks]
    assert resets[0][:, 1].tolist() == [1, 0, 0] and resets[1][:, 1].tolist() == [1, 0, 0]
    assert resets[1][:, 0].tolist() == [0, 0, 1]  # lane 0: file 1 continues, then padding
    np.testing.assert_array_equal(blocks[0]["inputs"]["screen"][:, 0], blocks[0]["function_id"])


def test_lane_groups_take_turns_so_each_replica_keeps_its_lanes():
    trajectories = [fake_trajectory(i, 4) for i in range(1, 5)]
    blocks = list(supervised.lane_blocks(iter(trajectories), lanes=1, length=2, groups=2))
    assert [b["function_id"].tolist() for b in blocks] == [
        [100, 101], [200, 201], [102, 103], [202, 203], [300, 301], [400, 401],
        [302, 303], [402, 403]]


def test_the_lstm_state_is_carried_from_one_chunk_to_the_next(hkl_folder):
    config = hyperparameters.SLConfig(lanes=2, learning_rate=0.0)  # the weights stay as they are
    keras.utils.set_random_seed(0)
    trainer = supervised.Trainer("alphastar", SPEC, config, tf.distribute.get_strategy())
    paths = supervised.find_trajectories(hkl_folder)
    iterator = trainer.training_iterator(supervised.TrajectoryReader(SPEC, 8), paths)
    first, second = next(iterator), next(iterator)
    assert first["reset"].numpy().reshape(8, 2)[0].tolist() == [1, 1]
    assert second["reset"].numpy().reshape(8, 2)[0].tolist() == [0, 0]  # 10 pairs per file

    def run_model(batch, state):
        return trainer.model({**batch["inputs"], "reset": batch["reset"],
                              "function_id": batch["function_id"], **state})

    zeros = trainer.model.initial_state(2)
    trainer.train_step(first)
    after_first = run_model(first, zeros)
    np.testing.assert_allclose(trainer.state["state_h"].numpy(), after_first["state_h"],
                               atol=1e-5)
    trainer.train_step(second)
    carried = run_model(second, {name: after_first[name] for name in ("state_h", "state_c")})
    np.testing.assert_allclose(trainer.state["state_h"].numpy(), carried["state_h"], atol=1e-5)
    # The second chunk's first steps (rows 0 and 1) continue the first chunk's games.
    fresh = run_model(second, zeros)
    assert np.abs(np.asarray(carried["function"][:2] - fresh["function"][:2])).max() > 1e-4
    trainer.close()


# --------------------------------------------------------------------------------- training
def test_training_steps_reduce_the_loss_on_a_fixed_batch(hkl_folder):
    keras.utils.set_random_seed(0)
    trainer = supervised.Trainer("fullyconv", SPEC, TINY, tf.distribute.get_strategy())
    iterator = trainer.training_iterator(supervised.TrajectoryReader(SPEC, 8),
                                         supervised.find_trajectories(hkl_folder))
    batch = next(iterator)
    trainer.close()
    losses = []
    for _ in range(6):
        stats = trainer.train_step(batch)
        losses.append(supervised.summarise(stats)["total_loss"])
    assert losses[-1] < 0.7 * losses[0]
    assert stats["function/count"] == 8 and stats["grad_norm"] > 0


def test_train_saves_the_best_held_out_checkpoint_and_logs_to_tensorboard(hkl_folder, tmp_path):
    keras.utils.set_random_seed(0)
    saved = []
    result = supervised.train(hkl_folder, "fullyconv", SPEC, TINY, log_dir=str(tmp_path),
                              save=lambda model, progress: saved.append(progress))
    assert (result.train_files, result.held_out_files, result.examples) == (3, 1, 16)
    assert result.updates == 2 and not result.skipped_files
    assert saved and saved[-1]["examples"] == 16 == result.saved["examples"]
    assert "held_out_accuracy_function" in saved[-1]
    assert 0 <= result.held_out["accuracy/function"] <= 1
    events = glob.glob(str(tmp_path / "events.out.tfevents.*"))
    tags = {value.tag for event in tf.compat.v1.train.summary_iterator(events[0])
            for value in event.summary.value}
    assert {"total_loss", "loss/function", "loss/screen", "accuracy/function",
            "accuracy/screen", "held_out/accuracy/function", "held_out/accuracy/screen",
            "grad_norm"} <= tags


def sl_checkpointing(folder, resume_from=None):
    return checkpoints.Checkpointing(str(folder), 16, {"run_name": "sl"}, resume_from)


def test_a_resumed_run_goes_on_with_the_counts_the_optimizer_and_the_best_save(hkl_folder,
                                                                               tmp_path):
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(TINY, max_examples=32)
    first = supervised.train(hkl_folder, "fullyconv", SPEC, dataclasses.replace(config,
                                                                                max_examples=16),
                             checkpointing=sl_checkpointing(tmp_path))
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert first.examples == 16 and latest.endswith("ckpt-16")
    progress = checkpoints.read_loop_state(latest)["progress"]
    assert (progress["updates"], progress["saved"]["examples"]) == (2, 16)

    keras.utils.set_random_seed(1)
    saved = []
    resumed = supervised.train(hkl_folder, "fullyconv", SPEC, config,
                               save=lambda model, p: saved.append(p),
                               checkpointing=sl_checkpointing(tmp_path, latest))
    assert (resumed.examples, resumed.updates) == (32, 4)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt-32")
    # The best held-out result of the first part is remembered: a later save is at least as good.
    assert all(p["held_out_accuracy_action"] >= progress["saved"]["accuracy/action"] - 1e-4
               for p in saved)


def test_a_run_whose_updates_keep_failing_stops_naming_the_learning_rate(hkl_folder, tmp_path):
    keras.utils.set_random_seed(0)
    config = dataclasses.replace(TINY, max_examples=800, learning_rate=1e30, eval_interval=10 ** 6)
    saved = []
    with pytest.raises(agent_lib.DivergenceError, match=r"learning rate \(1e\+30\)") as error:
        supervised.train(hkl_folder, "fullyconv", SPEC, config,
                         save=lambda model, progress: saved.append(model),
                         checkpointing=sl_checkpointing(tmp_path))
    assert "had a non-finite loss or gradient" in str(error.value) and saved == []
    assert tf.train.latest_checkpoint(str(tmp_path)) is None  # nothing diverged was written


def test_mirrored_strategy_over_two_logical_cpus(hkl_folder):
    """One update on two replicas equals one on one device; AlphaStar keeps one LSTM state per
    replica (own process: logical devices must be configured before TensorFlow starts)."""
    result = subprocess.run(
        [sys.executable, os.path.join(REPO, "tests", "sl_mirrored_check.py"), hkl_folder],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["replicas"] == 2
    assert report["mirrored_loss"] == pytest.approx(report["single_loss"], rel=1e-5)
    assert report["max_weight_difference"] < 1e-4  # Adam's first step moves weights by 1e-3
    assert report["mirrored_held_out_loss"] == pytest.approx(report["single_held_out_loss"],
                                                             rel=1e-4)
    assert report["alphastar_replica_states_differ"]
    assert report["non_finite_update_skipped"]


def test_run_py_sl_training_end_to_end(hkl_folder, tmp_path):
    folder = copy_folder(hkl_folder, tmp_path / "hkl")
    with open(os.path.join(folder, "broken.hkl"), "wb") as f:
        f.write(b"truncated")
    workspace = tmp_path / "workspace"
    result = subprocess.run(
        [sys.executable, "run.py", "--sl_training", "True", "--replay_hkl_file_path", folder,
         "--workspace_path", str(workspace), "--max_agent_steps", "64", "--log_interval", "64"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "examples        64" in result.stderr
    assert "1 file(s) skipped" in result.stderr and "broken.hkl" in result.stderr
    assert glob.glob(str(workspace / "tensorboard" / "MoveToBeacon_fullyconv_sl_seed42_*"))
    # --load_model True finds the model, with the metadata load_model checks.
    path = checkpoints.resolve_load_path("True", str(workspace), "MoveToBeacon", "fullyconv",
                                         SPEC)
    assert os.path.basename(path).startswith("MoveToBeacon_fullyconv_sl_seed42_")
    with open(path[:-len(".weights.h5")] + ".json") as f:
        metadata = json.load(f)
    assert (metadata["model_name"], metadata["screen_size"], metadata["training"]) == (
        "fullyconv", 16, "supervised")
    checkpoints.load_model(network.make_model("fullyconv", SPEC), path, SPEC)
    assert glob.glob(str(workspace / "checkpoints" / "MoveToBeacon_fullyconv_sl_seed42_*" /
                         "ckpt-64.index"))


def test_sl_training_and_training_together_run_supervised_learning_then_a2c_from_it(
        hkl_folder, tmp_path):
    """The original README's supervised command (--training True --sl_training True)."""
    workspace = tmp_path / "workspace"
    result = subprocess.run(
        [sys.executable, "run.py", "--training", "True", "--sl_training", "True",
         "--replay_hkl_file_path", hkl_folder, "--workspace_path", str(workspace),
         "--max_agent_steps", "32", "--log_interval", "16", "--num_envs", "2", "--n_steps", "4"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": REPO, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    [model] = glob.glob(str(workspace / "Models" / "MoveToBeacon_fullyconv_sl_seed42_*.weights.h5"))
    assert f"Supervised learning done; A2C starts from {model}" in result.stderr
    assert f"Loaded {model}" in result.stderr
    runs = sorted(os.listdir(workspace / "tensorboard"))
    assert len(runs) == 2 and "_sl_" in runs[1] and "_sl_" not in runs[0]  # A2C, then SL
    assert "steps        32" in result.stderr  # A2C's progress line at its budget


def test_files_of_another_map_are_refused_naming_both_maps(hkl_folder):
    paths = supervised.find_trajectories(hkl_folder)
    assert tg.read_trajectory(paths[0])["map_name"] == "MoveToBeacon"
    with pytest.raises(supervised.DataError, match=r"recorded on MoveToBeacon, but the network "
                                                   r"is for Simple64 \(pass --environment "
                                                   r"MoveToBeacon"):
        supervised.TrajectoryReader(SPEC, 8, "Simple64").check(paths)
    assert supervised.TrajectoryReader(SPEC, 8, "MoveToBeacon").check(paths) == 10
