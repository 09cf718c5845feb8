"""The engine's core: N copies of one map, stepped together game loop by game loop.

`Game` ties the pieces together: the `World` (unit slots and per-player state), the map's script
(`minigames.maps`), the systems that run every game loop, the interface that turns pysc2 function
calls into selections and orders (`minigames.interface`) and the observer that draws pysc2's
observations (`minigames.observe`).

Every game loop runs, in this order: the built-in AI's decisions (every BOT_PERIOD loops), combat
(targets, shots, deaths), the economy (harvesting workers), production (training, construction,
supply and score bookkeeping), movement (every unit moves as the systems before it asked), the
map's script (scores, waves), the ground grids of games whose structures or resources changed
(`minigames.placement`), and last, on maps with fog, the players' vision.
`SC2Env` (one environment, pysc2's API) and `BatchEnv` (N environments, index actions) are thin
facades over it.

Randomness: environment i has its own seed; game k of environment i draws from a numpy Generator
seeded with (seed, k), so a game depends only on (seed, game index, actions) and a replay needs
nothing else. Within a game loop the systems run in a fixed order over all units at once, so the
engine is deterministic (the real game's random update order and cooldown jitter are not modelled).
"""
import dataclasses

import numpy as np

from minigames import bots as bots_lib
from minigames import (combat, economy, geometry, interface, maps, movement, observe, pathing,
                       placement, production, vision)
from minigames.world import World, any_true


@dataclasses.dataclass(frozen=True)
class View:
    """What one agent player's interface looks like: pysc2's AgentInterfaceFormat, reduced."""
    screen_size: tuple = (32, 32)   # (width, height) of the feature screen
    minimap_size: tuple = (32, 32)
    camera_width: float = 24.0      # world units across the screen
    use_feature_units: bool = False
    allow_cheating_layers: bool = False


