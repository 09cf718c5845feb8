"""Convert replays into `.hkl` trajectories for supervised learning.

    python trajectory_generator.py --replay_path replays/ --saving_path hkl/ [--workers 2]

Two kinds of replay are read:

* the embedded engine's replays (`*.minigames-replay.json`, written by `SC2Env.save_replay`), which
  are re-simulated, `--games_at_once` of them together in one batch of games
  (`minigames.replay.play_back_many`: the files are the same as one at a time, made in about
  0.4 of the CPU time on Simple64 games);
* StarCraft II replays (`*.SC2Replay`), observed through pysc2's replay interface from each player's
  side in turn. This needs StarCraft II of the replay's own build (`--game_version`, 4.8.2 by
  default): a replay of another build is reported and skipped, as are replays the race filters or
  the minimum length exclude.

A replay that cannot be converted, for any reason, is reported with the reason and counted, and the
others are converted. With `--workers N` the replays are converted in N processes, which end when
the converting process ends, however it ends; each takes the embedded replays in jobs of
`BATCHES_PER_JOB` batches (the progress bar counts a job's replays when it ends).

Every kept step stores the observation and the actions the game reported since the previous
observation, under the original project's key names (`home_feature_screen`, `home_action`, ...).
A step without an action is kept only when it is the first or the last step of the game or its game
loop is a multiple of 8 (the original's rule); it then carries one `no_op`.

File layout (format_version 1): fixed-size fields are arrays with one row per kept step (feature
layers as uint16, which holds every pysc2 layer value exactly); variable-length fields are dicts
{"rows": all steps' rows concatenated, "count": rows per step}; `home_action` is
{"function": [A], "arguments": [A, 13, 2] values by pysc2 argument type (-1: unused), "count": [T]}.
`map_name` is the map the game was played on (absent in the original project's files;
supervised learning refuses a file of another map than its --environment). Arrays are
gzip-compressed. `read_trajectory` reads a file back and checks it; it also reads the
replicated project's own `.hkl` files (no `format_version`: one list entry per kept step, see
`from_original_layout`).
"""
import collections
import ctypes
import dataclasses
import glob
import multiprocessing
import numbers
import os
import signal
import sys
import threading
import time

import startup

if __name__ == "__main__":
    startup.prepare()  # a quiet start, or a hint when outside the project's environment

import hickle
import tqdm
import numpy as np
from absl import app, flags, logging

import minigames  # noqa: F401  (applies pysc2's Python 3.11 fix)
from minigames import action_format, batch_format, replay
from minigames.files import write_atomically
from pysc2 import maps
from pysc2.lib import actions, features

FORMAT_VERSION = 1
EMBEDDED_SUFFIX = ".minigames-replay.json"
SC2_SUFFIX = ".SC2Replay"
KEEP_NO_OP_EVERY = 8  # game loops
GAMES_AT_ONCE = 8  # embedded replays re-simulated together (--games_at_once)
BATCHES_PER_JOB = 8  # a job of a worker: this many batches' worth of replays

# Fixed-size fields: name in the file, name in the pysc2 observation, stored dtype.
FIXED_FIELDS = (("home_feature_screen", "feature_screen", np.uint16),
                ("home_feature_minimap", "feature_minimap", np.uint16),
                ("home_player", "player", np.int32),
                ("home_game_loop", "game_loop", np.int32),
                ("home_score_cumulative", "score_cumulative", np.int32))
# Variable-length fields (rows per step), stored as {"rows", "count"}.
RAGGED_FIELDS = (("home_feature_units", "feature_units", np.int64, len(features.FeatureUnit)),
                 ("home_build_queue", "build_queue", np.int32, len(features.UnitLayer)),
                 ("home_production_queue", "production_queue", np.int32,
                  len(features.ProductionQueue)),
                 ("home_single_select", "single_select", np.int32, len(features.UnitLayer)),
                 ("home_multi_select", "multi_select", np.int32, len(features.UnitLayer)))
NUM_ARG_TYPES = action_format.NUM_ARG_TYPES

FLAGS = flags.FLAGS


