"""Supervised learning under MirroredStrategy over two logical CPU devices; prints one JSON line.

    python tests/sl_mirrored_check.py HKL_FOLDER

test_supervised.py runs it in its own process, because logical devices must be configured before
TensorFlow initialises. It checks that one update of two replicas, each on half of a batch, equals
one single-device update on the whole batch (and evaluates the same afterwards), that a batch
with a NaN is skipped on both replicas, and makes one AlphaStar update in which each replica keeps
its own lane's LSTM state.
"""
import json
import sys

import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

import minigames  # noqa: E402,F401  (applies pysc2's Python 3.11 fix first)
import hyperparameters  # noqa: E402
import supervised  # noqa: E402
import utils  # noqa: E402

SPEC = utils.Spec(16, 16)


def one_update(strategy, config, paths, batch):
    """(weights after one update on `batch`, the global batch, from seed-0 weights; its
    statistics; the held-out evaluation after it; whether an update on the batch with a NaN
    in one replica's half left every weight as it was)."""
    keras.utils.set_random_seed(0)
    trainer = supervised.Trainer("fullyconv", SPEC, config, strategy)
    reader = supervised.TrajectoryReader(SPEC, config.step_mul)
    trainer.training_iterator(reader, paths)  # builds the train step
    trainer.close()

    def distribute(global_batch):
        # The global batch is cut into one contiguous part per replica.
        return next(iter(strategy.experimental_distribute_dataset(
            tf.data.Dataset.from_tensors(global_batch).with_options(unsharded()))))

    stats = trainer.train_step(distribute(batch))
    held_out = supervised.summarise(trainer.evaluate(reader, paths[-1:]))
    weights = [w.numpy() for w in trainer.model.trainable_weights]
    poisoned = tf.nest.map_structure(lambda a: a.copy(), batch)
    poisoned["inputs"]["screen"][-1] = np.nan  # in the last replica's half
    skipped = trainer.train_step(distribute(poisoned))["applied"] == 0.0
    unchanged = all(np.array_equal(w, v.numpy())
                    for w, v in zip(weights, trainer.model.trainable_weights))
    return weights, stats, held_out, skipped and unchanged


def unsharded():
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    return options


def main(folder):
    paths = supervised.find_trajectories(folder)
    config = hyperparameters.SLConfig(batch_size=8, lanes=2, shuffle_buffer=16, max_examples=16,
                                      log_interval=8, eval_interval=16)
    pairs = supervised.TrajectoryReader(SPEC, config.step_mul).read(paths[0])
    batch = tf.nest.map_structure(lambda a: a[:8], pairs)
    mirrored = supervised.make_strategy("mirrored")
    single_weights, single_stats, single_held_out, single_skips = one_update(
        tf.distribute.get_strategy(), config, paths, batch)
    mirrored_weights, mirrored_stats, mirrored_held_out, mirrored_skips = one_update(
        mirrored, config, paths, batch)
    difference = max(float(abs(a - b).max()) for a, b in zip(single_weights, mirrored_weights))

    # AlphaStar: one lane per replica; each replica keeps the state of its own lane.
    trainer = supervised.Trainer("alphastar", SPEC, config, mirrored)
    iterator = trainer.training_iterator(supervised.TrajectoryReader(SPEC, config.step_mul),
                                         paths)
    trainer.train_step(next(iterator))
    trainer.close()
    states = [s.numpy() for s in mirrored.experimental_local_results(trainer.state["state_h"])]
    print(json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "max_weight_difference": difference,
        "single_loss": supervised.summarise(single_stats)["total_loss"],
        "mirrored_loss": supervised.summarise(mirrored_stats)["total_loss"],
        "single_held_out_loss": single_held_out["total_loss"],
        "mirrored_held_out_loss": mirrored_held_out["total_loss"],
        "non_finite_update_skipped": bool(single_skips and mirrored_skips),
        "alphastar_replica_states_differ": bool(
            len(states) == 2 and abs(states[0] - states[1]).max() > 1e-4
            and min(abs(s).max() for s in states) > 0)}))


if __name__ == "__main__":
    main(sys.argv[1])
