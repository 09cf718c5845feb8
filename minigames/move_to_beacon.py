"""MoveToBeacon, simulated for N environments at once with numpy.

The rules are those of the map's trigger code as pysc2_fidelity.md section 4.2 records them:

* the map is 64 x 64; the playable area is the rectangle (22, 20)-(44, 36);
* a Marine (unit type 48, player 1, radius 0.375, 45 hit points) starts unselected at a uniformly
  random point of the playable area;
* a Beacon_Terran (unit type 317, neutral) is drawn uniformly in (23.5, 21.5)-(42.5, 34.5), outside the
  disc of radius 4 around (33, 28), again and again until it is at least 5 from the marine;
* every game loop, a marine within 1.25 of the beacon scores +1 (the curriculum score,
  `score_cumulative[0]`) and the beacon is drawn again by the same rule;
* the marine moves 0.140625 world units per game loop (2.25 per game second at 16 loops per second);
* the episode lasts 120 game seconds = 1920 game loops; the camera is locked at (33, 25), 24 wide.

Where the real game's behaviour is unknown, this engine picks a documented reading:

* a command to a point outside the playable area sends the marine to the nearest point it can stand
  on (the playable rectangle shrunk by the marine's radius);
* the screen point of a command means the centre of that pixel (pysc2's own pixel -> world rule);
* the beacon is drawn on the feature layers as a disc of radius 1.25 (its reward circle; its model
  radius is not in the map data) and is not selectable;
* static layers: height_map 132 (flat ground at height 7.5), visibility 2 (visible), pathable and
  buildable 1 inside the playable area, all 0 outside it; `unit_density_aa` is 16 per unit;
* `move_camera` is accepted and listed in `last_actions`, but the camera stays locked;
* at most 16 orders are queued; a further queued order is dropped;
* `HoldPosition` and `Stop` both clear the order queue (nothing can attack the marine here).
"""
import numpy as np
from pysc2.lib import actions, features, units

from minigames import batch_format, geometry

MAP_NAME = "MoveToBeacon"
MAP_SIZE = (64, 64)
PLAYABLE = (22.0, 20.0, 44.0, 36.0)
BEACON_SPAWN = (23.5, 21.5, 42.5, 34.5)
BEACON_SPAWN_HOLE = ((33.0, 28.0), 4.0)
BEACON_MIN_DISTANCE = 5.0
BEACON_RADIUS = 1.25
BEACON_UNIT_TYPE = 317  # Beacon_Terran; not in pysc2.lib.units
MARINE_UNIT_TYPE = units.Terran.Marine
MARINE_RADIUS = 0.375
MARINE_HEALTH = 45
MARINE_SPEED = 0.140625  # world units per game loop
EPISODE_LOOPS = 1920
DEFAULT_STEP_MUL = 8
CAMERA_CENTER = (33.0, 25.0)
HEIGHT_MAP_VALUE = 132
MAX_ORDERS = 16

FUNCTIONS = actions.FUNCTIONS
SCREEN = features.SCREEN_FEATURES
MINIMAP = features.MINIMAP_FEATURES

# Functions available with nothing selected (army_count is always 1), and those the marine adds.
IDLE_FUNCTIONS = (0, 1, 2, 3, 4, 7)
MARINE_FUNCTIONS = (12, 13, 274, 331, 332, 333, 334, 451, 452, 453)

# Layers units are drawn on; everything else on the layers is static.
_DYNAMIC_SCREEN_LAYERS = np.array([getattr(SCREEN, name).index for name in (
    "player_id", "player_relative", "unit_type", "selected", "unit_hit_points",
    "unit_hit_points_ratio", "unit_density", "unit_density_aa")])
_DYNAMIC_MINIMAP_LAYERS = np.array([getattr(MINIMAP, name).index for name in (
    "player_id", "player_relative", "unit_type", "selected")])
_MARINE_UNIT_LAYER = np.array([MARINE_UNIT_TYPE, features.PlayerRelative.SELF, MARINE_HEALTH,
                               0, 0, 0, 0])

