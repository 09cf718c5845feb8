"""Set-ups the engine's tests share: a game of any map, units placed by hand, one action."""
import numpy as np
from pysc2.env import sc2_env
from pysc2.lib import actions

from minigames import SC2Env, pysc2_batch_env
from minigames.game import Game, View

ARG = {t.name: t.id for t in actions.TYPES}


def make_game(map_name="MoveToBeacon", n=1, screen=32, minimap=32, max_units=None, **view):
    """A Game of `n` environments with seeds 0..n-1."""
    return Game(map_name, n, View((screen, screen), (minimap, minimap), **view),
                seeds=list(range(n)), max_units=max_units)


def empty_game(map_name="MoveToBeacon", n=1, max_units=32, **kwargs):
    """A game whose environments hold no units (tests spawn their own)."""
    game = make_game(map_name, n, max_units=max_units, **kwargs)
    game.world.remove(*np.nonzero(game.world.alive))
    return game


def action(function, n=1, **values):
    """(function ids [n], values [n, 13, 2]) with the same action in every environment."""
    args = np.zeros((13, 2), np.int64)
    for name, value in values.items():
        args[ARG[name]] = value if np.ndim(value) else (value, 0)
    return np.full(n, function), np.repeat(args[None], n, axis=0)


def pixel_of(game, world_xy, env=0, player=1):
    """The screen pixel (x, y) holding a world point in an environment's camera."""
    offset = game.screen.camera_offset(game.world.camera[env, player - 1])
    return np.floor(game.screen.to_pixels(np.asarray(world_xy, np.float64), offset)).astype(int)


def of_type(game, unit_type, env=0):
    """Slots of the living units of a type in one environment."""
    world = game.world
    return np.flatnonzero(world.alive[env] & (world.unit_type[env] == unit_type))


def select(game, env, slots, player=1):
    game.world.selected[env, player - 1] = False
    game.world.selected[env, player - 1, slots] = True


def run(game, loops):
    game.advance(loops, np.full(game.num_envs, 10 ** 9))


def simple64_against_very_easy(use_feature_units=True, seed=1):
    """Simple64 through pysc2's API against the very_easy AI, 32x32 layers, step_mul 8."""
    return SC2Env(map_name="Simple64", players=pysc2_batch_env.players("Simple64"),
                  agent_interface_format=sc2_env.AgentInterfaceFormat(
                      feature_dimensions=sc2_env.Dimensions(screen=32, minimap=32),
                      use_feature_units=use_feature_units),
                  step_mul=8, random_seed=seed)
