"""Agent steps per second of V-trace training with 1 and 2 Ray actors, next to A2C in one
process, measured side by side in one run; prints one JSON line.

    python -m bench.distributed_throughput                        # FullyConv, 16x16, 16 games
    python -m bench.distributed_throughput --rounds 3 --measure_steps 40960

Each round measures the three settings in turn (A2C in this process, then 1 actor, then 2
actors), each training FullyConv (or --model_name) from scratch with run.py's defaults
(--num_envs games per actor, --n_steps per unroll): after --warmup_steps agent steps (and once
every actor has delivered an unroll: starting actors and tracing are not measured), the agent
steps trained on per second of wall time over the next --measure_steps, acting and learning
together. The JSON line holds each setting's median over the rounds, every round's figure, the
ratio of 2 actors to 1, and the machine's load average before and after (other work on the
machine slows every setting). One local Ray, with as many CPUs as the machine has cores, serves
every measurement.
"""
import dataclasses
import json
import os
import statistics
import time

import keras
import ray
import tensorflow as tf
from absl import app, flags

import agent as agent_lib
import cli_flags
import distributed
import hyperparameters
import loops
import network
import utils

flags.DEFINE_integer("rounds", 2, "Rounds of the three measurements.")
flags.DEFINE_integer("warmup_steps", 4096, "Agent steps trained on before measuring.")
flags.DEFINE_integer("measure_steps", 20480, "Agent steps trained on while measuring.")
FLAGS = flags.FLAGS

SETTINGS = ("a2c_one_process", "actors_1", "actors_2")


def steps_per_second(step, ready):
    """Call step() (it returns the agent steps so far) past the warm-up, then time
    --measure_steps more."""
    steps = 0
    while steps < FLAGS.warmup_steps or not ready():
        steps = step()
    start_steps, start = steps, time.time()
    while steps < start_steps + FLAGS.measure_steps:
        steps = step()
    return (steps - start_steps) / (time.time() - start)


def fresh_model(spec):
    keras.utils.set_random_seed(FLAGS.seed)
    return network.make_model(FLAGS.model_name, spec)


def measure_a2c(spec, config):
    model = fresh_model(spec)
    agent = agent_lib.A2CAgent(model, config)
    env = loops.make_batch_env("embedded", FLAGS.environment, FLAGS.num_envs, spec,
                               FLAGS.step_mul, FLAGS.seed, model.uses_feature_units)
    runner = loops.Runner(env, agent, spec)

    def step():
        agent.train(runner.collect(config.n_steps))
        return runner.agent_steps

    try:
        return steps_per_second(step, ready=lambda: True)
    finally:
        env.close()


def measure_actors(actors, spec, config):
    agent = agent_lib.VTraceAgent(fresh_model(spec),
                                  hyperparameters.VTraceConfig(**dataclasses.asdict(config)))
    learner = distributed.Learner(
        agent, distributed.DistributedConfig(actors=actors, envs_per_actor=FLAGS.num_envs),
        FLAGS.environment, FLAGS.step_mul, FLAGS.seed,
        distributed.learner_device(tf.config.list_logical_devices("GPU")))

    def step():
        learner.step()
        return learner.agent_steps

    try:
        return steps_per_second(step, ready=lambda: all(learner.processes))
    finally:
        learner.close()


def main(argv):
    del argv
    loops.configure_devices(FLAGS.gpu_use)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    config = cli_flags.a2c_config_from_flags()
    ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False)
    load_before = os.getloadavg()[0]
    figures = {setting: [] for setting in SETTINGS}
    try:
        for _ in range(FLAGS.rounds):
            figures["a2c_one_process"].append(measure_a2c(spec, config))
            figures["actors_1"].append(measure_actors(1, spec, config))
            figures["actors_2"].append(measure_actors(2, spec, config))
    finally:
        ray.shutdown()
    medians = {setting: round(statistics.median(values), 1) for setting, values in figures.items()}
    print(json.dumps({
        "model_name": FLAGS.model_name, "screen_size": FLAGS.screen_size,
        "games_per_actor": FLAGS.num_envs, "n_steps": FLAGS.n_steps, "cores": os.cpu_count(),
        "rounds": FLAGS.rounds, "measure_steps": FLAGS.measure_steps,
        "steps_per_second": medians,
        "per_round": {setting: [round(v, 1) for v in values]
                      for setting, values in figures.items()},
        "ratio_2_to_1_actors": round(medians["actors_2"] / medians["actors_1"], 2),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }))


if __name__ == "__main__":
    app.run(main, flags_parser=cli_flags.parse_flags)
