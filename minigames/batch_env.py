"""The engine's batch API: N games stepped together, index actions in, batch-format observations out.

Actions are what the network emits (DESIGN.md, "One action format"): a function id per environment
and an [N, 13] array with one index per pysc2 argument type, -1 where the function does not use the
argument. A spatial index is y * width + x.

Finished games restart at once: the observation returned for an environment whose `done` is True
is the first observation of its next game, so a training loop never waits on a reset.

The observation arrays are reused: each `step` and `reset` overwrites the previous batch in place,
which is what makes the engine fast. Copy (or preprocess) what you need to keep.

`get_state()` and `set_state(state)` save and restore every game exactly (a training checkpoint
holds them). With `save_replay_episodes=k`, every k-th game of each environment is written to
`replay_dir` as a `minigames.replay` file, as `SC2Env` writes its own (`stop_recording` ends that
for chosen environments). With `keep_final_observations=True`, a step that ends games also keeps
the batch as it was before they restarted (`final_observation`), for callers that show an agent
its game's last step, as pysc2's `run_loop` does.
"""
import copy

import numpy as np
from pysc2 import maps as pysc2_maps
from pysc2.lib import actions

from minigames import maps
from minigames.action_format import NUM_ARG_TYPES, USES_ARG, argument_sizes, indices_to_values
from minigames.game import Game, View
from minigames.sc2_env import write_replay


