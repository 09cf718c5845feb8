"""Where one A2C iteration's time goes: preprocessing, acting, the engine, the update; prints
one JSON line.

    python -m bench.a2c_profile                              # this tree, run.py's defaults
    python -m bench.a2c_profile --baseline_commit 27f599d    # and that commit, side by side

An iteration is what `loops.train` does between two updates: --n_steps agent steps of --num_envs
games (each: `utils.preprocess`, the agent's policy step, the engine's step), V(s_T), then one
update. After --warmup iterations (tracing), --iterations are timed by part, in milliseconds per
256 agent steps, both in wall time and in this process's CPU time (every thread's; on a machine
shared with other work, CPU time is the steadier figure). With --baseline_commit, the same
measurement (this file, copied into that commit's files) runs first on the commit, then here;
the JSON line holds both and the ratios baseline / this of the totals.
"""
import json
import os
import shutil
import sys
import time

import keras
import numpy as np
from absl import app, flags

import agent as agent_lib
import cli_flags
import loops
import network
import utils
from bench import baseline

cli_flags.define_flags()
flags.DEFINE_integer("iterations", 30, "Iterations measured.")
flags.DEFINE_integer("warmup", 3, "Iterations run before measuring.")
flags.DEFINE_string("baseline_commit", None, "Also measure this commit, first.")
FLAGS = flags.FLAGS

PARTS = ("preprocess", "act", "engine", "update")


class Clock:
    """Adds the wall and CPU seconds of each `with clock(part):` block to that part."""

    def __init__(self):
        self.wall = dict.fromkeys(PARTS, 0.0)
        self.cpu = dict.fromkeys(PARTS, 0.0)
        self.part = None

    def __call__(self, part):
        self.part = part
        return self

    def __enter__(self):
        self.start = time.perf_counter(), time.process_time()

    def __exit__(self, *exception):
        self.wall[self.part] += time.perf_counter() - self.start[0]
        self.cpu[self.part] += time.process_time() - self.start[1]


def iteration(runner, agent, spec, n_steps, clock):
    """loops.Runner.collect and agent.train, timed by part."""
    initial_state = runner.state
    steps = []
    for _ in range(n_steps):
        with clock("preprocess"):
            inputs = utils.preprocess(runner.observation, spec)
        with clock("act"):
            function_id, arg_indices, _, runner.state = agent.step(inputs, runner.reset,
                                                                   runner.state)
        with clock("engine"):
            runner.observation, reward, done = runner.env.step(function_id, arg_indices)
        steps.append((inputs, runner.reset, function_id, arg_indices, reward, done))
        runner.reset = done.astype(np.float32)
    with clock("preprocess"):
        last = utils.preprocess(runner.observation, spec)
    with clock("act"):
        bootstrap_value = agent.value(last, runner.reset, runner.state)
    with clock("update"):
        inputs, reset, function_id, arg_indices, reward, done = zip(*steps)
        agent.train(agent_lib.Rollout(
            inputs={name: np.concatenate([step[name] for step in inputs]) for name in inputs[0]},
            reset=np.concatenate(reset), function_id=np.concatenate(function_id),
            arg_indices=np.concatenate(arg_indices), rewards=np.stack(reward),
            dones=np.stack(done).astype(np.float32), bootstrap_value=bootstrap_value,
            initial_state=initial_state))


def measure():
    keras.utils.set_random_seed(FLAGS.seed)
    spec = utils.Spec(FLAGS.screen_size, FLAGS.minimap_size)
    model = network.make_model(FLAGS.model_name, spec)
    config = cli_flags.a2c_config_from_flags()
    agent = agent_lib.A2CAgent(model, config, seed=FLAGS.seed)
    env = loops.make_batch_env("embedded", FLAGS.environment, FLAGS.num_envs, spec, FLAGS.step_mul,
                               FLAGS.seed, model.uses_feature_units)
    runner = loops.Runner(env, agent, spec)
    for _ in range(FLAGS.warmup):
        iteration(runner, agent, spec, config.n_steps, Clock())
    clock = Clock()
    for _ in range(FLAGS.iterations):
        iteration(runner, agent, spec, config.n_steps, clock)
    per_256 = 256 * 1000 / (FLAGS.iterations * config.n_steps * FLAGS.num_envs)
    figures = {"num_envs": FLAGS.num_envs, "n_steps": config.n_steps,
               "model_name": FLAGS.model_name, "screen_size": FLAGS.screen_size}
    for kind, seconds in (("wall", clock.wall), ("cpu", clock.cpu)):
        figures[f"{kind}_ms_per_256_steps"] = {part: round(seconds[part] * per_256, 1)
                                               for part in PARTS}
        figures[f"{kind}_ms_per_256_steps"]["total"] = round(sum(seconds.values()) * per_256, 1)
    figures["load_average"] = round(os.getloadavg()[0], 2)
    return figures


def main(argv):
    del argv
    if not FLAGS.baseline_commit:
        print(json.dumps(measure()))
        return
    with baseline.extracted(FLAGS.baseline_commit) as tree:
        for module in (__file__, baseline.__file__):  # the same measuring code there
            shutil.copy(module, os.path.join(tree, "bench"))
        before = baseline.run_json(tree, "bench.a2c_profile",
                                   baseline.forwarded_flags(sys.argv, ("baseline_commit",)))
    this = measure()
    print(json.dumps({
        "baseline_commit": FLAGS.baseline_commit, "baseline": before, "this": this,
        "wall_ratio": round(before["wall_ms_per_256_steps"]["total"]
                            / this["wall_ms_per_256_steps"]["total"], 2),
        "cpu_ratio": round(before["cpu_ms_per_256_steps"]["total"]
                           / this["cpu_ms_per_256_steps"]["total"], 2),
    }))


if __name__ == "__main__":
    app.run(main, flags_parser=cli_flags.parse_flags)