@dataclasses.dataclass(frozen=True)
class SC2ReplayOptions:
    """How .SC2Replay files are observed (ignored for the embedded engine's replays)."""
    game_version: str = "4.8.2"
    screen_size: int = 32
    minimap_size: int = 32
    home_race: str = "terran"  # or any/zerg/protoss: observe only players of this race
    away_race: str = "terran"  # observe only players whose opponent is of this race
    min_game_loops: int = 1000


def define_flags():
    """The command line's flags; defined only when this file runs as a script, so that importing
    it (run.py does, for supervised learning) adds no flags."""
    races = ["any", "terran", "zerg", "protoss"]
    defaults = SC2ReplayOptions()
    flags.DEFINE_string("replay_path", None, "Folder of replays (searched recursively).")
    flags.DEFINE_string("saving_path", None, "Folder for the .hkl files (created if missing).")
    flags.mark_flags_as_required(["replay_path", "saving_path"])
    flags.DEFINE_integer("workers", 1, "Processes converting replays in parallel.", lower_bound=1)
    flags.DEFINE_integer("games_at_once", GAMES_AT_ONCE,
                         "Embedded replays each process re-simulates together in one batch of "
                         "games: more is faster per game and holds more games' steps in memory "
                         "until each is written.", lower_bound=1)
    flags.DEFINE_string("game_version", defaults.game_version,
                        "StarCraft II version for .SC2Replay files.")
    flags.DEFINE_integer("screen_size", defaults.screen_size,
                         "Feature screen resolution for .SC2Replay files.", lower_bound=1)
    flags.DEFINE_integer("minimap_size", defaults.minimap_size,
                         "Feature minimap resolution for .SC2Replay files.", lower_bound=1)
    flags.DEFINE_enum("home_race", defaults.home_race, races,
                      "Observe only players of this race (.SC2Replay).")
    flags.DEFINE_enum("away_race", defaults.away_race, races,
                      "Observe only players whose opponent is of this race (.SC2Replay).")
    flags.DEFINE_integer("min_game_loops", defaults.min_game_loops,
                         "Skip .SC2Replay games shorter than this.", lower_bound=0)


class TrajectoryError(Exception):
    """A replay or .hkl file that cannot be converted or read."""


# ------------------------------------------------------------------------------------- building
class TrajectoryBuilder:
    """Collects the kept steps of one game from one player's side, on map `map_name` (recorded
    in the file; None for files converted from the original project's)."""

    def __init__(self, map_name=None):
        self.map_name = map_name
        self.fixed = {name: [] for name, _, _ in FIXED_FIELDS}
        self.ragged = {name: [] for name, _, _, _ in RAGGED_FIELDS}
        self.available = []
        self.functions, self.arguments, self.action_count = [], [], []

    def add(self, observation, calls, first, last):
        """Add one observed step; `calls` are the FunctionCalls reported since the previous one."""
        game_loop = int(observation["game_loop"][0])
        if not calls:
            if not (first or last or game_loop % KEEP_NO_OP_EVERY == 0):
                return
            calls = [actions.FUNCTIONS.no_op()]
        for name, key, dtype in FIXED_FIELDS:  # (as stored: uint16 layers take half the memory)
            self.fixed[name].append(np.asarray(observation[key], dtype))
        for name, key, _, _ in RAGGED_FIELDS:
            self.ragged[name].append(np.asarray(observation.get(key, ())))
        mask = np.zeros(batch_format.NUM_FUNCTIONS, bool)
        mask[np.asarray(observation["available_actions"], np.int64)] = True
        self.available.append(mask)
        for call in calls:
            function_id, values = action_format.function_call_to_values(call)
            self.functions.append(function_id)
            self.arguments.append(values)
        self.action_count.append(len(calls))

    def __len__(self):
        return len(self.action_count)

    def arrays(self):
        data = {"format_version": np.array([FORMAT_VERSION], np.int32)}
        if self.map_name:
            data["map_name"] = self.map_name
        for name, _, _ in FIXED_FIELDS:
            data[name] = np.stack(self.fixed[name])  # (add stored them as their dtype)
        for name, _, dtype, width in RAGGED_FIELDS:
            rows = [np.asarray(r, dtype).reshape(-1, width) for r in self.ragged[name]]
            data[name] = {"rows": np.concatenate(rows), "count": np.array([len(r) for r in rows],
                                                                           np.int32)}
        data["home_available_actions"] = np.stack(self.available)
        data["home_action"] = {"function": np.array(self.functions, np.int32),
                               "arguments": np.stack(self.arguments).astype(np.int32),
                               "count": np.array(self.action_count, np.int32)}
        return data


