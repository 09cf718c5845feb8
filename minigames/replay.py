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
import typing

import numpy as np
from pysc2 import maps
from pysc2.env import sc2_env
from pysc2.lib import actions

from minigames import action_format
from minigames import maps as engine_maps
from minigames import sc2_env as embedded_env
from minigames.game import Game, View

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


class Observed(typing.NamedTuple):
    """One observed step of a replay played back."""
    replay: int  # the replay's index in the records played back
    observation: dict  # pysc2's observation, as SC2Env gives it (a NamedDict)
    first: bool  # the game's first observation
    last: bool  # the replay's last observation: its game ended, or the replay ends there


def play_back(record, use_feature_units=True, player=1, observe_every=1):
    """Re-simulate one replay, seen by `player` (an agent of the game): `play_back_many` of it."""
    return play_back_many([record], use_feature_units, player, observe_every)


def play_back_many(records, use_feature_units=True, player=1, observe_every=1, num_envs=16):
    """Re-simulate replays of one map and interface, up to `num_envs` at a time in one batch of
    games (a faster way to play many: the engine steps a batch at about the cost of a few games).

    Yields `Observed` steps, each replay's in game order (the replays' interleaved): its first
    observation and then one per game loop, each observed after the actions recorded for the loop
    before it (so `observation.last_actions` lists them), up to the game loop the replay was
    written at. With `observe_every=k > 1`, only the loops that are multiples of k or follow a
    loop with actions are observed (the game between them runs without drawing observations),
    which is all the converter keeps. A replay starts when a game of the batch is free and the
    others stand at a multiple of k, so that the batch stops at the same loops for every game.
    ReplayError names a replay whose interface differs from the first one's, or one of whose
    actions the game does not allow.
    """
    records = list(records)
    if not records:
        return
    _check_same_interface(records)
    first = records[0]
    seats = players(first)
    script = engine_maps.get(first["map_name"])
    agents, bots = embedded_env.seat_players(seats, script.players)
    if not isinstance(seats[player - 1], sc2_env.Agent):
        raise ReplayError(f"player {player} of this replay is the built-in AI, not an agent")
    # SC2Env's end of a game: the map's timer, or pysc2's game_steps_per_episode of the map
    limit = min(script.episode_loops,
                maps.get(first["map_name"]).game_steps_per_episode or sc2_env.MAX_STEP_COUNT)
    n = min(num_envs, len(records))
    game = Game(first["map_name"], n, View(tuple(first["screen_size"]),
                                           tuple(first["minimap_size"]), first["camera_width"],
                                           use_feature_units),
                seeds=[record["random_seed"] for record in records[:n]], bots=bots)
    playing = [None] * n  # the _Playing of each game of the batch, None when it is free
    stop = np.zeros(n, np.int64)  # the game loop each game is observed at next
    waiting = iter(range(len(records)))
    clock = 0  # game loops the batch has advanced

    def start_next(row):
        index = next(waiting, None)
        playing[row] = None if index is None else _Playing(index, records[index], agents, limit)
        if playing[row] is not None:
            game.seeds[row] = records[index]["random_seed"]
            game.episode[row] = records[index]["game_index"]
            game.reset([row])
            stop[row] = 0

    while True:
        if clock % observe_every == 0:  # free games start replays only where the others stop
            for row in range(n):
                if playing[row] is None:
                    start_next(row)
        active = np.array([p is not None for p in playing])
        if not active.any():
            return
        over = game.over()
        ready = np.flatnonzero(active & ((game.game_loop == stop) | over))
        if ready.size:
            batch = game.observe(player)
            calls = {p: [] for p in agents}  # agent player -> [(row, function id, values)]
            for row in ready.tolist():
                replay = playing[row]
                loop = int(game.game_loop[row])
                last = bool(over[row]) or loop >= replay.end
                yield Observed(replay.index, embedded_env.to_pysc2_observation(
                    batch, first["map_name"], row), loop == 0, last)
                if last:
                    playing[row] = None
                    active[row] = False
                    continue
                for p in agents:
                    calls[p] += [(row, *call) for call in replay.by_loop[p].get(loop, ())]
                stop[row] = replay.next_stop(loop, observe_every)
            for p in agents:
                _apply(game, p, calls[p], playing)
        if not active.any():
            clock = 0  # nothing is playing: the next replays set the pace afresh
            continue
        end = np.where(active, stop, game.game_loop)
        loops = int((end - game.game_loop)[active].min())
        game.advance(loops, end)
        clock += loops


class _Playing:
    """A replay being played back in one game of the batch."""

    def __init__(self, index, record, agents, limit):
        self.index = index
        self.record = record
        self.end = min(record["game_loops"], limit)  # the loop the replay stops at
        # agent player -> game loop -> [(function id, [13, 2] values)], as SC2Env converts them
        self.by_loop = {p: collections.defaultdict(list) for p in agents}
        for p, key in ((1, "actions"), (2, "player2_actions")):
            for game_loop, function_id, values in record.get(key) or []:
                if p in self.by_loop:
                    self.by_loop[p][game_loop].append(action_format.function_call_to_values(
                        action_format.values_to_function_call(function_id, values)))
        self.action_loops = sorted({loop for p in agents for loop in self.by_loop[p]})

    def next_stop(self, loop, observe_every):
        """The next loop to observe after `loop`: the next one after actions; else the next
        multiple of observe_every, the next loop with actions or the end, whichever is first."""
        if any(loop in by_loop for by_loop in self.by_loop.values()):
            return loop + 1
        later = self.action_loops[bisect.bisect_right(self.action_loops, loop):][:1]
        return min([(loop // observe_every + 1) * observe_every, self.end] + later)


def _apply(game, player, calls, playing):
    """Carry out `player`'s [(row, function id, values)] in the order given per row (the other
    games of the batch take no_op, which changes nothing); ReplayError names a replay whose
    action the game does not allow, as SC2Env refuses it."""
    rounds = collections.defaultdict(list)  # k -> the k-th call of each row that has one
    taken = collections.Counter()
    for row, function_id, values in calls:
        rounds[taken[row]].append((row, function_id, values))
        taken[row] += 1
    for k in sorted(rounds):
        function_ids = np.zeros(game.num_envs, np.int64)
        values = np.full((game.num_envs, action_format.NUM_ARG_TYPES, 2), -1, np.int64)
        for row, function_id, call_values in rounds[k]:
            function_ids[row], values[row] = function_id, call_values
        refused = np.flatnonzero(~game.available(player)[np.arange(game.num_envs), function_ids])
        if refused.size:
            row = int(refused[0])
            function = actions.FUNCTIONS[int(function_ids[row])]
            record = playing[row].record
            raise ReplayError(f"replay {playing[row].index} (seed {record['random_seed']}, "
                              f"game {record['game_index']}): function "
                              f"{function.id}/{function.name} is not available at game loop "
                              f"{int(game.game_loop[row])}")
        game.apply(function_ids, values, player)


def interface_key(record):
    """What replays played back together must share: map, interface and players."""
    return (record["map_name"], tuple(record["screen_size"]), tuple(record["minimap_size"]),
            record["camera_width"], tuple(sorted((record.get("bots") or {}).items())),
            "player2_actions" in record)


def _check_same_interface(records):
    first = interface_key(records[0])
    for index, record in enumerate(records):
        if interface_key(record) != first:
            raise ReplayError(f"replay {index} (seed {record['random_seed']}, game "
                              f"{record['game_index']}) is of another map, interface or players "
                              "than the first one; play back such replays apart")
