"""Observations: pysc2's feature layers, unit lists and vectors, drawn from the world's arrays.

`Observer.observe` writes one batch (`minigames/batch_format.py`) for all environments as one
player sees them. Its arrays are reused from call to call; only the pixels units covered last
time are cleared and redrawn, and the static layers are redrawn only where the camera moved, the
ground changed or (visibility) the player's vision changed, so the cost follows the units on
screen, not the 27 + 11 layers of every game.

Drawing. A unit covers the pixels of its footprint (`geometry.footprints`: the disc of its radius).
Where footprints overlap, the layers show the top unit: air over ground units over structures over
neutral units, and among equals the unit in the later slot (a reading; the game's draw order is not
documented). `unit_density` counts every unit covering the pixel and `unit_density_aa` is 16 per
unit (at most 255). Layer values:

* player_id: the owner (neutral: 16); player_relative: 1 self, 3 neutral, 4 enemy;
* unit_type, selected (by this player), unit_hit_points (rounded up), the ratios as value / max *
  255, energy and shields likewise;
* active: the unit has an order; build_progress: progress * 255 of unfinished structures, 0 for
  finished units (readings);
* height_map: the map's height grid; visibility_map: `minigames.vision`; pathable and buildable:
  each game's grids (`minigames.placement`: the map's, less the footprints of structures and
  resources); creep, power, effects, buffs and the rest: 0.

The minimap draws every unit the player sees over the whole map (`unit_type` only with
`allow_cheating_layers`, as pysc2), and the `camera` layer marks the pixels whose centre the screen
covers. `feature_units` lists the units whose centre is on the screen, in slot order; a structure's
order columns show its training queue (order_progress_0: the first unit's progress * 100), and
town halls and refineries their assigned and ideal harvesters (`harvesters`).

Vectors: the player vector (food from `production.food`), `score_cumulative` (the world's, with
the curriculum score and the value of units and structures counted when observed), `last_actions`
and `action_result` (commands refused since the last observation), and `build_queue` /
`production_queue` when a single own structure with units in its queue is selected (pysc2's
production panel).
"""
import numba
import numpy as np
from pysc2.lib import actions, features

from minigames import batch_format, geometry, production
from minigames.units import GROUND, TABLE
from minigames.world import NEUTRAL, KeptForLast, Order, compact, gather, nonzero

SCREEN = features.SCREEN_FEATURES
MINIMAP = features.MINIMAP_FEATURES
FU = features.FeatureUnit
UL = features.UnitLayer
PLAYER = features.Player
_SCREEN_UNIT_LAYERS = np.array([getattr(SCREEN, name).index for name in (
    "player_id", "player_relative", "unit_type", "selected", "unit_hit_points",
    "unit_hit_points_ratio", "unit_energy", "unit_energy_ratio", "unit_shields",
    "unit_shields_ratio", "unit_density", "unit_density_aa", "active", "build_progress")])
_MINIMAP_UNIT_LAYERS = np.array([getattr(MINIMAP, name).index for name in (
    "player_id", "player_relative", "selected", "unit_type")])
NEUTRAL_PLAYER_ID = 16
# Drawn on top of each other, per type: structures (1), ground units (2), air units (3); neutral
# units (0) lie below everything.
DRAW_LEVEL = np.where(TABLE.is_structure, 1, np.where(TABLE.is_flying, 3, 2))
# PlayerRelative values as ints (numpy handles them faster than IntEnums).
_SELF, _NEUTRAL, _ENEMY = (int(features.PlayerRelative.SELF), int(features.PlayerRelative.NEUTRAL),
                           int(features.PlayerRelative.ENEMY))
SC = features.ScoreCumulative
_ORDER_ID_COLUMNS = [FU.order_id_0, FU.order_id_1, FU.order_id_2, FU.order_id_3]
# feature_units' order columns hold raw function ids; the engine's orders map to these, a Build
# order and a structure's training to the raw function of what is being made.
_ORDER_RAW_FUNCTION = np.zeros(8, np.int64)
for _order, _function in ((Order.MOVE, actions.FUNCTIONS.Move_Move_screen),
                          (Order.ATTACK, actions.FUNCTIONS.Attack_Attack_screen),
                          (Order.PATROL, actions.FUNCTIONS.Patrol_Patrol_screen),
                          (Order.HOLD, actions.FUNCTIONS.HoldPosition_Hold_quick),
                          (Order.GATHER, actions.FUNCTIONS.Harvest_Gather_SCV_screen),
                          (Order.RETURN, actions.FUNCTIONS.Harvest_Return_SCV_quick)):
    _ORDER_RAW_FUNCTION[_order] = actions.RAW_ABILITY_ID_TO_FUNC_ID.get(_function.ability_id, 0)