# ---------------------------------------------------------------------------------- hkl files
def write_trajectory(path, data):
    """Write atomically: a killed run leaves no half-written file under the final name."""
    write_atomically(path, lambda temporary: hickle.dump(
        data, temporary, mode="w", compression="gzip", compression_opts=4))


def read_trajectory(path):
    """The dict `write_trajectory` wrote; TrajectoryError if the file is not a usable trajectory."""
    try:
        data = hickle.load(path)
    except Exception as error:  # hickle and h5py raise many types for damaged files
        raise TrajectoryError(f"{path}: not a readable .hkl file ({type(error).__name__}: "
                              f"{error})") from None
    if isinstance(data, dict) and "format_version" not in data \
            and set(ORIGINAL_KEYS) <= set(data):
        data = from_original_layout(data, path)
    if not isinstance(data, dict) or "format_version" not in data:
        raise TrajectoryError(f"{path}: not a trajectory file of this project or of the "
                              "replicated one")
    version = int(np.asarray(data["format_version"]).ravel()[0])
    if version != FORMAT_VERSION:
        raise TrajectoryError(f"{path}: trajectory format {version}; this code reads "
                              f"{FORMAT_VERSION}")
    steps = len(data["home_action"]["count"])
    for name, _, _ in FIXED_FIELDS:
        if len(data.get(name, ())) != steps:
            raise TrajectoryError(f"{path}: {name} has {len(data.get(name, ()))} steps, "
                                  f"expected {steps}")
    return data


# The keys every .hkl file of the replicated project has (its files from before August 2021 have
# only these); the others of FIXED_FIELDS and RAGGED_FIELDS came later.
ORIGINAL_KEYS = ("home_feature_screen", "home_feature_minimap", "home_player",
                 "home_feature_units", "home_game_loop", "home_available_actions", "home_action")


def from_original_layout(data, path):
    """A trajectory as the replicated project wrote it -> this project's layout.

    There, each key holds a list with one entry per kept step: the raw pysc2 array of that step
    (`home_available_actions`: the available function ids), and `home_action` the step's actions
    as [function id, arguments], an argument being an enum's int value, [value] or [x, y]
    (kept no-ops are [[0, [0]]]). Missing keys of later versions are read as empty.
    """
    steps = len(data["home_action"])
    builder = TrajectoryBuilder()
    try:
        for t in range(steps):
            observation = {key: data[name][t] for name, key, _ in FIXED_FIELDS if name in data}
            observation.setdefault("score_cumulative", np.zeros(len(features.ScoreCumulative)))
            for name, key, _, _ in RAGGED_FIELDS:
                if name in data:
                    observation[key] = data[name][t]
            observation["available_actions"] = data["home_available_actions"][t]
            calls = [original_function_call(action) for action in data["home_action"][t]]
            builder.add(observation, calls, first=t == 0, last=t == steps - 1)
    except (IndexError, KeyError, TypeError, ValueError) as error:
        raise TrajectoryError(f"{path}: a file of the replicated project's layout that cannot be "
                              f"read ({type(error).__name__}: {error})") from None
    return builder.arrays()


def original_function_call(action):
    """[function id, arguments] of the replicated project's files -> pysc2 FunctionCall."""
    function_id, arguments = int(action[0]), action[1]
    function = actions.FUNCTIONS[function_id]
    if not function.args:  # no_op is stored with a dummy [0]
        return actions.FunctionCall(function.id, [])
    return actions.FunctionCall(function.id, [
        [int(v) for v in np.atleast_1d(argument)] for argument in arguments])


def split_rows(entry):
    """{"rows", "count"} -> one array of rows per step."""
    return np.split(entry["rows"], np.cumsum(entry["count"])[:-1])