# Order kinds, and the raw function id pysc2 reports for each in feature_units' order_id columns.
MOVE, ATTACK, PATROL = 1, 2, 3
_ORDER_RAW_FUNCTION = np.zeros(4, np.int64)
for _kind, _ability in ((MOVE, FUNCTIONS.Move_Move_screen.ability_id),
                        (ATTACK, FUNCTIONS.Attack_Attack_screen.ability_id),
                        (PATROL, FUNCTIONS.Patrol_Patrol_screen.ability_id)):
    _ORDER_RAW_FUNCTION[_kind] = actions.RAW_ABILITY_ID_TO_FUNC_ID.get(_ability, 0)

# ORDER_OF[f]: the order kind function f gives the marine (0: none); TARGETS_MINIMAP[f]: its point
# is on the minimap rather than the screen.
ORDER_OF = np.zeros(len(FUNCTIONS), np.int8)
TARGETS_MINIMAP = np.zeros(len(FUNCTIONS), bool)
for _function, _kind in ((FUNCTIONS.Move_screen, MOVE), (FUNCTIONS.Attack_screen, ATTACK),
                         (FUNCTIONS.Smart_screen, MOVE), (FUNCTIONS.Patrol_screen, PATROL),
                         (FUNCTIONS.Move_minimap, MOVE), (FUNCTIONS.Attack_minimap, ATTACK),
                         (FUNCTIONS.Smart_minimap, MOVE), (FUNCTIONS.Patrol_minimap, PATROL)):
    ORDER_OF[_function.id] = _kind
    TARGETS_MINIMAP[_function.id] = "minimap" in _function.name
_CLEAR_COMMANDS = (FUNCTIONS.HoldPosition_quick.id, FUNCTIONS.Stop_quick.id)

# Column of each argument type in the core's [N, 13, 2] argument array (index = pysc2 type id).
ARG = {t.name: t.id for t in actions.TYPES}


