"""N pysc2 environments (StarCraft II, or anything with pysc2's interface) behind `BatchEnv`'s API.

    envs = [sc2_env.SC2Env(**env_kwargs("MoveToBeacon", 16, 16, 8, False, seed + i))
            for i in range(4)]
    env = PySC2BatchEnv(envs, screen_size=16, minimap_size=16)

Index actions in (`minigames/action_format.py`), one batch-format observation out
(`minigames/batch_format.py`), finished games restarted at once, as the embedded engine's
`BatchEnv` does. The games are stepped in parallel threads: a real StarCraft II game runs in a
process of its own, so the threads only wait.
"""
import concurrent.futures

import numpy as np
from pysc2 import maps
from pysc2.env import sc2_env

from minigames import action_format, batch_format

RACES = ("terran", "zerg", "protoss", "random")
# The built-in opponent of maps with two players, as the replicated project chose it.


def players(map_name, player_1="terran", player_2="terran", difficulty="very_easy"):
    """pysc2 players of `map_name`: the agent of race `player_1`, and on maps with two players a
    built-in bot of race `player_2` and `difficulty` (races and difficulties by pysc2 name:
    terran, zerg, protoss, random; very_easy, easy, medium, ...)."""
    agent = sc2_env.Agent(sc2_env.Race[player_1])
    if maps.get(map_name).players >= 2:
        return [agent, sc2_env.Bot(sc2_env.Race[player_2], sc2_env.Difficulty[difficulty])]
    return [agent]


def env_kwargs(map_name, screen_size, minimap_size, step_mul, use_feature_units, seed,
               visualize=False, player_1="terran", player_2="terran", replay_dir=None,
               save_replay_episodes=0, difficulty="very_easy"):
    """Keyword arguments of pysc2's SC2Env (and of the embedded engine's and pysc2's mock)."""
    return dict(
        map_name=map_name, players=players(map_name, player_1, player_2, difficulty),
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=screen_size, minimap=minimap_size),
            use_feature_units=use_feature_units),
        step_mul=step_mul, random_seed=seed, visualize=visualize, replay_dir=replay_dir,
        save_replay_episodes=save_replay_episodes)


class PySC2BatchEnv:
    """N pysc2 environments stepped together (see the module docstring).

    Args:
      envs: pysc2 environments of one agent each, with feature layers of the sizes below.
      screen_size, minimap_size: square feature layer sizes (they decode spatial indices).
    """

    def __init__(self, envs, screen_size, minimap_size):
        self.envs = list(envs)
        self.num_envs = len(self.envs)
        self.screen_size = screen_size
        self.minimap_size = minimap_size
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=self.num_envs)

    def reset(self):
        timesteps = list(self._pool.map(lambda env: env.reset()[0], self.envs))
        return batch_format.stack_observations([t.observation for t in timesteps])

    def step(self, function_ids, arg_indices):
        def step_one(i):
            call = action_format.to_function_call(function_ids[i], arg_indices[i],
                                                  self.screen_size, self.minimap_size)
            timestep = self.envs[i].step([call])[0]
            if not timestep.last():
                return timestep.observation, timestep.reward, False
            return self.envs[i].reset()[0].observation, timestep.reward, True

        observations, rewards, dones = zip(*self._pool.map(step_one, range(self.num_envs)))
        return (batch_format.stack_observations(observations),
                np.asarray(rewards, np.float32), np.asarray(dones, bool))

    def get_state(self):
        """None: a game of StarCraft II cannot be saved, so a training checkpoint holds no games
        and a resumed run starts new ones (`set_state(None)` is `reset()`)."""
        return None

    def set_state(self, state):
        del state  # always None (get_state)
        return self.reset()

    def close(self):
        self._pool.shutdown()
        for env in self.envs:
            env.close()