def training_pairs(data, step_mul=8, rng=None):
    """A trajectory -> (observations, function ids, argument indices) for supervised learning.

    Observations come in the batch format of `minigames.batch_format`; labels are what the network
    emits: a function id and 13 argument indices (spatial index y * width + x, -1 for arguments the
    function does not use). Where several actions qualify, one is drawn with `rng` (the first when
    None).

    step_mul=None pairs every kept step t - 1 with an action reported at step t, as the original
    did. Its labels then alternate between the action and the no_op kept a few loops later on
    nearly identical observations, and an agent acting every 8 loops never sees those in-between
    observations. So by default (step_mul=k) only the steps an agent acting every k game loops
    would see are used, those whose game loop is a multiple of k: each is paired with an action
    reported within the next k loops (no_op if there is none), and its `last_actions` are those
    reported in the k loops before it, as such an agent would observe them.
    """
    loops = data["home_game_loop"][:, 0].astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(data["home_action"]["count"])])
    all_functions = data["home_action"]["function"]
    all_values = data["home_action"]["arguments"]
    steps = len(loops)

    def reported(first_step, end_step):
        """Indices of the actions (no_op aside) reported in steps [first_step, end_step)."""
        picked = np.arange(starts[first_step], starts[end_step])
        return picked[all_functions[picked] != actions.FUNCTIONS.no_op.id]

    if step_mul is None:
        observed = np.arange(steps - 1)
        windows = [(t + 1, t + 2) for t in observed]
        recent = [(t, t + 1) for t in observed]
    else:
        observed = np.flatnonzero(loops % step_mul == 0)
        observed = observed[observed < steps - 1]
        after = np.searchsorted(loops, loops[observed], side="right")
        windows = list(zip(after, np.searchsorted(loops, loops[observed] + step_mul, side="right")))
        recent = list(zip(np.searchsorted(loops, loops[observed] - step_mul, side="right"), after))

    screen = data["home_feature_screen"].shape[-1]
    minimap = data["home_feature_minimap"].shape[-1]
    observations = batch_format.empty_batch(len(observed), (screen, screen), (minimap, minimap),
                                            use_feature_units=True)
    for name, key, _ in FIXED_FIELDS:
        observations[key][:] = data[name][observed]
    observations["available_actions"][:] = data["home_available_actions"][observed]
    for name, key, _, _ in RAGGED_FIELDS:
        if key not in batch_format.PADDED_ROWS:
            continue
        limit = batch_format.PADDED_ROWS[key]
        per_step = split_rows(data[name])
        for row, t in enumerate(observed):
            rows = per_step[t][:limit]
            observations[key][row, :len(rows)] = rows
            observations[key + "_count"][row] = len(rows)
    limit = batch_format.PADDED_ROWS["last_actions"]
    for row, (first, end) in enumerate(recent):
        last = all_functions[reported(first, end)][-limit:]
        observations["last_actions"][row, :len(last)] = last
        observations["last_actions_count"][row] = len(last)

    function_ids = np.zeros(len(observed), np.int64)
    values = np.full((len(observed), NUM_ARG_TYPES, 2), -1, np.int64)
    for row, (first, end) in enumerate(windows):
        candidates = reported(first, end)
        if len(candidates):
            chosen = candidates[0] if rng is None else rng.choice(candidates)
            function_ids[row] = all_functions[chosen]
            values[row] = all_values[chosen]
    arg_indices = action_format.values_to_indices(function_ids, values, screen, minimap)
    return observations, function_ids, arg_indices


# --------------------------------------------------------------------------------- conversion
# The fields of an embedded replay conversion reads: their type, and its name in messages.
_INTEGER = (numbers.Integral, "an integer")
_RECORD_TYPES = {"map_name": (str, "a string"), "random_seed": _INTEGER,
                 "game_index": _INTEGER, "step_mul": _INTEGER, "screen_size": (list, "a list"),
                 "minimap_size": (list, "a list"), "camera_width": (numbers.Real, "a number"),
                 "game_loops": _INTEGER, "score": _INTEGER, "actions": (list, "a list")}


