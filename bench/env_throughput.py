"""Agent steps per second of the embedded engine, one JSON line per map.

(a) one `minigames.SC2Env` driven through pysc2's API (FunctionCalls in, NamedDict TimeSteps out), and
(b) the batch API at N = 1, 16, 64, 256, at screen/minimap 32 (and any other `--sizes`) with full
observations (all 27 screen and 11 minimap layers, feature units). Actions are random available
functions with random arguments, drawn before timing, so the figures measure the engine alone.

Each figure is given per second of wall time and, under `*_cpu`, per second of this process's CPU
time (what one core delivers when other work shares the machine); `load_average` is the machine's
1-minute load average before and after the map's measurements.

    python -m bench.env_throughput [--seconds 3] [--maps MoveToBeacon,DefeatRoaches]
"""
import json
import os
import time

import numpy as np
from absl import app, flags

from bench.random_policy import RandomPolicy
import minigames
from minigames import maps
from minigames.pysc2_batch_env import players
from pysc2.env import sc2_env
from pysc2.lib import actions

flags.DEFINE_float("seconds", 3.0, "Wall time to measure each configuration for.")
flags.DEFINE_list("maps", sorted(maps.MAPS), "Maps to measure.")
flags.DEFINE_list("num_envs", ["1", "16", "64", "256"], "Batch sizes to measure.")
flags.DEFINE_list("sizes", ["32"], "Screen (= minimap) resolutions to measure.")
FLAGS = flags.FLAGS


def single_env_steps_per_second(map_name, size, seconds):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=size, minimap=size), use_feature_units=True)
    env = minigames.SC2Env(map_name=map_name, players=players(map_name),
                           agent_interface_format=aif, random_seed=0)
    spec = env.action_spec()[0]
    rng = np.random.default_rng(0)
    timestep = env.reset()[0]
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        function_id = rng.choice(timestep.observation.available_actions)
        args = [[rng.integers(0, s) for s in arg.sizes] for arg in spec.functions[function_id].args]
        timestep = env.step([actions.FunctionCall(function_id, args)])[0]
        steps += 1
    return steps / (time.perf_counter() - start), steps / (time.process_time() - cpu)


def batch_steps_per_second(map_name, num_envs, size, seconds):
    env = minigames.BatchEnv(map_name=map_name, num_envs=num_envs, screen_size=size,
                             minimap_size=size, seed=0, use_feature_units=True)
    batch = env.reset()
    policy = RandomPolicy(env, np.random.default_rng(0))
    steps, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        batch, _, _ = env.step(*policy(batch))
        steps += 1
    return (steps * num_envs / (time.perf_counter() - start),
            steps * num_envs / (time.process_time() - cpu))


def main(argv):
    del argv
    for map_name in FLAGS.maps:
        result = {"benchmark": "env_throughput", "map": map_name, "cpu_count": os.cpu_count(),
                  "unit": "agent steps per second", "single_env_pysc2_api": {}, "batch_api": {},
                  "single_env_pysc2_api_cpu": {}, "batch_api_cpu": {},
                  "load_average": [round(os.getloadavg()[0], 2)]}
        for size in (int(s) for s in FLAGS.sizes):
            key = f"screen{size}"
            wall, cpu = single_env_steps_per_second(map_name, size, FLAGS.seconds)
            result["single_env_pysc2_api"][key] = round(wall)
            result["single_env_pysc2_api_cpu"][key] = round(cpu)
            for n in (int(v) for v in FLAGS.num_envs):
                wall, cpu = batch_steps_per_second(map_name, n, size, FLAGS.seconds)
                result["batch_api"][f"{key}_n{n}"] = round(wall)
                result["batch_api_cpu"][f"{key}_n{n}"] = round(cpu)
        result["load_average"].append(round(os.getloadavg()[0], 2))
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    app.run(main)
