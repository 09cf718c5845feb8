"""Where the embedded engine's time goes, one JSON line per map and scenario.

The batch API at `--num_envs` games and screen/minimap `--size` with full observations (as
`bench.env_throughput`) is stepped for `--steps` agent steps, first plainly (its rate per second of
this process's CPU time) and then under cProfile, whose cumulative times give each part's share of
the step: the systems of a game loop (combat, economy, production, movement), drawing the
observation (with the available-actions mask), and carrying out the actions; "other" is the rest
(the map's script, the ground grids, resets, the step's own bookkeeping).

Scenarios: `random` takes random available functions with random arguments (env_throughput's
actions); `mining` orders every worker of every game to gather the field nearest to it and then
sends no_op, which is what a game played well costs (every SCV in the harvest cycle).

    python -m bench.engine_profile [--maps CollectMineralsAndGas,BuildMarines] [--num_envs 64]
"""
import cProfile
import json
import os
import pstats
import time

import numpy as np
from absl import app, flags

from bench.random_policy import RandomPolicy
import minigames
from minigames import economy

flags.DEFINE_list("maps", ["CollectMineralsAndGas", "BuildMarines", "MoveToBeacon"],
                  "Maps to profile.")
flags.DEFINE_list("scenarios", ["random", "mining"], "random, mining.")
flags.DEFINE_integer("num_envs", 64, "Games stepped together.")
flags.DEFINE_integer("size", 32, "Screen and minimap resolution.")
flags.DEFINE_integer("steps", 150, "Agent steps measured (after 20 to warm up).")
FLAGS = flags.FLAGS

# Part of a step -> the function (file name, function name) whose cumulative time it is.
PARTS = {
    "combat": ("combat.py", "tick"), "economy": ("economy.py", "tick"),
    "production": ("production.py", "tick"), "movement": ("movement.py", "tick"),
    "observe": ("observe.py", "observe"), "actions": ("interface.py", "apply"),
}


def make_policy(env, scenario):
    """A function batch -> (function ids, argument indices) for the scenario."""
    n = env.num_envs

    def no_op(batch):
        return np.zeros(n, np.int64), np.full((n, len(env.arg_sizes)), -1)

    return RandomPolicy(env, np.random.default_rng(0)) if scenario == "random" else no_op


def send_workers_to_mine(game):
    """Every worker gathers the mineral field nearest to it (set-up, once)."""
    world = game.world
    env, worker = np.nonzero(world.alive & economy.TABLE.is_worker[world.unit_type])
    fields = world.alive & economy.IS_MINERAL_FIELD[world.unit_type]
    nearest = [np.flatnonzero(fields[e])[np.argmin(np.hypot(
        *(world.pos[e, fields[e]] - world.pos[e, w]).T))] for e, w in zip(env, worker)]
    economy.gather(game, env, worker, np.array(nearest, np.int64))


def run(env, policy, batch, steps):
    for _ in range(steps):
        batch, _, _ = env.step(*policy(batch))
    return batch


def profile(map_name, scenario):
    env = minigames.BatchEnv(map_name=map_name, num_envs=FLAGS.num_envs, screen_size=FLAGS.size,
                             minimap_size=FLAGS.size, seed=0, use_feature_units=True)
    batch = env.reset()
    if scenario == "mining":
        send_workers_to_mine(env.core)
    policy = make_policy(env, scenario)
    batch = run(env, policy, batch, 20)
    start = time.process_time()
    batch = run(env, policy, batch, FLAGS.steps)
    rate = FLAGS.steps * FLAGS.num_envs / (time.process_time() - start)
    profiler = cProfile.Profile()
    profiler.enable()
    run(env, policy, batch, FLAGS.steps)
    profiler.disable()
    stats = pstats.Stats(profiler).stats
    step_time = next(cumulative for (path, _, name), (_, _, _, cumulative, _) in stats.items()
                     if path.endswith("batch_env.py") and name == "step")
    shares = {}
    for part, (file_name, function) in PARTS.items():
        shares[part] = round(100 * sum(
            cumulative for (path, _, name), (_, _, _, cumulative, _) in stats.items()
            if path.endswith(os.sep + file_name) and name == function) / step_time, 1)
    shares["other"] = round(100 - sum(shares.values()), 1)
    world = env.core.world
    return {"benchmark": "engine_profile", "map": map_name, "scenario": scenario,
            "num_envs": FLAGS.num_envs, "screen": FLAGS.size,
            "cpu_agent_steps_per_second": round(rate),
            "cpu_ms_per_batch_step": round(1000 * FLAGS.num_envs / rate, 2),
            "percent_of_step": shares,
            "units_per_game": round(float(world.alive.sum(axis=1).mean()), 1),
            "load_average": round(os.getloadavg()[0], 2)}


def main(argv):
    del argv
    for map_name in FLAGS.maps:
        for scenario in FLAGS.scenarios:
            if scenario == "mining" and map_name not in ("CollectMineralsAndGas",
                                                         "BuildMarines"):
                continue
            print(json.dumps(profile(map_name, scenario)), flush=True)


if __name__ == "__main__":
    app.run(main)
