"""Replays of the embedded engine, and playing them back exactly.

`SC2Env.save_replay` writes one JSON file per game (`<prefix>_<time>.minigames-replay.json`):

    format, version      "minigames-replay", 1
    map_name             "MoveToBeacon"
    random_seed          the environment's seed
    game_index           which game of that seed (game k of a seed always starts the same way)
    step_mul             game loops per agent step when it was played
    screen_size, minimap_size, camera_width    the interface the actions' points refer to
    game_loops, score    where the game stood when the replay was written
    actions              [game_loop, function_id, [[a, b] per pysc2 argument type (13)]], in order

Because the engine is deterministic given (seed, game index), the actions are all a replay needs.
"""
import collections
import json

from pysc2.env import sc2_env
from pysc2.lib import actions

from minigames import action_format
from minigames import sc2_env as embedded_env

FORMAT = embedded_env.REPLAY_FORMAT
VERSION = embedded_env.REPLAY_VERSION
_REQUIRED = ("map_name", "random_seed", "game_index", "step_mul", "screen_size", "minimap_size",
             "camera_width", "game_loops", "score", "actions")


class ReplayError(Exception):
    """A replay file that cannot be read or played back."""


def load(path):
    """The replay record in `path`; ReplayError names what is wrong with a bad file."""
    try:
        with open(path) as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ReplayError(f"{path}: not a readable replay ({error})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ReplayError(f"{path}: not a {FORMAT} file")
    if record.get("version") != VERSION:
        raise ReplayError(f"{path}: replay version {record.get('version')}, this code reads "
                          f"version {VERSION}")
    missing = [key for key in _REQUIRED if key not in record]
    if missing:
        raise ReplayError(f"{path}: replay lacks {', '.join(missing)}")
    return record


def play_back(record, use_feature_units=True):
    """Re-simulate a replay one game loop at a time.

    Yields the first TimeStep and then one TimeStep per game loop, each observed after the
    actions recorded for the loop before it (so `observation.last_actions` lists them), up to the
    game loop the replay was written at.
    """
    env = embedded_env.SC2Env(
        map_name=record["map_name"], players=[sc2_env.Agent(sc2_env.Race.terran)],
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=record["screen_size"],
                                                  minimap=record["minimap_size"]),
            camera_width_world_units=record["camera_width"],
            use_feature_units=use_feature_units),
        step_mul=1, random_seed=record["random_seed"])
    env.core.episode[0] = record["game_index"]
    env.core.reset([0])
    by_loop = collections.defaultdict(list)
    for game_loop, function_id, values in record["actions"]:
        by_loop[game_loop].append(action_format.values_to_function_call(function_id, values))
    timestep = env.reset()[0]
    yield timestep
    while not timestep.last() and timestep.observation.game_loop[0] < record["game_loops"]:
        calls = by_loop.get(int(timestep.observation.game_loop[0]), [actions.FUNCTIONS.no_op()])
        timestep = env.step([calls])[0]
        yield timestep