class Game:
    """N games of one map.

    Args:
      map_name: a name of `minigames.maps.MAPS`.
      num_envs: N.
      view: the agent's `View` (player 1; in games of two agents, both use it).
      seeds: one integer seed per environment (None: fresh random seeds).
      max_units: unit slots per environment (None: as many as the map needs).
      bots: {player: difficulty} of players the built-in AI (`minigames.bots`) plays.
    """

    def __init__(self, map_name, num_envs, view=View(), seeds=None, max_units=None, bots=None):
        self.map = maps.get(map_name)
        self.bots = [bots_lib.TerranBot(player, difficulty)
                     for player, difficulty in (bots or {}).items()]
        self.num_envs = num_envs
        self.view = view
        self.world = World(num_envs, max_units or self.map.max_units, self.map.map_size)
        self.screen = geometry.LayerTransform.screen(view.screen_size, view.camera_width,
                                                     self.map.map_size[1])
        self.minimap = geometry.LayerTransform.minimap(view.minimap_size, self.map.map_size)
        self.height_grid = self.map.height_grid()
        # Paths around cliffs, on maps whose pathable cells do not fill the playable area.
        terrain = self.map.pathable()
        self.pathing = (None if self.map.region_grid(self.map.playable).sum()
                        == terrain.sum() else pathing.Pathing(terrain))
        self.ground = placement.Ground(self)  # per-environment pathable and buildable grids
        self.vision = vision.Vision(self)
        self._vision_loops = -1  # self._loops when vision was last updated
        self._loops = 0  # counts every change of the world (game loops, resets, restores)
        self._applies = 0  # counts actions carried out (they change selections)
        self._available = {}  # player -> ((loops, applies), [N, 573] mask)
        seeds = np.random.SeedSequence().generate_state(num_envs) if seeds is None else seeds
        self.seeds = [int(s) for s in seeds]
        self.episode = np.zeros(num_envs, np.int64)  # index of the next game each row starts
        self.rngs = [None] * num_envs
        self.ended = np.zeros(num_envs, bool)  # the map's triggers ended the game
        self.interface = interface.Interface(self)
        self.observers = [observe.Observer(self, player) for player in (1, 2)[:self.map.players]]
        self.reset(np.arange(num_envs))

    @property
    def game_loop(self):
        return self.world.game_loop

    @property
    def score(self):
        return self.world.score

    def over(self):
        """[N] bool: games that have ended (the map's triggers or its timer)."""
        return self.ended | (self.world.game_loop >= self.map.episode_loops)

    def reset(self, rows):
        """Start new games in environments `rows`."""
        rows = np.asarray(rows, np.int64)
        for e in rows:
            self.rngs[e] = np.random.default_rng([self.seeds[e], int(self.episode[e])])
        self.episode[rows] += 1
        self.world.clear(rows)
        self.world.camera[rows] = self.map.camera
        self.ended[rows] = False
        self.interface.reset(rows)
        self.vision.reset(rows)
        self.map.start(self, rows)
        self.ground.refresh(rows)
        self._loops += 1  # the world changed: vision must be recomputed

    def apply(self, function_ids, values, player=1):
        """Carry out one validated pysc2 action per environment ([N] ids, [N, 13, 2] values)."""
        self.interface.apply(player, np.asarray(function_ids, np.int64),
                             np.asarray(values, np.int64))
        self._applies += 1

    def available(self, player=1):
        """[N, 573] bool: the functions the player's next action may use (do not modify)."""
        key = (self._loops, self._applies)
        cached = self._available.get(player)
        if cached is None or cached[0] != key:
            cached = self._available[player] = (key, self.interface.available(player))
        return cached[1]

    def advance(self, loops, end_loop):
        """Simulate up to `loops` game loops; environment i stops at game loop `end_loop[i]` or
        when its game ends."""
        world = self.world
        self.interface.publish_actions()
        for _ in range(loops):
            running = (world.game_loop < end_loop) & ~self.over()
            if not any_true(running):
                break
            world.died[:] = False
            world.trained[:] = False
            if self.bots:
                deciding = np.flatnonzero(running & (world.game_loop % bots_lib.BOT_PERIOD == 0))
                for bot in self.bots:
                    bot.act(self, deciding)
            intents = movement.Intents(world)
            combat.tick(self, running, intents)
            kind = world.current_order()
            economy.tick(self, running, intents, kind)
            production.tick(self, running, intents, kind)
            movement.tick(self, running, intents)
            self.map.tick(self, running)
            self.ground.refresh()
            self.ended |= running & self.map.ended(self)
            world.game_loop[running] += 1
            self._loops += 1
            if self.map.fog:  # what was seen stays seen, whether or not anyone observed it
                self.update_vision()

    def update_vision(self):
        """Bring the players' vision up to date with the world (once per simulated loop)."""
        if self._vision_loops != self._loops:
            self.vision.update()
            self._vision_loops = self._loops

    def observe(self, player=1):
        """The batch-format observation of every environment, as `player` sees it (buffers
        reused by the next call: copy what you keep)."""
        return self.observers[player - 1].observe()

    # ---------------------------------------------------------------------------- state
    def get_state(self):
        """Everything that decides what happens next (a picklable dict)."""
        return {"world": self.world.get_state(), "vision": self.vision.grid.copy(),
                "seeds": list(self.seeds), "episode": self.episode.copy(),
                "ended": self.ended.copy(), "interface": self.interface.get_state(),
                "rngs": [None if rng is None else rng.bit_generator.state for rng in self.rngs]}

    def set_state(self, state):
        if len(state["seeds"]) != self.num_envs:
            raise ValueError(f"This state holds {len(state['seeds'])} environments; this engine "
                             f"has {self.num_envs}.")
        self.world.set_state(state["world"])
        self.ground.refresh(np.arange(self.num_envs))
        self.vision.restore(state["vision"])
        self._loops += 1  # the world changed: vision and availability are recomputed
        self.seeds = list(state["seeds"])
        self.episode[:] = state["episode"]
        self.ended[:] = state["ended"]
        self.interface.set_state(state["interface"])
        for e, rng_state in enumerate(state["rngs"]):
            if rng_state is not None:
                self.rngs[e] = np.random.default_rng()
                self.rngs[e].bit_generator.state = rng_state
