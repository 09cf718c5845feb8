"""`SC2Env`: a drop-in for `pysc2.env.sc2_env.SC2Env` on the embedded engine.

Same keyword-only constructor, same `reset`/`step`/`observation_spec`/`action_spec`/`save_replay`/
`close`, same TimeStep tuples and NamedDict observations, same ValueErrors for bad actions (they are
pysc2_fidelity.md section 1 and 3.5). It is one row of the vectorised core (`minigames.game`).

Actions are checked against the game's own state, not against the observation handed to the
agent: an agent (or wrapper) that edits its observation's `available_actions` changes nothing.
"""
import datetime
import os

import numpy as np
from absl import logging
from pysc2 import maps
from pysc2.env import environment
from pysc2.env.enums import Race
from pysc2.env.sc2_env import MAX_STEP_COUNT, Agent, AgentInterfaceFormat, Bot, Difficulty
from pysc2.lib import actions, features, named_array, point
from s2clientprotocol import sc2api_pb2 as sc_pb

from minigames import action_format, bots as bots_lib, files, maps as engine_maps, render
from minigames.game import Game, View

REPLAY_FORMAT = "minigames-replay"
REPLAY_VERSION = 1


class SC2Env(environment.Base):
    """One embedded game behind pysc2's environment interface."""

    def __init__(self, *, map_name=None, battle_net_map=False, players=None,
                 agent_interface_format=None, discount=1., discount_zero_after_timeout=False,
                 visualize=False, step_mul=None, realtime=False, save_replay_episodes=0,
                 replay_dir=None, replay_prefix=None, game_steps_per_episode=None,
                 score_index=None, score_multiplier=None, random_seed=None, disable_fog=False,
                 ensure_available_actions=True, version=None):
        del battle_net_map, realtime, disable_fog, version  # no effect on a simulated mini-game
        if not map_name:
            raise ValueError("Missing a map name.")
        if isinstance(map_name, (list, tuple)):
            if len(map_name) != 1:
                raise ValueError("The embedded engine plays one map at a time.")
            map_name = map_name[0]
        map_inst = maps.get(map_name)
        script = engine_maps.get(map_inst.name)  # ValueError naming the maps the engine plays
        self._agent_players, bots = seat_players(players, script.players)
        if agent_interface_format is None:
            raise ValueError("Please specify agent_interface_format.")
        if isinstance(agent_interface_format, (list, tuple)):
            if len(agent_interface_format) != len(self._agent_players):
                raise ValueError("The number of entries in agent_interface_format should "
                                 "correspond 1-1 with the number of agents.")
            if len(set(agent_interface_format)) != 1:
                raise ValueError("The embedded engine gives every agent the same interface; "
                                 "pass one agent_interface_format.")
            agent_interface_format = agent_interface_format[0]
        _check_interface(agent_interface_format)
        if save_replay_episodes and not replay_dir:
            raise ValueError("Missing replay_dir")

        aif = agent_interface_format
        self._interface = aif
        self._map_name = map_inst.name
        self._discount = discount
        self._discount_zero_after_timeout = discount_zero_after_timeout
        self._default_step_mul = max(1, step_mul or map_inst.step_mul)
        self._score_index = map_inst.score_index if score_index is None else score_index
        self._score_multiplier = (map_inst.score_multiplier if score_multiplier is None
                                  else score_multiplier)
        length = game_steps_per_episode
        length = map_inst.game_steps_per_episode if length is None else length
        self._episode_length = MAX_STEP_COUNT if length <= 0 or length > MAX_STEP_COUNT else length
        self._ensure_available_actions = ensure_available_actions
        self._save_replay_episodes = save_replay_episodes
        self._replay_dir = replay_dir
        self._replay_prefix = replay_prefix
        self._visualize = visualize
        self._random_seed = (random_seed if random_seed is not None
                             else int(np.random.SeedSequence().generate_state(1)[0]))

        dims = aif.feature_dimensions
        self._features = interface_features(aif, self._map_name)
        self._bots = bots
        self._core = Game(self._map_name, 1, View(
            (dims.screen.x, dims.screen.y), (dims.minimap.x, dims.minimap.y),
            aif.camera_width_world_units, aif.use_feature_units, aif.allow_cheating_layers),
            seeds=[self._random_seed], bots=bots)
        self._end_loop = np.array([min(script.episode_loops, self._episode_length)])
        self._state = environment.StepType.LAST
        self._episode_count = 0
        self._episode_steps = 0
        self._total_steps = 0
        self._last_score = [0] * len(self._agent_players)
        self._episode_actions = {player: [] for player in self._agent_players}
        self.frames = []  # RGB pictures of the current episode when visualize=True

    # ---------------------------------------------------------------------------- pysc2 surface
    @property
    def map_name(self):
        return self._map_name

    @property
    def core(self):
        """The vectorised engine behind this environment (it is row 0); replays use it."""
        return self._core

    @property
    def agent_players(self):
        """The player ids the agents play, in the order of `players` (bots excluded)."""
        return self._agent_players

    def observation_spec(self):
        return (self._features.observation_spec(),) * len(self._agent_players)

    def action_spec(self):
        return (self._features.action_spec(),) * len(self._agent_players)

    def reset(self):
        if self._episode_count:
            self._core.reset([0])
        self._episode_count += 1
        self._episode_steps = 0
        self._last_score = [0] * len(self._agent_players)
        self._episode_actions = {player: [] for player in self._agent_players}
        self.frames = []
        self._state = environment.StepType.FIRST
        logging.info("Starting episode %s: [terran] on %s", self._episode_count, self._map_name)
        return self._observe()

    def step(self, actions_per_agent, step_mul=None):
        if self._state == environment.StepType.LAST:
            return self.reset()
        agents = len(self._agent_players)
        if len(actions_per_agent) != agents:
            raise ValueError(f"Expected one action list per agent ({agents} agents), "
                             f"got {len(actions_per_agent)}.")
        if step_mul is not None and step_mul < 0:
            raise ValueError(f"step_mul should be positive, got {step_mul}")
        converted = []
        for player, action in zip(self._agent_players, actions_per_agent):
            calls = action if isinstance(action, (list, tuple)) and not _is_function_call(action) \
                else [action]
            converted.append([self._convert(call, player) for call in calls])
        self._state = environment.StepType.MID
        for player, calls in zip(self._agent_players, converted):
            for function_id, values in calls:
                self._core.apply(np.array([function_id]), values[None], player)
                if function_id:
                    self._episode_actions[player].append(
                        [int(self._core.game_loop[0]), function_id, values.tolist()])
        loops = self._default_step_mul if not step_mul else step_mul
        self._core.advance(loops, self._end_loop)
        return self._observe()

    def save_replay(self, replay_dir, prefix=None):
        """Write the current game as a replay (format: `minigames.replay`); returns its path."""
        dims = self._interface.feature_dimensions
        return write_replay(
            replay_dir, prefix or self._map_name, map_name=self._map_name,
            random_seed=self._random_seed, game_index=int(self._core.episode[0]) - 1,
            step_mul=self._default_step_mul, screen_size=[dims.screen.x, dims.screen.y],
            minimap_size=[dims.minimap.x, dims.minimap.y],
            camera_width=self._interface.camera_width_world_units,
            game_loops=int(self._core.game_loop[0]), score=int(self._core.score[0]),
            actions=self._episode_actions.get(1, []), bots=self._bots,
            player2_actions=self._episode_actions.get(2),
            outcome=int(self._core.map.outcome(self._core)[0, 0]))

    def render(self):
        """[H, W, 3] uint8 picture of the screen now, with the score and game loop (and the
        minimap on maps that have one): render.frame_rgb."""
        return render.frame_rgb(self._core, 0)

    def close(self):
        """Nothing to release (pysc2's close ends the game process)."""

    # -------------------------------------------------------------------------------- internals
    def _convert(self, call, player):
        """Validate a FunctionCall as pysc2's Features.transform_action does; -> (id, [13, 2])."""
        if isinstance(call, sc_pb.Action):
            if call.ByteSize():
                raise ValueError("The embedded engine takes no raw sc_pb.Action protos; "
                                 "send pysc2 FunctionCalls.")
            return 0, np.zeros((action_format.NUM_ARG_TYPES, 2), np.int64)
        func_id = call.function
        try:
            func = actions.FUNCTIONS[func_id]
        except KeyError:
            raise ValueError("Invalid function id: %s." % func_id) from None
        if self._ensure_available_actions and not self._core.available(player)[0, func.id]:
            raise ValueError("Function %s/%s is currently not available" % (func_id, func.name))
        if len(call.arguments) != len(func.args):
            raise ValueError("Wrong number of arguments for function: %s, got: %s"
                             % (func, call.arguments))
        dims = self._interface.action_dimensions
        for arg_type, arg in zip(func.args, call.arguments):
            if arg_type.name in ("screen", "screen2"):
                sizes = dims.screen
            elif arg_type.name == "minimap":
                sizes = dims.minimap
            else:
                sizes = arg_type.sizes
            if len(sizes) != len(arg):
                raise ValueError("Wrong number of values for argument of %s, got: %s"
                                 % (func, call.arguments))
            # pysc2's own check, quirk included: only negative values are refused.
            for size, value in zip(sizes, arg):
                if not np.all(0 <= value) and np.all(value < size):
                    raise ValueError("Argument is out of range for %s, got: %s"
                                     % (func, call.arguments))
            arg_type.fn(arg)  # pysc2's conversion, so unusable enum values fail as they do there
        floored = [point.Point(*arg).floor() if len(arg) == 2 else arg for arg in call.arguments]
        return action_format.function_call_to_values(actions.FunctionCall(func.id, floored))

    def _observe(self):
        observations = [to_pysc2_observation(self._core.observe(player), self._map_name)
                        for player in self._agent_players]
        score = int(self._core.score[0])
        game_loop = int(self._core.game_loop[0])
        discount = self._discount
        outcome = [0] * len(self._agent_players)
        if self._core.over()[0]:  # the map's timer or triggers end the game
            self._state = environment.StepType.LAST
            discount = 0.0
            results = self._core.map.outcome(self._core)[0]
            outcome = [int(results[player - 1]) for player in self._agent_players]
        if self._score_index >= 0:  # each agent's score_cumulative[score_index], as pysc2
            scores = [int(obs["score_cumulative"][self._score_index]) for obs in observations]
            # pysc2: the first reward after a reset is always 0
            rewards = [0 if self._episode_steps == 0 else (now - before) * self._score_multiplier
                       for now, before in zip(scores, self._last_score)]
            self._last_score = scores
        else:  # pysc2's win/loss reward
            rewards = [result * self._score_multiplier for result in outcome]
        self._total_steps += game_loop - self._episode_steps
        self._episode_steps = game_loop
        if self._episode_steps >= self._episode_length:
            self._state = environment.StepType.LAST
            if self._discount_zero_after_timeout:
                discount = 0.0
        if self._state == environment.StepType.LAST:
            if self._save_replay_episodes and self._episode_count % self._save_replay_episodes == 0:
                self.save_replay(self._replay_dir, self._replay_prefix)
            logging.info("Episode %s finished after %s game steps. Outcome: %s, score: %s",
                         self._episode_count, self._episode_steps, outcome, score)
        if self._visualize:
            self.frames.append(self.render())
        first = self._state == environment.StepType.FIRST
        return tuple(environment.TimeStep(step_type=self._state,
                                          reward=0.0 if first else np.int32(reward),
                                          discount=0.0 if first else discount,
                                          observation=obs)
                     for obs, reward in zip(observations, rewards))