class MoveToBeaconCore:
    """State and rules of N MoveToBeacon games; actions in, batch-format observations out.

    Args:
      num_envs: N.
      screen_size, minimap_size: (width, height) of the feature layers.
      camera_width: world units across the screen (pysc2's camera_width_world_units).
      use_feature_units: add `feature_units` to the observations.
      seeds: one integer seed per environment. Game k of environment i depends only on
        (seeds[i], k), so a replay needs just the seed, the game's index and the actions.
    """

    def __init__(self, num_envs, screen_size, minimap_size, camera_width=24.0,
                 use_feature_units=False, allow_cheating_layers=False, seeds=None):
        self.num_envs = num_envs
        self.screen_size = tuple(int(v) for v in screen_size)
        self.minimap_size = tuple(int(v) for v in minimap_size)
        self.use_feature_units = use_feature_units
        self.allow_cheating_layers = allow_cheating_layers
        self.screen = geometry.LayerTransform.screen(self.screen_size, CAMERA_CENTER, camera_width,
                                                     MAP_SIZE[1])
        self.minimap = geometry.LayerTransform.minimap(self.minimap_size, MAP_SIZE)
        seeds = np.random.SeedSequence().generate_state(num_envs) if seeds is None else seeds
        self.seeds = [int(s) for s in seeds]
        self.episode = np.zeros(num_envs, np.int64)  # index of the next game each row starts
        self.rngs = [None] * num_envs
        self._screen_background, self._minimap_background = self._static_layers()
        self._batch = None  # observation buffers, made by the first observe()
        self._screen_drawn = self._minimap_drawn = None  # unit pixels drawn last time

        n = num_envs
        self.marine = np.zeros((n, 2))
        self.beacon = np.zeros((n, 2))
        self.facing = np.zeros(n)
        self.selected = np.zeros(n, bool)
        self.groups = np.zeros((n, 10), bool)  # control group g holds the marine
        self.order_kind = np.zeros((n, MAX_ORDERS), np.int8)
        self.order_target = np.zeros((n, MAX_ORDERS, 2))
        self.order_origin = np.zeros((n, MAX_ORDERS, 2))  # patrol's other end
        self.order_count = np.zeros(n, np.int64)
        self.score = np.zeros(n, np.int64)
        self.game_loop = np.zeros(n, np.int64)
        self.last_action = np.full(n, -1, np.int64)  # function executed since the last observation
        self.reset(np.arange(n))

    # ----------------------------------------------------------------------------------- episodes
    def reset(self, rows):
        """Start new games in the given environments."""
        rows = np.asarray(rows, np.int64)
        for i in rows:
            rng = self.rngs[i] = np.random.default_rng([self.seeds[i], int(self.episode[i])])
            self.episode[i] += 1
            x0, y0, x1, y1 = PLAYABLE
            self.marine[i] = (rng.uniform(x0, x1), rng.uniform(y0, y1))
            self.facing[i] = rng.uniform(0.0, 2 * np.pi)
            self.beacon[i] = self._draw_beacon(rng, self.marine[i])
        self.selected[rows] = False
        self.groups[rows] = False
        self.order_count[rows] = 0
        self.order_kind[rows] = 0
        self.score[rows] = 0
        self.game_loop[rows] = 0
        self.last_action[rows] = -1

    # --------------------------------------------------------------------------------- state
    # Everything a game's future depends on; the observation buffers are redrawn from it.
    _STATE_ARRAYS = ("marine", "beacon", "facing", "selected", "groups", "order_kind",
                     "order_target", "order_origin", "order_count", "score", "game_loop",
                     "last_action", "episode")

    def get_state(self):
        """A picklable copy of every game's state: the arrays, the seeds and each
        environment's random generator (`bit_generator.state`)."""
        state = {name: getattr(self, name).copy() for name in self._STATE_ARRAYS}
        state["seeds"] = list(self.seeds)
        state["rngs"] = [rng.bit_generator.state for rng in self.rngs]
        return state

    def set_state(self, state):
        """Continue from a `get_state()` of a core of the same size; ValueError if it is not."""
        if len(state["seeds"]) != self.num_envs:
            raise ValueError(f"The saved state holds {len(state['seeds'])} environments; this "
                             f"engine has {self.num_envs}.")
        for name in self._STATE_ARRAYS:
            setattr(self, name, np.array(state[name], dtype=getattr(self, name).dtype))
        self.seeds = [int(s) for s in state["seeds"]]
        self.rngs = []
        for saved in state["rngs"]:
            rng = np.random.default_rng()
            rng.bit_generator.state = saved
            self.rngs.append(rng)
        self._batch = None  # the next observe() draws everything afresh
        self._screen_drawn = self._minimap_drawn = None

    @staticmethod
    def _draw_beacon(rng, marine):
        (hx, hy), hole = BEACON_SPAWN_HOLE
        x0, y0, x1, y1 = BEACON_SPAWN
        while True:
            x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
            if (x - hx) ** 2 + (y - hy) ** 2 < hole * hole:
                continue
            if (x - marine[0]) ** 2 + (y - marine[1]) ** 2 >= BEACON_MIN_DISTANCE ** 2:
                return x, y

    # ------------------------------------------------------------------------------------ actions
    def available(self):
        """[N, 573] bool: the functions the next action may use."""
        mask = np.zeros((self.num_envs, batch_format.NUM_FUNCTIONS), bool)
        mask[:, IDLE_FUNCTIONS] = True
        mask[np.ix_(self.selected, MARINE_FUNCTIONS)] = True
        return mask

    def apply(self, function_ids, args):
        """Carry out one validated action per environment.

        Args:
          function_ids: [N] pysc2 function ids.
          args: [N, 13, 2] int argument values by pysc2 argument type id: points as (x, y),
            enums and scalars in column 0. Entries of types the function does not use are ignored.
        """
        fn = np.asarray(function_ids, np.int64)
        args = np.asarray(args, np.int64)
        # The game ignores (and does not report) a unit command when nothing is selected.
        ignored = np.isin(fn, MARINE_FUNCTIONS) & ~self.selected
        self.last_action = np.where((fn == 0) | ignored, -1, fn)

        rows = np.flatnonzero(fn == FUNCTIONS.select_army.id)
        self.selected[rows] = True

        rows = np.flatnonzero(fn == FUNCTIONS.select_point.id)
        if rows.size:
            act = args[rows, ARG["select_point_act"], 0]
            hit = geometry.hits_footprint(self.screen, self.marine[rows], MARINE_RADIUS,
                                          args[rows, ARG["screen"]])
            # select / select_all_type replace the selection; toggle flips a hit; add_all_type adds.
            replace = (act == 0) | (act == 2)
            new = np.where(replace, hit, np.where(act == 1, self.selected[rows] ^ hit,
                                                  self.selected[rows] | hit))
            self.selected[rows] = new

        rows = np.flatnonzero(fn == FUNCTIONS.select_rect.id)
        if rows.size:
            add = args[rows, ARG["select_add"], 0] == 1
            hit = geometry.disc_meets_box(self.screen, self.marine[rows], MARINE_RADIUS,
                                          args[rows, ARG["screen"]], args[rows, ARG["screen2"]])
            self.selected[rows] = hit | (add & self.selected[rows])

        rows = np.flatnonzero(fn == FUNCTIONS.select_control_group.id)
        for i in rows:
            self._control_group(i, args[i, ARG["control_group_act"], 0],
                                args[i, ARG["control_group_id"], 0])

        rows = np.flatnonzero((ORDER_OF[fn] > 0) & self.selected)
        if rows.size:
            on_minimap = TARGETS_MINIMAP[fn[rows]]
            target = np.where(on_minimap[:, None],
                              self.minimap.to_world(args[rows, ARG["minimap"]].astype(np.float64)),
                              self.screen.to_world(args[rows, ARG["screen"]].astype(np.float64)))
            self._command(rows, ORDER_OF[fn[rows]], target, args[rows, ARG["queued"], 0] == 1)
        rows = np.flatnonzero(np.isin(fn, _CLEAR_COMMANDS) & self.selected)
        self.order_count[rows] = 0
        self.order_kind[rows] = 0

    def _control_group(self, i, act, group):
        if act == 0:  # recall
            if self.groups[i, group]:
                self.selected[i] = True
            return
        if act in (3, 4) and self.selected[i]:  # *_and_steal: take the marine from other groups
            self.groups[i] = False
        if act in (1, 3):  # set
            self.groups[i, group] = self.selected[i]
        else:  # append
            self.groups[i, group] |= self.selected[i]

    def _command(self, rows, kind, target, queued):
        x0, y0, x1, y1 = PLAYABLE
        target = np.clip(target, (x0 + MARINE_RADIUS, y0 + MARINE_RADIUS),
                         (x1 - MARINE_RADIUS, y1 - MARINE_RADIUS))
        replace = ~queued | (self.order_count[rows] == 0)
        # A patrol starts from where the marine will be when the order begins.
        last = np.maximum(self.order_count[rows] - 1, 0)
        origin = np.where(replace[:, None], self.marine[rows], self.order_target[rows, last])
        slot = np.where(replace, 0, self.order_count[rows])
        self.order_kind[rows[replace]] = 0
        keep = slot < MAX_ORDERS
        rows, slot = rows[keep], slot[keep]
        self.order_kind[rows, slot] = kind[keep]
        self.order_target[rows, slot] = target[keep]
        self.order_origin[rows, slot] = origin[keep]
        self.order_count[rows] = slot + 1

    # ------------------------------------------------------------------------------- simulation
    def advance(self, loops, end_loop):
        """Simulate up to `loops` game loops; an environment stops at game loop `end_loop[i]`."""
        for _ in range(loops):
            running = self.game_loop < end_loop
            if not running.any():
                break
            self._move(running)
            self._score_beacons(running)
            self.game_loop[running] += 1

    def _move(self, running):
        active = running & (self.order_count > 0)
        if not active.any():
            return
        delta = self.order_target[:, 0] - self.marine
        distance = np.hypot(delta[:, 0], delta[:, 1])
        arrived = active & (distance <= MARINE_SPEED)
        moving = active & ~arrived
        step = delta * np.where(moving, MARINE_SPEED / np.maximum(distance, 1e-9), 0.0)[:, None]
        self.marine += step
        self.facing = np.where(moving, np.arctan2(step[:, 1], step[:, 0]) % (2 * np.pi),
                               self.facing)
        if arrived.any():
            self._arrive(np.flatnonzero(arrived))

    def _arrive(self, rows):
        """Marines in `rows` reached their current order's target: patrols turn, others end."""
        self.marine[rows] = self.order_target[rows, 0]
        patrol = rows[self.order_kind[rows, 0] == PATROL]
        turn = self.order_target[patrol, 0].copy()
        self.order_target[patrol, 0] = self.order_origin[patrol, 0]
        self.order_origin[patrol, 0] = turn
        finished = rows[self.order_kind[rows, 0] != PATROL]
        self.order_kind[finished, :-1] = self.order_kind[finished, 1:]
        self.order_target[finished, :-1] = self.order_target[finished, 1:]
        self.order_origin[finished, :-1] = self.order_origin[finished, 1:]
        self.order_kind[finished, -1] = 0
        self.order_count[finished] -= 1

    def _score_beacons(self, running):
        delta = self.marine - self.beacon
        reached = running & (np.sum(delta * delta, axis=1) <= BEACON_RADIUS ** 2)
        for i in np.flatnonzero(reached):
            self.score[i] += 1
            self.beacon[i] = self._draw_beacon(self.rngs[i], self.marine[i])

    # ------------------------------------------------------------------------------ observations
    def _static_layers(self):
        screen = np.zeros((len(SCREEN),) + self.screen_size[::-1], np.int32)
        minimap = np.zeros((len(MINIMAP),) + self.minimap_size[::-1], np.int32)
        inside = self.screen.pixel_centre_mask(PLAYABLE)
        screen[SCREEN.height_map.index][inside] = HEIGHT_MAP_VALUE
        for layer in (SCREEN.visibility_map, SCREEN.pathable, SCREEN.buildable):
            screen[layer.index][inside] = 2 if layer is SCREEN.visibility_map else 1
        inside = self.minimap.pixel_centre_mask(PLAYABLE)
        minimap[MINIMAP.height_map.index][inside] = HEIGHT_MAP_VALUE
        for layer in (MINIMAP.visibility_map, MINIMAP.pathable, MINIMAP.buildable):
            minimap[layer.index][inside] = 2 if layer is MINIMAP.visibility_map else 1
        half = self.screen_size[0] / self.screen.scale[0] / 2.0
        camera = (CAMERA_CENTER[0] - half, CAMERA_CENTER[1] - half,
                  CAMERA_CENTER[0] + half, CAMERA_CENTER[1] + half)
        minimap[MINIMAP.camera.index][self.minimap.pixel_centre_mask(camera)] = 1
        return screen, minimap

    def observe(self):
        """The batch-format observation of every environment.

        The arrays are this core's own buffers, updated in place by the next call: copy what you
        keep. Only the pixels units covered last time are cleared and redrawn, so the cost does
        not grow with the 27 + 11 layers of every environment.
        """
        if self._batch is None:
            self._batch = batch_format.empty_batch(self.num_envs, self.screen_size,
                                                   self.minimap_size, self.use_feature_units)
            self._batch["feature_screen"][:] = self._screen_background
            self._batch["feature_minimap"][:] = self._minimap_background
            player = self._batch["player"]
            for field in (features.Player.player_id, features.Player.food_used,
                          features.Player.food_army, features.Player.army_count):
                player[:, field] = 1
        batch = self._batch
        self._screen_drawn = self._draw_units(batch["feature_screen"], self.screen, SCREEN,
                                              _DYNAMIC_SCREEN_LAYERS, self._screen_drawn, True)
        self._minimap_drawn = self._draw_units(batch["feature_minimap"], self.minimap, MINIMAP,
                                               _DYNAMIC_MINIMAP_LAYERS, self._minimap_drawn,
                                               self.allow_cheating_layers)
        batch["game_loop"][:, 0] = self.game_loop
        batch["score_cumulative"][:, 0] = self.score
        batch["available_actions"][:] = self.available()
        batch["control_groups"][:, :, 0] = np.where(self.groups, MARINE_UNIT_TYPE, 0)
        batch["control_groups"][:, :, 1] = self.groups
        batch["single_select"][:, 0] = np.where(self.selected[:, None], _MARINE_UNIT_LAYER, 0)
        batch["single_select_count"][:] = self.selected
        acted = self.last_action >= 0
        batch["last_actions"][:, 0] = np.where(acted, self.last_action, 0)
        batch["last_actions_count"][:] = acted
        if self.use_feature_units:
            self._feature_units(batch)
        return batch

    def _draw_units(self, layers, transform, names, dynamic_layers, previous, draw_unit_type):
        """Clear the unit pixels drawn last time, draw beacon then marine; returns what was drawn."""
        if previous is not None:
            env, row, col = previous
            layers[env[:, None], dynamic_layers[None, :], row[:, None], col[:, None]] = 0
        beacon = geometry.footprint(transform, self.beacon, BEACON_RADIUS)
        env, row, col = beacon
        layers[env, names.player_id.index, row, col] = 16
        layers[env, names.player_relative.index, row, col] = features.PlayerRelative.NEUTRAL
        if draw_unit_type:
            layers[env, names.unit_type.index, row, col] = BEACON_UNIT_TYPE
        if names is SCREEN:
            layers[env, SCREEN.unit_density.index, row, col] = 1
            layers[env, SCREEN.unit_density_aa.index, row, col] = 16
        marine = geometry.footprint(transform, self.marine, MARINE_RADIUS)
        env, row, col = marine
        layers[env, names.player_id.index, row, col] = 1
        layers[env, names.player_relative.index, row, col] = features.PlayerRelative.SELF
        layers[env, names.selected.index, row, col] = self.selected[env]
        if draw_unit_type:
            layers[env, names.unit_type.index, row, col] = MARINE_UNIT_TYPE
        if names is SCREEN:
            layers[env, SCREEN.unit_hit_points.index, row, col] = MARINE_HEALTH
            layers[env, SCREEN.unit_hit_points_ratio.index, row, col] = 255
            layers[env, SCREEN.unit_density.index, row, col] += 1
            layers[env, SCREEN.unit_density_aa.index, row, col] += 16
        return tuple(np.concatenate(parts) for parts in zip(beacon, marine))

    def _feature_units(self, batch):
        """Rows as pysc2's transform_obs builds them: screen pixel positions, on-screen units only."""
        fu = features.FeatureUnit
        table = batch["feature_units"]
        count = batch["feature_units_count"]
        table[:, :count.max(initial=0)] = 0
        count[:] = 0
        for unit_pos, radius in ((self.marine, MARINE_RADIUS), (self.beacon, BEACON_RADIUS)):
            pixel = self.screen.to_pixels(unit_pos)
            on_screen = ((pixel[:, 0] >= 0) & (pixel[:, 0] < self.screen_size[0])
                         & (pixel[:, 1] >= 0) & (pixel[:, 1] < self.screen_size[1]))
            rows = np.flatnonzero(on_screen)
            slot = count[rows]
            row = table[rows, slot]
            row[:, fu.x] = np.floor(pixel[rows, 0])
            row[:, fu.y] = np.floor(pixel[rows, 1])
            row[:, fu.radius] = self.screen.radius_pixels(radius)
            row[:, fu.display_type] = 1  # visible
            row[:, fu.cloak] = 3  # not cloaked
            row[:, fu.is_powered] = 1
            row[:, fu.is_on_screen] = 1
            row[:, fu.build_progress] = 100
            if unit_pos is self.marine:
                row[:, fu.unit_type] = MARINE_UNIT_TYPE
                row[:, fu.alliance] = features.PlayerRelative.SELF
                row[:, fu.owner] = 1
                row[:, fu.health] = MARINE_HEALTH
                row[:, fu.health_ratio] = 255
                row[:, fu.facing] = self.facing[rows]
                row[:, fu.is_selected] = self.selected[rows]
                orders = self.order_count[rows]
                row[:, fu.order_length] = orders
                for column, k in ((fu.order_id_0, 0), (fu.order_id_1, 1),
                                  (fu.order_id_2, 2), (fu.order_id_3, 3)):
                    row[:, column] = _ORDER_RAW_FUNCTION[self.order_kind[rows, k]]
            else:
                row[:, fu.unit_type] = BEACON_UNIT_TYPE
                row[:, fu.alliance] = features.PlayerRelative.NEUTRAL
                row[:, fu.owner] = 16
            table[rows, slot] = row
            count[rows] += 1