def check_replay_record(record, path):
    """TrajectoryError naming the first field of an embedded replay of the wrong type or value."""
    for key, (kind, name) in _RECORD_TYPES.items():
        value = record[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TrajectoryError(f"{path}: {key} is {value!r}, expected {name}")
    if record["map_name"] not in maps.get_maps():
        raise TrajectoryError(f"{path}: map_name {record['map_name']!r} is not a pysc2 map")
    for key in ("screen_size", "minimap_size"):
        if len(record[key]) != 2 or not all(isinstance(v, int) and v > 0 for v in record[key]):
            raise TrajectoryError(f"{path}: {key} is {record[key]!r}, expected [width, height]")
    for action in record["actions"]:
        if not (isinstance(action, list) and len(action) == 3
                and np.shape(action[2]) == (NUM_ARG_TYPES, 2)):
            raise TrajectoryError(f"{path}: action {action!r} is not [game_loop, function id, "
                                  f"{NUM_ARG_TYPES} x [a, b]]")


def convert_embedded(paths, saving_path, games_at_once=GAMES_AT_ONCE):
    """Re-simulate embedded-engine replays, up to `games_at_once` of one interface together
    (`replay.play_back_many`); returns [(replay path, [(hkl path, kept steps)], error or None)].

    A replay that fails in a batch stops it; its replays are then converted one at a time, so
    that each failure names its own replay."""
    results, records = [], {}
    for path in paths:
        try:
            records[path] = load_embedded(path)
        except TrajectoryError as error:
            results.append((path, [], str(error)))
    groups = collections.defaultdict(list)
    for path, record in records.items():
        groups[replay.interface_key(record)].append(path)
    for group in groups.values():
        if len(group) > 1:
            try:
                results += _convert_together(group, [records[p] for p in group], saving_path,
                                             games_at_once)
                continue
            except Exception:  # noqa: BLE001  (then each alone, so that the failure names its
                pass  # own replay and the others convert)
        for path in group:
            results += _failure_reported(
                lambda: _convert_together([path], [records[path]], saving_path, 1), [path])
    return results


def load_embedded(path):
    """The checked replay record in `path`; TrajectoryError names what is wrong with it."""
    try:
        record = replay.load(path)
    except replay.ReplayError as error:
        raise TrajectoryError(str(error)) from None
    check_replay_record(record, path)
    return record


def _convert_together(paths, records, saving_path, games_at_once):
    calls_at = []  # per replay: game loop -> the calls the observation of that loop reports
    for record in records:
        calls_at.append(collections.defaultdict(list))
        for game_loop, function_id, values in record["actions"]:
            calls_at[-1][game_loop + 1].append(
                action_format.values_to_function_call(function_id, values))
    builders, results = {}, []
    for step in replay.play_back_many(records, observe_every=KEEP_NO_OP_EVERY,
                                      num_envs=games_at_once):
        i = step.replay
        if step.first:
            builders[i] = TrajectoryBuilder(records[i]["map_name"])
        game_loop = int(step.observation["game_loop"][0])
        builders[i].add(step.observation, calls_at[i].get(game_loop, []), step.first, step.last)
        if step.last:
            name = os.path.basename(paths[i])[:-len(EMBEDDED_SUFFIX)]
            out = os.path.join(saving_path, name + ".hkl")
            builder = builders.pop(i)
            write_trajectory(out, builder.arrays())
            results.append((paths[i], [(out, len(builder))], None))
    return results


def convert_sc2(path, saving_path, options):
    """Observe one StarCraft II replay from each accepted player's side; [(hkl path, steps)]."""
    from pysc2 import run_configs
    from pysc2.env import sc2_env
    from pysc2.lib import point
    from s2clientprotocol import common_pb2 as sc_common
    from s2clientprotocol import sc2api_pb2 as sc_pb

    if not minigames.sc2_installed():
        raise TrajectoryError(f"{path}: StarCraft II is not installed (set SC2PATH); "
                              "only embedded-engine replays can be converted here")
    run_config = run_configs.get(version=options.game_version)
    replay_data = run_config.replay_data(path)
    interface = sc_pb.InterfaceOptions(raw=True, score=True,
                                       feature_layer=sc_pb.SpatialCameraSetup(width=24))
    point.Point(options.screen_size, options.screen_size).assign_to(
        interface.feature_layer.resolution)
    point.Point(options.minimap_size, options.minimap_size).assign_to(
        interface.feature_layer.minimap_resolution)
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(options.screen_size, options.minimap_size),
        use_feature_units=True)
    outputs = []
    with run_config.start(want_rgb=False) as controller:
        installed = controller.ping().base_build
        info = controller.replay_info(replay_data)
        if info.base_build != installed:
            raise TrajectoryError(
                f"{path}: replay of base build {info.base_build}, but StarCraft II "
                f"{options.game_version} (base build {installed}) is running; install the "
                "replay's version and pass it as --game_version")
        if info.HasField("error") or len(info.player_info) != 2:
            raise TrajectoryError(f"{path}: not a valid two-player replay")
        if info.game_duration_loops < options.min_game_loops:
            raise TrajectoryError(f"{path}: {info.game_duration_loops} game loops, shorter than "
                                  f"--min_game_loops {options.min_game_loops}")
        races = {p.player_info.player_id: sc_common.Race.Name(p.player_info.race_actual).lower()
                 for p in info.player_info}
        map_data = run_config.map_data(info.local_map_path) if info.local_map_path else None
        for player_id, race in races.items():
            away = races[3 - player_id]
            if options.home_race not in ("any", race) or options.away_race not in ("any", away):
                logging.info("%s: player %d (%s vs %s) left out by the race filters",
                             path, player_id, race, away)
                continue
            controller.start_replay(sc_pb.RequestStartReplay(
                replay_data=replay_data, map_data=map_data, options=interface,
                observed_player_id=player_id))
            feats = features.features_from_game_info(game_info=controller.game_info(),
                                                     agent_interface_format=aif)
            builder = TrajectoryBuilder(info.map_name)
            first = True
            while True:
                raw = controller.observe()
                last = bool(raw.player_result)
                observation = feats.transform_obs(raw)
                calls = [feats.reverse_action(a) for a in raw.actions]
                builder.add(observation, [c for c in calls if c.function != 0], first, last)
                first = False
                if last:
                    break
                controller.step(1)
            name = os.path.basename(path)[:-len(SC2_SUFFIX)]
            out = os.path.join(saving_path, f"{name}_player{player_id}.hkl")
            write_trajectory(out, builder.arrays())
            outputs.append((out, len(builder)))
    if not outputs:
        raise TrajectoryError(f"{path}: no player passed the race filters")
    return outputs


