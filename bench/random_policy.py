"""The random player of the engine benchmarks: a random available function with random arguments.

The draws are made up front (a pool of `pool` steps, reused in turn), so a timed loop spends its
time in the engine, not in the generator: each step takes the available function of highest random
priority and random indices for every argument type.
"""
import numpy as np
from pysc2.lib import actions


class RandomPolicy:
    """batch -> (function ids [N], argument indices [N, arg types]) for a `BatchEnv`."""

    def __init__(self, env, rng, pool=16):
        n = env.num_envs
        self.arguments = np.stack([rng.integers(0, max(s, 1), size=(pool, n))
                                   for s in env.arg_sizes], -1)
        self.priorities = rng.random((pool, n, len(actions.FUNCTIONS)))
        self.steps = 0

    def __call__(self, batch):
        k = self.steps % len(self.priorities)
        self.steps += 1
        return (self.priorities[k] * batch["available_actions"]).argmax(axis=1), self.arguments[k]