def interface_features(agent_interface_format, map_name):
    """pysc2's `Features` of the embedded game of `map_name` (its observation and action specs)."""
    return features.Features(agent_interface_format,
                             map_size=point.Point(*engine_maps.get(map_name).map_size),
                             requested_races=[Race.terran], map_name=map_name)


def seat_players(players, map_players):
    """Check pysc2's `players` list for a map of `map_players` players, as pysc2's SC2Env does,
    and for what the embedded game plays (Terran; the built-in AI's difficulties).

    Returns (the player ids the Agents play, {player id: difficulty name} of the Bots).
    """
    if not players:
        raise ValueError("You must specify the list of players.")
    for p in players:
        if not isinstance(p, (Agent, Bot)):
            raise ValueError(f"Expected players to be of type Agent or Bot. Got: {p}.")
    agents = tuple(i + 1 for i, p in enumerate(players) if isinstance(p, Agent))
    if not 1 <= len(players) <= 2 or not agents:
        raise ValueError("Only 1 or 2 players with at least one agent is supported at the moment.")
    if map_players == 1 and len(players) != 1:
        raise ValueError("Single player maps require exactly one Agent.")
    if map_players == 2 and len(players) != 2:
        raise ValueError(f"Maps support 2 - 2 players, but trying to join with {len(players)}")
    for p in players:
        races = p.race if isinstance(p.race, (list, tuple)) else [p.race]
        if any(Race(race) != Race.terran for race in races):
            raise ValueError(f"The embedded game plays Terran only; got "
                             f"{', '.join(Race(race).name for race in races)}. Use "
                             f"sc2_env.Race.terran (real StarCraft II plays every race).")
    bots = {}
    for i, p in enumerate(players):
        if isinstance(p, Bot):
            name = Difficulty(p.difficulty).name
            if name not in bots_lib.DIFFICULTIES:
                raise ValueError(f"The embedded game's built-in AI plays "
                                 f"{', '.join(bots_lib.DIFFICULTIES)}; got {name}.")
            bots[i + 1] = name
    return agents, bots