def convert_job(job):
    """Convert one job's replays; [(replay path, [(hkl path, steps)], error or None)] each."""
    kind, paths, saving_path, options, games_at_once = job
    if kind == "embedded":
        return _failure_reported(lambda: convert_embedded(paths, saving_path, games_at_once),
                                 paths)
    path, = paths
    return _failure_reported(lambda: [(path, convert_sc2(path, saving_path, options), None)],
                             paths)


def _failure_reported(convert, paths):
    """convert() (a list of results), or the failure of each of `paths` as convert_job reports
    it: a TrajectoryError's own message (it names its file), else the path and the error."""
    try:
        return convert()
    except TrajectoryError as error:
        return [(path, [], str(error)) for path in paths]
    except Exception as error:  # noqa: BLE001  one bad replay must not stop the others: it is
        # reported with the error's type and counted
        return [(path, [], f"{path}: {type(error).__name__}: {error}") for path in paths]


PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal for this process when its parent dies


def end_with_parent(parent_pid):
    """Pool worker initializer: end this worker as soon as the converting process is gone,
    however it ended. A SIGKILL gives the converter no chance to stop its pool, and a worker
    would otherwise finish (and write) the replay it is converting."""
    if sys.platform.startswith("linux"):
        # The kernel kills this worker the moment its parent dies.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        def watch():
            while os.getppid() == parent_pid:
                time.sleep(0.1)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before this worker was set up
        os._exit(1)


def find_replays(replay_path):
    pattern = os.path.join(replay_path, "**", "*")
    return sorted(p for p in glob.glob(pattern, recursive=True)
                  if p.endswith(EMBEDDED_SUFFIX) or p.endswith(SC2_SUFFIX))


