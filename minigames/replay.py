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
    outcome              player 1's result when written: +1 win, -1 loss, 0 tie or unfinished
    bots (optional)      {"2": "very_easy"}: players the built-in AI played, and its difficulty
    player2_actions (optional)  player 2's actions, as `actions`, when an agent played it

Because the engine is deterministic given (seed, game index), the actions are all a replay needs.
"""
import bisect
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


def players(record):
    """The pysc2 `players` list a replay was played with."""
    bots = record.get("bots") or {}
    seats = 2 if bots or "player2_actions" in record else 1
    return [sc2_env.Bot(sc2_env.Race.terran, sc2_env.Difficulty[bots[str(player)]])
            if str(player) in bots else sc2_env.Agent(sc2_env.Race.terran)
            for player in range(1, seats + 1)]


def play_back(record, use_feature_units=True, player=1, observe_every=1):
    """Re-simulate a replay, seen by `player` (an agent of the game).

    Yields the first TimeStep and then one TimeStep per game loop, each observed after the
    actions recorded for the loop before it (so `observation.last_actions` lists them), up to the
    game loop the replay was written at. With `observe_every=k > 1`, only the TimeSteps of game
    loops that are multiples of k or follow a loop with actions are yielded (and observed: the
    game between them runs without drawing observations), which is all the converter keeps.
    """
    seats = players(record)
    if not isinstance(seats[player - 1], sc2_env.Agent):
        raise ReplayError(f"player {player} of this replay is the built-in AI, not an agent")
    env = embedded_env.SC2Env(
        map_name=record["map_name"], players=seats,
        agent_interface_format=sc2_env.AgentInterfaceFormat(
            feature_dimensions=sc2_env.Dimensions(screen=record["screen_size"],
                                                  minimap=record["minimap_size"]),
            camera_width_world_units=record["camera_width"],
            use_feature_units=use_feature_units),
        step_mul=1, random_seed=record["random_seed"])
    env.core.episode[0] = record["game_index"]
    env.core.reset([0])
    agents = env.agent_players
    by_loop = {p: collections.defaultdict(list) for p in agents}
    for p, key in ((1, "actions"), (2, "player2_actions")):
        for game_loop, function_id, values in record.get(key) or []:
            by_loop[p][game_loop].append(
                action_format.values_to_function_call(function_id, values))
    action_loops = sorted({loop for p in agents for loop in by_loop[p]})
    acted = set(action_loops)
    seen = agents.index(player)
    timesteps = env.reset()
    yield timesteps[seen]
    no_op = [actions.FUNCTIONS.no_op()]
    while (not timesteps[seen].last()
           and timesteps[seen].observation.game_loop[0] < record["game_loops"]):
        loop = int(timesteps[seen].observation.game_loop[0])
        calls = [by_loop[p].get(loop, no_op) for p in agents]
        # The next loop to stop at: the next one, after actions; else the next multiple of
        # observe_every, an action's loop or the end, whichever comes first.
        stop = loop + 1
        if loop not in acted:
            later = action_loops[bisect.bisect_right(action_loops, loop):][:1]
            stop = min([(loop // observe_every + 1) * observe_every, record["game_loops"]]
                       + later)
        timesteps = env.step(calls, step_mul=max(stop - loop, 1))
        yield timesteps[seen]