class BatchEnv:
    """N embedded games of one map.

    Args:
      map_name: a map of `minigames.maps.MAPS`.
      num_envs: N.
      screen_size, minimap_size: an int (square) or (width, height) of the feature layers.
      step_mul: game loops per agent step.
      seed: environment i uses seed + i, so it plays exactly the games of
        `SC2Env(random_seed=seed + i)`; None draws fresh seeds.
      use_feature_units: add `feature_units` to the observations.
      game_steps_per_episode: end games earlier than the map's timer (0/None: the map's).
      replay_dir, save_replay_episodes: write every `save_replay_episodes`-th finished game of
        each environment as a replay into `replay_dir` (0: none).
      opponent: on two-player maps (Simple64), the difficulty of the built-in AI that plays
        player 2 (a key of `minigames.bots.DIFFICULTIES`). The reward is then pysc2's outcome:
        +1 for a win, -1 for a loss, 0 otherwise, on the game's last step.
      keep_final_observations: after a step that ends games, `final_observation` is a copy of
        the batch observed before they restarted (its rows of the `done` environments are their
        games' last observations); None after other steps.
    """

    def __init__(self, map_name="MoveToBeacon", num_envs=1, screen_size=32, minimap_size=32,
                 step_mul=None, seed=None, use_feature_units=False, camera_width=24.0,
                 game_steps_per_episode=None, replay_dir=None, save_replay_episodes=0,
                 opponent="very_easy", keep_final_observations=False):
        script = maps.get(map_name)  # ValueError naming the maps there are
        step_mul = script.step_mul if step_mul is None else step_mul
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}.")
        if step_mul < 1:
            raise ValueError(f"step_mul should be positive, got {step_mul}.")
        if save_replay_episodes < 0:
            raise ValueError(f"save_replay_episodes must be 0 or more, got {save_replay_episodes}.")
        if save_replay_episodes and not replay_dir:
            raise ValueError("Missing replay_dir")
        self.num_envs = num_envs
        self.screen_size = _size(screen_size)
        self.minimap_size = _size(minimap_size)
        self.step_mul = int(step_mul)
        self.map_name = script.name
        self.episode_loops = script.episode_loops
        if game_steps_per_episode:
            self.episode_loops = min(self.episode_loops, int(game_steps_per_episode))
        seeds = None if seed is None else [seed + i for i in range(num_envs)]
        self.bots = {2: opponent} if script.players == 2 else {}
        self.outcome_reward = pysc2_maps.get(script.name).score_index < 0
        self.core = Game(map_name, num_envs, View(self.screen_size, self.minimap_size,
                                                  camera_width, use_feature_units), seeds,
                         bots=self.bots)
        self.arg_sizes = argument_sizes(self.screen_size, self.minimap_size)
        self._end_loop = np.full(num_envs, self.episode_loops, np.int64)
        self._fresh = True  # the core starts with its first games drawn
        self.camera_width = camera_width
        self.replay_dir = replay_dir
        self.save_replay_episodes = save_replay_episodes
        # The actions of each environment's current game, as replays store them (when recording).
        self._game_actions = [[] for _ in range(num_envs)]
        self._recording = np.full(num_envs, save_replay_episodes > 0)
        self.keep_final_observations = keep_final_observations
        self.final_observation = None

    def reset(self):
        """Restart every game; returns the batch of first observations."""
        if not self._fresh:
            self.core.reset(np.arange(self.num_envs))
            self._game_actions = [[] for _ in range(self.num_envs)]
        self._fresh = False
        return self.core.observe()

    def step(self, function_ids, arg_indices):
        """One agent step in every environment.

        Returns:
          (observations, reward [N] float32, done [N] bool); see the module docstring for resets.
        """
        function_ids = np.asarray(function_ids, np.int64)
        arg_indices = np.asarray(arg_indices, np.int64)
        self.check_actions(function_ids, arg_indices)
        self._fresh = False
        values = self.index_to_values(arg_indices)
        if self.save_replay_episodes:
            self._record_actions(function_ids, values)
        self.core.apply(function_ids, values)
        previous_score = self.core.score.copy()
        first_step = self.core.game_loop == 0
        self.core.advance(self.step_mul, self._end_loop)
        done = (self.core.game_loop >= self._end_loop) | self.core.over()
        if self.outcome_reward:
            reward = np.where(done, self.core.map.outcome(self.core)[:, 0], 0).astype(np.float32)
        else:
            # pysc2 pays no reward on the first step after a reset (its score baseline is still
            # taken).
            reward = np.where(first_step, 0, self.core.score - previous_score).astype(np.float32)
        self.final_observation = None
        if done.any():
            finished = np.flatnonzero(done)
            if self.keep_final_observations:
                self.final_observation = {key: array.copy()
                                          for key, array in self.core.observe().items()}
            if self.save_replay_episodes:
                self._write_replays(finished)
            self.core.reset(finished)
        return self.core.observe(), reward, done

    # ------------------------------------------------------------------------------ state
    def get_state(self):
        """A picklable copy of everything the next steps depend on (every game, the actions of
        the games being recorded); `set_state` continues from it exactly."""
        return {"core": self.core.get_state(), "fresh": self._fresh,
                "game_actions": copy.deepcopy(self._game_actions),
                "recording": self._recording.copy()}

    def set_state(self, state):
        """Continue from a `get_state()` of a BatchEnv with as many environments; returns the
        observation of the restored games (as `reset` returns the first one)."""
        self.core.set_state(state["core"])
        self._fresh = state["fresh"]
        self._game_actions = copy.deepcopy(state["game_actions"])
        # (checkpoints written before stop_recording existed recorded every environment)
        self._recording[:] = state.get("recording", self.save_replay_episodes > 0)
        return self.core.observe()

    # ---------------------------------------------------------------------------- replays
    def stop_recording(self, rows):
        """Write no replay of the current or later games of environments `rows` (a caller that
        needs a fixed number of games lets the others play on unrecorded)."""
        self._recording[rows] = False
        for i in np.atleast_1d(rows):
            self._game_actions[i] = []

    def _record_actions(self, function_ids, values):
        # As SC2Env records them: the game loop, the function and its [13, 2] values (-1 where the
        # function takes no argument of that type); no_op is not recorded.
        values = np.where(USES_ARG[function_ids][..., None], values, -1)
        for i in np.flatnonzero((function_ids != 0) & self._recording):
            self._game_actions[i].append(
                [int(self.core.game_loop[i]), int(function_ids[i]), values[i].tolist()])

    def _write_replays(self, finished):
        """Write the replays of the finished games due one (before their environments reset)."""
        for i in finished:
            game_index = int(self.core.episode[i]) - 1
            if self._recording[i] and (game_index + 1) % self.save_replay_episodes == 0:
                seed = self.core.seeds[i]
                write_replay(
                    self.replay_dir, f"{self.map_name}_seed{seed}_game{game_index}",
                    map_name=self.map_name, random_seed=seed, game_index=game_index,
                    step_mul=self.step_mul, screen_size=self.screen_size,
                    minimap_size=self.minimap_size, camera_width=self.camera_width,
                    game_loops=int(self.core.game_loop[i]), score=int(self.core.score[i]),
                    actions=self._game_actions[i], bots=self.bots,
                    outcome=int(self.core.map.outcome(self.core)[i, 0]))
            self._game_actions[i] = []

    def check_actions(self, function_ids, arg_indices):
        """Raise ValueError naming the first environment whose action the game would refuse."""
        n = self.num_envs
        if function_ids.shape != (n,) or arg_indices.shape != (n, NUM_ARG_TYPES):
            raise ValueError(f"Expected function ids of shape ({n},) and argument indices of shape "
                             f"({n}, {NUM_ARG_TYPES}); got {function_ids.shape} and "
                             f"{arg_indices.shape}.")
        bad = (function_ids < 0) | (function_ids >= len(actions.FUNCTIONS))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"Invalid function id: {function_ids[i]} (environment {i}).")
        unavailable = ~self.core.available()[np.arange(n), function_ids]
        if unavailable.any():
            i = int(np.flatnonzero(unavailable)[0])
            func = actions.FUNCTIONS[function_ids[i]]
            raise ValueError(f"Function {func.id}/{func.name} is currently not available "
                             f"(environment {i}).")
        used = USES_ARG[function_ids]
        out_of_range = used & ((arg_indices < 0) | (arg_indices >= self.arg_sizes))
        if out_of_range.any():
            i, t = (int(v) for v in np.argwhere(out_of_range)[0])
            raise ValueError(f"Argument {actions.TYPES[t].name} is out of range for "
                             f"{actions.FUNCTIONS[function_ids[i]].name}, got: {arg_indices[i, t]} "
                             f"(environment {i}).")

    def index_to_values(self, arg_indices):
        """[N, 13] indices -> [N, 13, 2] values: points as (x, y), other types in column 0."""
        return indices_to_values(arg_indices, self.screen_size[0], self.minimap_size[0])

    def close(self):
        """Nothing to release; present so that every backend closes the same way."""


def _size(size):
    if np.isscalar(size):
        return int(size), int(size)
    width, height = size
    return int(width), int(height)
