"""Agent steps and wall time for A2C (or V-trace on Ray actors) to reach a 100-episode mean
score; prints one JSON line.

    python -m bench.train_to_score --model_name fullyconv --target 25 --seed 1
    python -m bench.train_to_score --model_name alphastar --target 20 --max_agent_steps 2000000
    python -m bench.train_to_score --actors 2 --target 25 --seed 1     # V-trace, distributed.py
    python -m bench.train_to_score --baseline_commit 27f599d --seed 1  # that commit, then this
    python -m bench.train_to_score --environment DefeatRoaches --target 1e9 --max_agent_steps 100000

Trains from scratch with run.py's defaults (every run.py flag applies, e.g. --num_envs, which is
per actor with --actors) on the embedded engine, and stops when the mean of the last 100 episode
scores reaches --target or the budget --max_agent_steps is spent. With --actors K, a local Ray is
started (or --ray_address joined), and the wall time includes starting it and the actors. The
JSON line holds the agent steps and wall seconds at which the target was reached (null if it was
not), the final 100-episode mean and the agent steps per second over the whole run (acting and
learning), the mean and standard deviation of the last 100 episode scores at the end, and the
machine's load average at the end (other work on the machine slows the wall time; the agent steps
are not affected). Nothing is saved; TensorBoard logs go to a temporary folder unless
--tensorboard_path is absolute.

With --baseline_commit, the same command (without that flag) first runs on that commit's files
(`bench/baseline.py`), then here; the JSON line holds both results and the ratios baseline / this
of the wall time and of the agent steps to the target, and of the whole run's wall time (for a
run with a budget instead of a target).
"""
import dataclasses
import json
import os
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

import agent as agent_lib
import checkpoints
import cli_flags
import distributed
import hyperparameters
import loops
import network
import utils
from bench import baseline

cli_flags.define_flags()
flags.DEFINE_float("target", 25.0, "100-episode mean score to reach.")
flags.DEFINE_string("learning_curve", None, "Also write the run's learning curve to this PNG.")
flags.DEFINE_string("save_weights", None, "Also save the final weights to this .weights.h5 path.")
flags.DEFINE_string("baseline_commit", None, "First run the same command on this commit's files "
                    "and report both side by side.")
FLAGS = flags.FLAGS


def main(argv):
    del argv
    if FLAGS.baseline_commit:
        with baseline.extracted(FLAGS.baseline_commit) as tree:
            before = baseline.run_json(tree, "bench.train_to_score",
                                       baseline.forwarded_flags(sys.argv, ("baseline_commit",)))
        this = train_to_score()
        print(json.dumps({"baseline_commit": FLAGS.baseline_commit, "baseline": before,
                          "this": this,
                          "wall_time_ratio": ratio(before["seconds_to_target"],
                                                   this["seconds_to_target"]),
                          "agent_steps_ratio": ratio(before["agent_steps_to_target"],
                                                     this["agent_steps_to_target"]),
                          "whole_run_wall_time_ratio": ratio(before["seconds"],
                                                             this["seconds"])}))
    else:
        print(json.dumps(train_to_score()))


def ratio(baseline_figure, figure):
    """baseline / this, or None when either did not reach the target."""
    if baseline_figure is None or figure is None:
        return None
    return round(baseline_figure / figure, 2)


def train_to_score():
    """Train as the flags say; returns the figures of the JSON line."""
    loops.configure_devices(FLAGS.gpu_use)
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    model = network.make_model(FLAGS.model_name, spec)
    config = cli_flags.a2c_config_from_flags()
    algorithm = "V-trace" if FLAGS.actors else "A2C"
    with tempfile.TemporaryDirectory() as scratch:
        log_dir = os.path.join(scratch, FLAGS.tensorboard_path)
        start = time.time()
        if FLAGS.actors:  # the Learner has the Runner's finished_episodes, agent_steps, ...
            runner = distributed.train(
                model, hyperparameters.VTraceConfig(**dataclasses.asdict(config)),
                distributed.DistributedConfig(actors=FLAGS.actors,
                                              envs_per_actor=FLAGS.num_envs),
                FLAGS.environment, FLAGS.step_mul, FLAGS.seed, FLAGS.max_agent_steps, log_dir,
                FLAGS.log_interval, target_mean=FLAGS.target, ray_address=FLAGS.ray_address)
        else:
            agent = agent_lib.A2CAgent(model, config, seed=FLAGS.seed)
            env = loops.make_batch_env("embedded", FLAGS.environment, FLAGS.num_envs, spec,
                                       FLAGS.step_mul, FLAGS.seed, model.uses_feature_units)
            writer = tf.summary.create_file_writer(log_dir)
            runner = loops.train(agent, env, spec, config, FLAGS.max_agent_steps, writer,
                                 FLAGS.log_interval, target_mean=FLAGS.target)
            writer.close()
        seconds = time.time() - start
    if FLAGS.learning_curve and runner.finished_episodes:
        loops.write_learning_curve(runner.finished_episodes, runner.finished_at,
                                   FLAGS.learning_curve, f"{algorithm} {FLAGS.model_name} on "
                                   f"{FLAGS.environment}, seed {FLAGS.seed}")
    mean = runner.recent_mean()
    if FLAGS.save_weights:
        checkpoints.save_model(model, FLAGS.save_weights, checkpoints.model_description(
            model.name, FLAGS.environment, spec, FLAGS.seed, config=dataclasses.asdict(config),
            agent_steps=runner.agent_steps, mean_reward_100=mean))
    reached = len(runner.finished_episodes) >= loops.MEAN_WINDOW and mean >= FLAGS.target
    last_100 = runner.finished_episodes[-loops.MEAN_WINDOW:]
    return {
        "algorithm": algorithm, "actors": FLAGS.actors,
        "model_name": FLAGS.model_name, "target": FLAGS.target, "seed": FLAGS.seed,
        "screen_size": FLAGS.screen_size, "num_envs": FLAGS.num_envs,
        "reached": bool(reached),
        "agent_steps_to_target": runner.agent_steps if reached else None,
        "seconds_to_target": round(seconds, 1) if reached else None,
        "agent_steps": runner.agent_steps, "seconds": round(seconds, 1),
        "environment": FLAGS.environment,
        "final_mean_100": None if mean is None else round(mean, 2),
        "final_std_100": round(float(np.std(last_100)), 2) if last_100 else None,
        "episodes": len(runner.finished_episodes),
        "steps_per_second": round(runner.agent_steps / seconds, 1),
        "max_score_last_100": float(np.max(last_100)) if last_100 else None,
        "load_average": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    app.run(main, flags_parser=cli_flags.parse_flags)