TRAIN_ABILITY = np.zeros(TABLE.size, np.int64)  # the ability that makes each type
for _made, _function in production.FUNCTION_OF.items():
    TRAIN_ABILITY[_made] = actions.FUNCTIONS[_function].ability_id
MAKE_RAW_FUNCTION = np.array([actions.RAW_ABILITY_ID_TO_FUNC_ID.get(a, 0) for a in TRAIN_ABILITY])
# Harvesters a town hall wants per mineral field near it, and a refinery in all (the game's
# ideal_harvesters); "near" is within NEAR_TOWN_HALL of the hall's centre (a reading).
HARVESTERS_PER_FIELD, HARVESTERS_PER_REFINERY, NEAR_TOWN_HALL = 2, 3, 10.0


class Observer:
    """Draws the observations of one player of a `Game`."""

    def __init__(self, game, player):
        self.game = game
        self.player = player
        self.batch = None
        self._screen_drawn = None  # flat indices (layer 0) of the unit pixels drawn last time
        self._minimap_drawn = None
        self._scratch_arrays = {}  # layers' shape -> scratch arrays for drawing units (`_scratch`)
        # Map cells under every pixel: (row, col, inside the map), [E, H, W] each; the screen's
        # follow the camera (`_static_camera`).
        self._screen_cells = self._minimap_cells = self._minimap_centres = None
        self._static_camera = None  # [E, 2] camera the screen's cells were computed for
        self._static_version = None  # [E] game.ground.version of the ground layers drawn
        self._minimap_version = None
        self._minimap_camera = None
        self._screen_vision = None  # [E] game.vision.version of the visibility layers drawn
        self._minimap_vision = None

    # ----------------------------------------------------------------------- what is where
    def visible_units(self, rows=None):
        return self.game.vision.sees(self.player, rows)

    def draw_priority(self, rows=None):
        """[R, U] key (R: `rows`, or all environments): the unit with the larger key is drawn on
        top (and clicked)."""
        world = self.game.world
        owner, level = world.owner, world.per_type(DRAW_LEVEL)
        if rows is not None:
            owner, level = owner[rows], level[rows]
        return np.where(owner == NEUTRAL, 0, level) * world.max_units + np.arange(world.max_units)

    def _screen_footprints(self, visible):
        """(unit, row, col) of the screen pixels covered by the units `visible` [E, U] (units by
        flat index env * U + slot)."""
        world = self.game.world
        view = self.game.screen
        visible = np.flatnonzero(visible)  # flat index (faster gathers than by (env, slot))
        offset = view.camera_offset(world.camera[:, self.player - 1]).take(
            visible // world.max_units, axis=0)
        centre = view.to_pixels(np.take(world.pos.reshape(-1, 2), visible, axis=0), offset)
        return _footprints_of(visible, centre, view, world.radius.ravel()[visible])

    def unit_at(self, rows, pixels):
        """[R] slot of the top unit drawn at screen pixel (x, y) [R, 2] of environments `rows`
        (-1: none): the visible unit of highest `draw_priority` whose footprint holds the pixel
        (`geometry.hits_footprint`, the pixels `geometry.footprints` draws)."""
        world = self.game.world
        view = self.game.screen
        offset = view.camera_offset(world.camera[rows, self.player - 1])
        centre = view.to_pixels(world.pos[rows], offset[:, None, :])
        radius = view.radius_pixels(world.radius[rows])
        hit = self.visible_units(rows) & geometry.hits_footprint(centre, radius,
                                                                 pixels[:, None, :])
        key = np.where(hit, self.draw_priority(rows), -1)
        return np.where(hit.any(axis=1), key.argmax(axis=1), -1)

    # ------------------------------------------------------------------------ observation
    def observe(self):
        game = self.game
        view = game.view
        if self.batch is None:
            self.batch = batch_format.empty_batch(game.num_envs, view.screen_size,
                                                  view.minimap_size, view.use_feature_units)
        batch = self.batch
        game.update_vision()
        visible = self.visible_units()
        self._draw_static_screen(batch["feature_screen"])
        self._screen_drawn = self._draw_units(
            batch["feature_screen"], self._screen_drawn, *self._screen_footprints(visible),
            game.screen, SCREEN, _SCREEN_UNIT_LAYERS, True)
        self._draw_static_minimap(batch["feature_minimap"])
        self._minimap_drawn = self._draw_units(
            batch["feature_minimap"], self._minimap_drawn, *self._minimap_footprints(visible),
            game.minimap, MINIMAP, _MINIMAP_UNIT_LAYERS, view.allow_cheating_layers)
        self._vectors(batch)
        self._selection(batch)
        if view.use_feature_units:
            self._feature_units(batch, visible)
        return batch

    def _minimap_footprints(self, visible):
        """(unit, row, col) of the minimap pixels covered by the units `visible` [E, U]."""
        world = self.game.world
        view = self.game.minimap
        visible = np.flatnonzero(visible)  # flat index env * U + slot
        centre = view.to_pixels(np.take(world.pos.reshape(-1, 2), visible, axis=0))
        return _footprints_of(visible, centre, view, world.radius.ravel()[visible])

    def _draw_units(self, layers, previous, unit, row, col, view, names, unit_layers,
                    draw_unit_type):
        """Clear the unit pixels of last time not drawn again, draw the top unit of every covered
        pixel (pixels (row, col) covered by units `unit`, flat indices env * U + slot).

        Pixels are written through flat indices into `layers` [E, layers, H, W] (one index array
        per write instead of four); returns the flat indices of the drawn pixels in layer 0.
        """
        world = self.game.world
        plane = view.height * view.width
        cells = layers.reshape(-1)
        # The covered pixels (flat index env * plane + row * width + col; then in layer 0 of
        # their env), each one's top unit (an index into `top`, the top units, each once) and
        # how many units cover it.
        pixel = (unit // world.max_units * view.height + row) * view.width + col
        best, covering, column, marks = self._scratch(layers)
        pixel, top, top_index, density = _top_units(
            pixel, unit, self.draw_priority().ravel()[unit], best, covering, column)
        drawn = pixel + pixel // plane * (layers.shape[1] - 1) * plane
        if previous is not None:
            # Pixels drawn again get every unit layer written below (the unit type, when it is
            # not drawn, is never written: it stays 0), so only the pixels no unit covers now
            # are cleared.
            _clear_pixels(cells, previous, drawn, unit_layers * plane, marks)

        # The layers' values of each top unit, worked out once per unit (a few hundred) rather
        # than once per pixel (thousands), as rows [layers written, top units] of the layers'
        # dtype (the cast a write into them makes); each pixel takes its top unit's column.
        unit_type, owner = world.unit_type.ravel()[top], world.owner.ravel()[top]
        p = self.player
        values = [(names.player_id, np.where(owner == NEUTRAL, NEUTRAL_PLAYER_ID, owner)),
                  (names.player_relative, relative(owner, p)),
                  (names.selected, world.selected[:, p - 1].ravel()[top])]
        if draw_unit_type:
            values.append((names.unit_type, unit_type))
        if names is SCREEN:
            health, max_health = world.health.ravel()[top], TABLE.max_health[unit_type]
            energy, max_energy = world.energy.ravel()[top], TABLE.max_energy[unit_type]
            shields, max_shields = world.shields.ravel()[top], TABLE.max_shield[unit_type]
            progress = world.build_progress.ravel()[top]
            values += [(SCREEN.unit_hit_points, np.ceil(health)),
                       (SCREEN.unit_hit_points_ratio, _ratio(health, max_health)),
                       (SCREEN.unit_energy, energy),
                       (SCREEN.unit_energy_ratio, _ratio(energy, max_energy)),
                       (SCREEN.unit_shields, shields),
                       (SCREEN.unit_shields_ratio, _ratio(shields, max_shields)),
                       (SCREEN.active, world.order_count.ravel()[top] > 0),
                       (SCREEN.build_progress, np.where(progress < 1.0, progress * 255, 0))]
        of_unit = np.empty((len(values), top.size), layers.dtype)
        for layer_row, (_, value) in enumerate(values):
            of_unit[layer_row] = value
        offset = np.array([layer.index for layer, _ in values]) * plane
        _paint_pixels(cells, drawn, top_index, of_unit, offset)
        if names is SCREEN:  # (the pixel's own counts)
            cells[drawn + SCREEN.unit_density.index * plane] = density
            cells[drawn + SCREEN.unit_density_aa.index * plane] = np.minimum(16 * density, 255)
        return drawn

    def _scratch(self, layers):
        """Scratch arrays for drawing units on `layers` [E, layers, H, W], kept and left as they
        are made: for `_top_units`, [E * H * W] all -1 and all 0 and [slots] all -1; for
        `_clear_pixels`, [cells of `layers`] all False."""
        if layers.shape not in self._scratch_arrays:
            pixels = layers.shape[0] * layers.shape[2] * layers.shape[3]
            self._scratch_arrays[layers.shape] = (
                np.full(pixels, -1, np.int64), np.zeros(pixels, np.int64),
                np.full(self.game.world.alive.size, -1, np.int64), np.zeros(layers.size, bool))
        return self._scratch_arrays[layers.shape]

    def _draw_static_screen(self, layers):
        """The ground layers where the camera moved or the ground changed; visibility also where
        the player's vision changed (`Vision.version`)."""
        game = self.game
        camera = game.world.camera[:, self.player - 1]
        if self._screen_cells is None:
            self._screen_cells = tuple(np.zeros((game.num_envs, game.screen.height,
                                                 game.screen.width), dtype)
                                       for dtype in (np.int64, bool, np.int64))
            moved = np.ones(game.num_envs, bool)
        else:
            moved = np.any(camera != self._static_camera, axis=1)
        rows = np.flatnonzero(moved)
        if rows.size:
            offset = game.screen.camera_offset(camera[rows])
            x, y = game.screen.pixel_centre_axes(offset)  # a pixel's cell: its column's x,
            cells = self._cells_of(x[:, None, :], y[:, :, None])  # its row's y
            for cached, new in zip(self._screen_cells, cells):
                cached[rows] = new
            self._static_camera = camera.copy()
        # (the games as masks, OR-ed: their indices are those np.union1d would give, cheaper)
        version = game.ground.version
        if self._static_version is not None:
            moved |= self._static_version != version
        self._sample(layers, moved.nonzero()[0], self._screen_cells, SCREEN, ground=True)
        if self._screen_vision is not None:
            moved |= self._screen_vision != game.vision.version
        self._sample(layers, moved.nonzero()[0], self._screen_cells, SCREEN, ground=False)
        self._static_version = version.copy()
        self._screen_vision = game.vision.version.copy()

    def _draw_static_minimap(self, layers):
        """The minimap's ground layers when the ground changed, visibility where the vision
        changed, and its camera layer where the camera moved."""
        game = self.game
        rows = np.arange(game.num_envs)
        if self._minimap_cells is None:
            centres = game.minimap.pixel_centres()
            self._minimap_centres = centres
            self._minimap_cells = tuple(np.broadcast_to(c, (game.num_envs,) + c.shape)
                                        for c in self._cells_of(centres[..., 0],
                                                                centres[..., 1]))
            self._sample(layers, rows, self._minimap_cells, MINIMAP, ground=False)
        changed = (rows if self._minimap_version is None
                   else np.flatnonzero(self._minimap_version != game.ground.version))
        self._sample(layers, changed, self._minimap_cells, MINIMAP, ground=True)
        self._minimap_version = game.ground.version.copy()
        if self._minimap_vision is not None:
            self._sample(layers, np.flatnonzero(self._minimap_vision != game.vision.version),
                         self._minimap_cells, MINIMAP, ground=False)
        self._minimap_vision = game.vision.version.copy()
        camera = game.world.camera[:, self.player - 1]
        moved = (np.ones(game.num_envs, bool) if self._minimap_camera is None
                 else np.any(camera != self._minimap_camera, axis=1))
        rows = np.flatnonzero(moved)
        if rows.size:
            centres = self._minimap_centres
            half = np.array([game.screen.width, game.screen.height]) / game.screen.scale / 2.0
            low, high = camera[rows] - half, camera[rows] + half
            layers[rows, MINIMAP.camera.index] = (
                (centres[..., 0] >= low[:, None, None, 0])
                & (centres[..., 0] <= high[:, None, None, 0])
                & (centres[..., 1] >= low[:, None, None, 1])
                & (centres[..., 1] <= high[:, None, None, 1]))
            self._minimap_camera = camera.copy()

    def _cells_of(self, x, y):
        """World points (x, y; arrays that broadcast together) -> the map cells under them:
        (flat index row * width + col into a map grid, inside the map, `Vision.cell_index` into
        a padded vision grid)."""
        vision = self.game.vision
        height, width = vision.shape
        inside = ((x >= 0) & (x < width)) & ((y >= 0) & (y < height))
        row, col = geometry.cell_of_xy(x, y, height, width)
        return row * width + col, inside, vision.cell_index(row, col)

    def _sample(self, layers, rows, cells, names, ground):
        """Write the ground layers (height, pathable, buildable), or the visibility layer, of
        environments `rows` from the map's grids at the pixels' cells; cells off the map get 0."""
        if rows.size == 0:
            return
        game = self.game
        # `rows` are sorted and distinct: all of them are every environment (the usual case for
        # visibility), whose arrays are taken whole (a view) instead of gathered row by row.
        games = slice(None) if rows.size == game.num_envs else rows
        cell, inside, vision_cell = cells
        inside = inside[games]
        on_map = np.count_nonzero(inside) == inside.size  # (most screens): nothing to mask

        def masked(values):
            return values if on_map else np.where(inside, values, 0)

        # Gathers by flat index (one index array instead of two to four: faster).
        if ground:
            cell = cell[games]
            layers[games, names.height_map.index] = masked(game.height_grid.ravel()[cell])
            height, width = game.vision.shape
            env_cell = rows[:, None, None] * (height * width) + cell
            for layer, grid in ((names.pathable, game.ground.pathable),
                                (names.buildable, game.ground.buildable)):
                layers[games, layer.index] = masked(grid.ravel()[env_cell])
        else:
            visibility = game.vision.at_cells(rows, self.player, vision_cell[games])
            layers[games, names.visibility_map.index] = masked(visibility)

    # ----------------------------------------------------------------------- vectors
    def _vectors(self, batch):
        game, world = self.game, self.game.world
        p = self.player
        own = world.alive & (world.owner == p)
        supply = world.per_type(TABLE.supply)
        workers = own & world.per_type(TABLE.is_worker)
        army = game.interface.army(p)
        food_used, food_cap = production.food(world, p)
        player = batch["player"]
        player[:, PLAYER.player_id] = p
        player[:, PLAYER.minerals] = world.minerals[:, p - 1]
        player[:, PLAYER.vespene] = world.vespene[:, p - 1]
        player[:, PLAYER.food_used] = np.ceil(food_used)
        player[:, PLAYER.food_cap] = food_cap
        player[:, PLAYER.food_army] = np.ceil(np.where(army, supply, 0).sum(1))
        player[:, PLAYER.food_workers] = np.where(workers, supply, 0).sum(1)
        player[:, PLAYER.idle_worker_count] = game.interface.idle_workers(p).sum(axis=1)
        player[:, PLAYER.army_count] = army.sum(axis=1)
        batch["game_loop"][:, 0] = world.game_loop
        score = batch["score_cumulative"]
        score[:] = world.score_cumulative[:, p - 1]
        if p == 1:
            score[:, SC.score] = world.score
        # The value of what a player has, counted when it is observed.
        value = np.where(own, world.per_type(production.VALUE), 0)
        structure = world.per_type(TABLE.is_structure)
        score[:, SC.total_value_units] = np.where(structure, 0, value).sum(axis=1)
        score[:, SC.total_value_structures] = np.where(structure, value, 0).sum(axis=1)
        batch["available_actions"][:] = game.available(p)
        for name, reported in (("last_actions", game.interface.last_actions),
                               ("action_result", game.interface.action_results)):
            values, count = reported(p)
            batch[name][:] = np.where(np.arange(values.shape[1]) < count[:, None], values, 0)
            batch[name + "_count"][:] = count

    def _selection(self, batch):
        world = self.game.world
        p = self.player
        selected = world.selected[:, p - 1] & world.alive
        rows = unit_layer_rows(world, selected, p)  # [E, K, 7], K the most units selected
        count = selected.sum(axis=1)
        single = count == 1
        batch["single_select"][:, 0] = np.where(single[:, None], rows[:, 0], 0) if rows.size else 0
        batch["single_select_count"][:] = single
        limit = min(batch["multi_select"].shape[1], world.max_units)
        shown = min(limit, rows.shape[1])
        multi = count >= 2
        batch["multi_select"][:, :shown] = np.where(multi[:, None, None], rows[:, :shown], 0)
        batch["multi_select"][:, shown:limit] = 0
        batch["multi_select_count"][:] = np.where(multi, np.minimum(count, limit), 0)
        groups = world.groups[:, p - 1] & world.alive[:, None, :]
        first = groups.argmax(axis=2)
        members = groups.sum(axis=2)
        leader = np.take_along_axis(world.unit_type[:, None, :], first[..., None], axis=2)[..., 0]
        batch["control_groups"][:, :, 0] = np.where(members > 0, leader, 0)
        batch["control_groups"][:, :, 1] = members
        self._production_panel(batch, selected, single)

    def _production_panel(self, batch, selected, single):
        """build_queue and production_queue of a single selected own structure that trains."""
        world = self.game.world
        slot = selected.argmax(axis=1)
        env = np.arange(world.num_envs)
        count = np.where(single & (world.owner[env, slot] == self.player),
                         world.queue_count[env, slot], 0)
        if not count.any() and not batch["build_queue_count"].any():
            return  # no panel now, and none drawn last time
        rows = min(batch["build_queue"].shape[1], world.queue_type.shape[2])
        in_queue = np.arange(rows)[None, :] < count[:, None]
        queue_type = np.where(in_queue, world.queue_type[env, slot, :rows], 0)
        progress = np.zeros(in_queue.shape)
        progress[:, 0] = world.queue_loops[env, slot] / np.maximum(
            TABLE.build_loops[queue_type[:, 0]], 1)
        progress = np.where(in_queue, np.floor(progress * 100), 0)
        build_queue = batch["build_queue"]
        build_queue[:] = 0
        build_queue[:, :rows, UL.unit_type] = queue_type
        build_queue[:, :rows, UL.player_relative] = np.where(in_queue, _SELF, 0)
        build_queue[:, :rows, UL.health] = np.where(in_queue, TABLE.max_health[queue_type], 0)
        build_queue[:, :rows, UL.build_progress] = progress
        production_queue = batch["production_queue"]
        production_queue[:] = 0
        production_queue[:, :rows, features.ProductionQueue.ability_id] = np.where(
            in_queue, TRAIN_ABILITY[queue_type], 0)
        production_queue[:, :rows, features.ProductionQueue.build_progress] = progress
        batch["build_queue_count"][:] = count
        batch["production_queue_count"][:] = count

    def _feature_units(self, batch, visible):
        game, world = self.game, self.game.world
        view = game.screen
        p = self.player
        # The screen pixels of the visible units (by flat index env * U + slot: a few of the
        # slots), and which of them are on the screen.
        seen = visible.ravel().nonzero()[0]
        offset = view.camera_offset(world.camera[:, p - 1]).take(seen // world.max_units, axis=0)
        pixel = view.to_pixels(world.pos.reshape(-1, 2).take(seen, axis=0), offset)
        inside = ((pixel[:, 0] >= 0) & (pixel[:, 0] < view.width)
                  & (pixel[:, 1] >= 0) & (pixel[:, 1] < view.height))
        on_screen = np.zeros(visible.shape, bool)
        on_screen.ravel()[seen[inside]] = True
        table, count = batch["feature_units"], batch["feature_units_count"]
        limit = table.shape[1]
        table[:, :count.max(initial=0)] = 0
        rank = np.cumsum(on_screen, axis=1) - 1
        # Units by flat index env * U + slot, rows of the table by flat index env * limit + rank
        # (gathers by one index array are several times faster than by two).
        listed = rank.ravel()[seen[inside]] < limit  # (of the units on the screen, in order)
        unit = seen[inside][listed]
        env = unit // world.max_units
        row_index = env * limit + rank.ravel()[unit]
        # The rows to write, column by column: [columns, K], so that each column is contiguous
        # (written faster), transposed into the table at the end. Unset columns stay 0.
        rows = np.zeros((table.shape[2], unit.size), table.dtype)

        def of(array):  # [E, U] -> [K] values of the units
            return array.ravel()[unit]

        def queues(array):  # [E, U, Q] -> [K, Q] queues of the units
            return np.take(array.reshape(len(array) * world.max_units, -1), unit, axis=0)

        unit_type, owner = of(world.unit_type), of(world.owner)
        health, shields, energy = of(world.health), of(world.shields), of(world.energy)
        rows[FU.unit_type] = unit_type
        rows[FU.alliance] = relative(owner, p)
        rows[FU.health] = np.ceil(health)
        rows[FU.shield] = shields
        rows[FU.energy] = energy
        rows[FU.build_progress] = of(world.build_progress) * 100
        rows[FU.health_ratio] = _ratio(health, TABLE.max_health[unit_type])
        rows[FU.shield_ratio] = _ratio(shields, TABLE.max_shield[unit_type])
        rows[FU.energy_ratio] = _ratio(energy, TABLE.max_energy[unit_type])
        rows[FU.display_type] = 1  # visible
        rows[FU.owner] = np.where(owner == NEUTRAL, NEUTRAL_PLAYER_ID, owner)
        unit_pixel = pixel[inside][listed]
        rows[FU.x] = np.floor(unit_pixel[:, 0])
        rows[FU.y] = np.floor(unit_pixel[:, 1])
        rows[FU.facing] = of(world.facing)
        rows[FU.radius] = view.radius_pixels(of(world.radius))
        rows[FU.cloak] = 3  # not cloaked
        rows[FU.is_selected] = of(world.selected[:, p - 1])
        rows[FU.is_powered] = 1
        rows[FU.mineral_contents] = of(world.minerals_left)
        rows[FU.vespene_contents] = of(world.vespene_left)
        rows[FU.weapon_cooldown] = np.where(
            TABLE.weapon_damage[unit_type, GROUND] > 0, of(world.cooldown), 0)
        # Orders: a unit's order queue, or a structure's training queue (the first four of
        # either in the order_id columns: [K, 4] arrays).
        queue = of(world.queue_count)
        orders = np.where(queue > 0, queue, of(world.order_count))
        rows[FU.order_length] = orders
        kind, build_type = queues(world.order_kind)[:, :4], queues(world.order_build_type)[:, :4]
        order = np.where(kind == Order.BUILD, MAKE_RAW_FUNCTION[build_type],
                         _ORDER_RAW_FUNCTION[kind])
        queue_type = queues(world.queue_type)
        training = MAKE_RAW_FUNCTION[queue_type[:, :4]]
        rows[_ORDER_ID_COLUMNS] = np.where(orders[:, None] > np.arange(4), np.where(
            (queue > 0)[:, None], training, order), 0).T
        rows[FU.order_progress_0] = np.where(
            queue > 0, np.floor(100 * of(world.queue_loops)
                                / np.maximum(TABLE.build_loops[queue_type[:, 0]], 1)), 0)
        rows[FU.active] = orders > 0
        assigned, ideal = harvesters(world)
        rows[FU.assigned_harvesters] = of(assigned)
        rows[FU.ideal_harvesters] = of(ideal)
        rows[FU.is_on_screen] = 1
        table.reshape(-1, table.shape[2])[row_index] = rows.T
        count[:] = np.minimum(on_screen.sum(axis=1), limit)


def harvesters(world):
    """([E, U] assigned, [E, U] ideal harvesters) of town halls and refineries: a refinery's are
    the workers gathering from it (ideal 3); a town hall's, the workers gathering the mineral
    fields within NEAR_TOWN_HALL of it (ideal 2 per field there)."""
    assigned = np.zeros(world.alive.shape)
    ideal = np.zeros(world.alive.shape)
    refinery = world.alive & world.per_type(TABLE.needs_geyser)
    halls = world.alive & world.per_type(TABLE.is_townhall)
    if not (refinery.any() or halls.any()):
        return assigned, ideal
    gathering = world.alive & (world.current_order() == Order.GATHER)
    env, slot = nonzero(gathering)
    on = np.zeros(world.alive.shape)
    np.add.at(on, (env, world.order_target[env, slot, 0]), 1.0)
    assigned[refinery] = on[refinery]
    ideal[refinery & (world.build_progress >= 1.0)] = HARVESTERS_PER_REFINERY
    if halls.any():
        fields = world.alive & (world.minerals_left > 0)
        h_slot, h_ok = _compact_halls(halls)
        f_slot, f_ok = _compact_fields(fields)
        near = _kept_near_fields(gather(world.pos, h_slot), gather(world.pos, f_slot), h_ok, f_ok)
        e, k = nonzero(h_ok)
        assigned[e, h_slot[e, k]] = (near * gather(on, f_slot)[:, None, :]).sum(axis=2)[e, k]
        ideal[e, h_slot[e, k]] = near.sum(axis=2)[e, k] * HARVESTERS_PER_FIELD
    return assigned, ideal


def _near_fields(hall_pos, field_pos, h_ok, f_ok):
    """[E, H, F] bool: the fields within NEAR_TOWN_HALL of each town hall, from the positions
    [E, H, 2] and [E, F, 2] of the halls and fields of each game (`compact`ed: h_ok, f_ok)."""
    delta = hall_pos[:, :, None, :] - field_pos[:, None]
    return (np.hypot(delta[..., 0], delta[..., 1]) <= NEAR_TOWN_HALL) & (
        h_ok[:, :, None] & f_ok[:, None, :])


# (town halls and mineral fields come and go rarely, and neither moves)
_compact_halls, _compact_fields = KeptForLast(compact), KeptForLast(compact)
_kept_near_fields = KeptForLast(_near_fields)


@numba.njit(cache=True)
def _top_units(pixel, unit, priority, best, covering, column):
    """Pixels `pixel` [K] covered by units `unit` [K] of draw priority `priority` [K] -> the
    distinct pixels (in the order first covered); the top units (the unit of highest priority
    covering a pixel; each once, in the order first met); each pixel's index into them; how many
    units cover each pixel. `best`, `covering` (by pixel) and `column` (by unit), scratch arrays
    all -1, all 0 and all -1, are left so."""
    pixels = np.empty(len(pixel), np.int64)
    count = 0
    for k in range(len(pixel)):
        p = pixel[k]
        if covering[p] == 0:
            pixels[count] = p
            count += 1
        covering[p] += 1
        if best[p] < 0 or priority[k] > priority[best[p]]:
            best[p] = k
    pixels = pixels[:count]
    top, top_index = np.empty(count, np.int64), np.empty(count, np.int64)
    density = np.empty(count, np.int64)
    tops = 0
    for j in range(count):
        p = pixels[j]
        u = unit[best[p]]
        if column[u] < 0:
            column[u] = tops
            top[tops] = u
            tops += 1
        top_index[j], density[j] = column[u], covering[p]
        best[p], covering[p] = -1, 0
    column[top[:tops]] = -1
    return pixels, top[:tops], top_index, density


@numba.njit(cache=True)
def _clear_pixels(cells, previous, drawn, layer_offsets, marks):
    """Zero the layers at `layer_offsets` of the pixels `previous` that are not in `drawn` (flat
    indices in layer 0); `marks` (all False, by cell) is left so."""
    marks[drawn] = True
    for p in previous:
        if not marks[p]:
            for offset in layer_offsets:
                cells[p + offset] = 0
    marks[drawn] = False


@numba.njit(cache=True)
def _paint_pixels(cells, drawn, top_index, of_unit, layer_offsets):
    """Write each pixel's top unit's values (of_unit [layers, top units]) into the layers at
    `layer_offsets` of the pixels `drawn` (flat indices in layer 0)."""
    for j in range(len(drawn)):
        for r in range(len(layer_offsets)):
            cells[drawn[j] + layer_offsets[r]] = of_unit[r, top_index[j]]


def _footprints_of(unit, centre, view, radius):
    """(unit, row, col) of the pixels of `view` covered by units `unit` [K] (centres [K, 2] in
    its pixels, radii [K] in world units)."""
    k, row, col = geometry.footprints(centre, view.radius_pixels(radius), view.width,
                                      view.height)
    return unit[k], row, col


def relative(owner, player):
    """pysc2's PlayerRelative of units of `owner` seen by `player`."""
    return np.where(owner == NEUTRAL, _NEUTRAL, np.where(owner == player, _SELF, _ENEMY))


def _ratio(value, maximum):
    return np.where(maximum > 0, value / np.maximum(maximum, 1e-9) * 255, 0)


def unit_layer_rows(world, mask, player):
    """[E, K, 7] pysc2 UnitLayer rows of the units in `mask`, gathered to the front in slot
    order (K: the most units of any environment; the rest zeros)."""
    slots, keep = compact(mask)
    unit = world.flat_index(np.arange(world.num_envs)[:, None], slots).ravel()

    def of(array):  # [E, U] -> [E, K] values of the units in `slots`
        return array.ravel()[unit].reshape(slots.shape)

    rows = np.zeros(slots.shape + (len(UL),), np.int32)
    rows[..., UL.unit_type] = of(world.unit_type)
    rows[..., UL.player_relative] = relative(of(world.owner), player)
    rows[..., UL.health] = np.ceil(of(world.health))
    rows[..., UL.shields] = of(world.shields)
    rows[..., UL.energy] = of(world.energy)
    build_progress = of(world.build_progress)
    rows[..., UL.build_progress] = np.where(build_progress < 1.0, build_progress * 100, 0)
    rows[~keep] = 0
    return rows