def convert_all(replay_path, saving_path, workers=1, options=SC2ReplayOptions(),
                games_at_once=GAMES_AT_ONCE):
    """Convert every replay under replay_path; returns (converted [(hkl, steps)], failures).
    Embedded replays are re-simulated `games_at_once` together in each worker."""
    if not os.path.isdir(replay_path):
        raise TrajectoryError(f"--replay_path {replay_path} is not a folder")
    paths = find_replays(replay_path)
    if not paths:
        raise TrajectoryError(f"no replays ({EMBEDDED_SUFFIX} or {SC2_SUFFIX}) under {replay_path}")
    if os.path.exists(saving_path) and not os.path.isdir(saving_path):
        raise TrajectoryError(f"--saving_path {saving_path} is a file, not a folder")
    try:
        os.makedirs(saving_path, exist_ok=True)
    except OSError as error:
        raise TrajectoryError(f"--saving_path {saving_path}: cannot create the folder "
                              f"({error.strerror})") from None
    # Embedded replays in jobs of a few batches each (a job's batch idles as its last replays end);
    # each StarCraft II replay is a job of its own.
    embedded = [path for path in paths if path.endswith(EMBEDDED_SUFFIX)]
    size = games_at_once * BATCHES_PER_JOB
    jobs = [("embedded", embedded[i:i + size], saving_path, options, games_at_once)
            for i in range(0, len(embedded), size)]
    jobs += [("sc2", [path], saving_path, options, games_at_once) for path in paths
             if path.endswith(SC2_SUFFIX)]
    if workers == 1:
        return collect(map(convert_job, jobs), len(paths))
    # Leaving the with block (normally, or by an exception such as Ctrl-C) terminates the pool.
    with multiprocessing.Pool(workers, initializer=end_with_parent,
                              initargs=(os.getpid(),)) as pool:
        return collect(pool.imap_unordered(convert_job, jobs), len(paths))


def collect(job_results, total):
    """(converted [(hkl, steps)], failures) of convert_job's results, with a progress bar (on a
    terminal) and a warning for each failure."""
    converted, failures = [], []
    with tqdm.tqdm(total=total, unit="replay", disable=None, dynamic_ncols=True) as progress:
        for results in job_results:
            for _, outputs, error in results:
                if error:
                    failures.append(error)
                    logging.warning("skipped: %s", error)
                converted.extend(outputs)
            progress.update(len(results))
            progress.set_postfix(trajectories=len(converted), failed=len(failures))
    return converted, failures


def parse_flags(argv):
    """absl's parser, with a flag error as one line and exit status 2."""
    try:
        return FLAGS(argv)
    except flags.Error as error:
        message = " ".join(str(error).split("\n"))  # one line, however many flags are wrong
        print(f"trajectory_generator.py: error: {message} (--helpshort lists the flags)",
              file=sys.stderr)
        sys.exit(2)


def main(argv):
    if len(argv) > 1:
        sys.exit(f"trajectory_generator.py: error: unexpected arguments: {' '.join(argv[1:])}")
    try:
        options = SC2ReplayOptions(FLAGS.game_version, FLAGS.screen_size, FLAGS.minimap_size,
                                   FLAGS.home_race, FLAGS.away_race, FLAGS.min_game_loops)
        converted, failures = convert_all(FLAGS.replay_path, FLAGS.saving_path, FLAGS.workers,
                                          options, FLAGS.games_at_once)
    except TrajectoryError as error:
        sys.exit(f"trajectory_generator.py: error: {error}")
    steps = sum(s for _, s in converted)
    size = sum(os.path.getsize(p) for p, _ in converted)
    logging.info("wrote %d trajectories (%d steps, %.1f MB) to %s; %d replays failed%s",
                 len(converted), steps, size / 1e6, FLAGS.saving_path, len(failures),
                 "".join(f"\n  {failure}" for failure in failures))
    if not converted:
        sys.exit(f"trajectory_generator.py: error: none of the replays converted "
                 f"({len(failures)} failed; the reasons are above)")


def cli():
    define_flags()
    startup.define_verbose_flag()
    app.run(main, flags_parser=parse_flags)


if __name__ == "__main__":
    cli()
