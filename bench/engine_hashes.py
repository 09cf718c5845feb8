"""Fingerprints of the embedded engine's games, one JSON line per map: what a speed-up must not change.

Each map is played by `--num_envs` environments of `BatchEnv` (screen and minimap 32, feature
units, seed `--seed`; Simple64 against its built-in bot) for `--steps` agent steps of random
available functions with random arguments (`bench.random_policy`, drawn from a fixed generator,
new draws at every step). Two SHA-256 digests are printed per map:

* `observations`: every array of every step's observation, the rewards and the done flags;
* `world`: every state array of the world (positions, hit points, orders, cooldowns, ...) after
  every step.

Run it on two versions of the engine and compare the lines: a change that keeps the games
bit-identical prints the same digests.

    python -m bench.engine_hashes [--maps DefeatRoaches,Simple64] [--steps 400] [--num_envs 8]
"""
import hashlib
import json

import numpy as np
from absl import app, flags

from bench.random_policy import RandomPolicy
import minigames
from minigames import maps

flags.DEFINE_list("maps", list(maps.MAPS), "Maps to play.")
flags.DEFINE_integer("steps", 400, "Agent steps per map.")
flags.DEFINE_integer("num_envs", 8, "Environments per map.")
flags.DEFINE_integer("seed", 0, "Seed of the games and of the random actions.")
FLAGS = flags.FLAGS


def update(digest, array):
    """Add an array's dtype, shape and bytes to a hashlib digest."""
    array = np.ascontiguousarray(array)
    digest.update(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array.tobytes())


def fingerprint(map_name, num_envs, steps, seed):
    env = minigames.BatchEnv(map_name=map_name, num_envs=num_envs, screen_size=32,
                             minimap_size=32, seed=seed, use_feature_units=True)
    policy = RandomPolicy(env, np.random.default_rng(seed), pool=steps)  # new draws every step
    observations, world = hashlib.sha256(), hashlib.sha256()
    batch = env.reset()
    total_reward, games_ended = 0.0, 0
    for _ in range(steps):
        for name in sorted(batch):
            update(observations, batch[name])
        batch, reward, done = env.step(*policy(batch))
        update(observations, reward)
        update(observations, done)
        state = env.core.world.get_state()
        for name in sorted(state):
            update(world, state[name])
        total_reward += float(reward.sum())
        games_ended += int(done.sum())
    return {"benchmark": "engine_hashes", "map": map_name, "num_envs": num_envs, "steps": steps,
            "seed": seed, "total_reward": total_reward, "games_ended": games_ended,
            "observations": observations.hexdigest(), "world": world.hexdigest()}


def main(argv):
    del argv
    for map_name in FLAGS.maps:
        print(json.dumps(fingerprint(map_name, FLAGS.num_envs, FLAGS.steps, FLAGS.seed)),
              flush=True)


if __name__ == "__main__":
    app.run(main)