def write_replay(replay_dir, prefix, *, map_name, random_seed, game_index, step_mul,
                 screen_size, minimap_size, camera_width, game_loops, score, actions,
                 bots=None, player2_actions=None, outcome=0):
    """Write one game's replay record (the layout `minigames.replay` documents) as
    `<replay_dir>/<prefix>_<time>.minigames-replay.json`; returns its path. `SC2Env.save_replay`
    and `BatchEnv`'s recording both write through it."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d-%H-%M-%S-%f")
    path = os.path.join(replay_dir, f"{prefix}_{stamp}.{REPLAY_FORMAT}.json")
    record = {
        "format": REPLAY_FORMAT,
        "version": REPLAY_VERSION,
        "map_name": map_name,
        "random_seed": random_seed,
        "game_index": game_index,
        "step_mul": step_mul,
        "screen_size": list(screen_size),
        "minimap_size": list(minimap_size),
        "camera_width": camera_width,
        "game_loops": game_loops,
        "score": score,
        "actions": actions,
        "outcome": outcome,
    }
    if bots:
        record["bots"] = {str(player): name for player, name in bots.items()}
    if player2_actions is not None:
        record["player2_actions"] = player2_actions
    files.write_json(path, record, indent=None)
    logging.info("Wrote replay to: %s", path)
    return path


def _is_function_call(action):
    return isinstance(action, actions.FunctionCall)


def _check_interface(aif):
    if not isinstance(aif, AgentInterfaceFormat):
        raise ValueError("The embedded engine needs a pysc2 AgentInterfaceFormat "
                         "(sc_pb.InterfaceOptions pass-through is not supported).")
    if aif.feature_dimensions is None:
        raise ValueError("The embedded engine renders feature layers only: set feature_dimensions "
                         "(for example feature_screen=32, feature_minimap=32).")
    if aif.rgb_dimensions is not None:
        raise ValueError("The embedded engine does not render rgb_screen/rgb_minimap; "
                         "use feature layers.")
    if aif.use_raw_units or aif.use_raw_actions:
        raise ValueError("The embedded engine does not support raw units or raw actions.")
    if aif.use_unit_counts or aif.use_camera_position or aif.send_observation_proto:
        raise ValueError("The embedded engine does not support use_unit_counts, "
                         "use_camera_position or send_observation_proto.")


def _named_rows(rows, names, dtype=np.int32):
    """pysc2 returns empty unit lists as plain (0, k) arrays and others as NamedNumpyArrays."""
    if len(rows) == 0:
        return np.zeros((0, len(names)), dtype)
    return named_array.NamedNumpyArray(rows.astype(dtype), [None, names])


def to_pysc2_observation(batch, map_name, row=0):
    """Row `row` of a batch -> the NamedDict pysc2's Features.transform_obs would return
    (copies)."""
    def rows(name):
        return batch[name][row, :batch[name + "_count"][row]]

    obs = named_array.NamedDict({
        "single_select": _named_rows(rows("single_select"), features.UnitLayer),
        "multi_select": _named_rows(rows("multi_select"), features.UnitLayer),
        "build_queue": _named_rows(rows("build_queue"), features.UnitLayer),
        "cargo": np.zeros((0, len(features.UnitLayer)), np.int32),
        "production_queue": _named_rows(rows("production_queue"), features.ProductionQueue),
        "last_actions": rows("last_actions").copy(),
        "cargo_slots_available": np.array([0], np.int32),
        "home_race_requested": np.array([Race.terran], np.int32),
        "away_race_requested": np.array([0], np.int32),
        "map_name": map_name,
        "feature_screen": named_array.NamedNumpyArray(
            batch["feature_screen"][row].copy(), [features.ScreenFeatures, None, None]),
        "feature_minimap": named_array.NamedNumpyArray(
            batch["feature_minimap"][row].copy(), [features.MinimapFeatures, None, None]),
        "action_result": rows("action_result").astype(np.int32),
        "alerts": np.zeros(0, np.int32),
        "game_loop": batch["game_loop"][row].copy(),
        "score_cumulative": named_array.NamedNumpyArray(batch["score_cumulative"][row].copy(),
                                                        features.ScoreCumulative),
        "score_by_category": named_array.NamedNumpyArray(
            np.zeros((len(features.ScoreByCategory), len(features.ScoreCategories)), np.int32),
            [features.ScoreByCategory, features.ScoreCategories]),
        "score_by_vital": named_array.NamedNumpyArray(
            np.zeros((len(features.ScoreByVital), len(features.ScoreVitals)), np.int32),
            [features.ScoreByVital, features.ScoreVitals]),
        "player": named_array.NamedNumpyArray(batch["player"][row].copy(), features.Player),
        "control_groups": batch["control_groups"][row].copy(),
        "upgrades": np.zeros(0, np.int32),
        "available_actions": np.flatnonzero(batch["available_actions"][row]).astype(np.int32),
    })
    if "feature_units" in batch:
        obs["feature_units"] = named_array.NamedNumpyArray(
            rows("feature_units").copy(), [None, features.FeatureUnit], dtype=np.int64)
        obs["feature_effects"] = np.zeros((0, len(features.EffectPos)), np.int32)
        obs["radar"] = np.zeros((0, len(features.Radar)), np.int32)
    return obs
