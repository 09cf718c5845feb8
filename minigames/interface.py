"""pysc2 function calls -> selections, the camera and orders; and which functions are available.

Actions arrive validated (the facades raise pysc2's errors first) as a function id and [13, 2]
argument values per environment (`minigames.action_format`). Points on the screen are read in the
acting player's camera; a unit "under" a screen point is the top unit whose footprint covers that
pixel in the player's observation (`Observer.unit_at`), so what an agent clicks is what it sees.

Selection (the readings where the real game's rules are not documented are marked):
* select_point: select replaces the selection with the unit under the point (nothing there: an
  empty selection); toggle adds or removes an own unit; select_all_type / add_all_type take every
  own unit of that type on the screen. Other players' units can be selected only one at a time.
* select_rect: own units touching the box; when it holds units and structures, only the units
  (as the game does); no own unit: the top other unit in the box (reading); empty box: an empty
  selection unless adding.
* select_army: own units that are neither workers nor structures. select_idle_worker: idle own
  workers (select / add one, the next after the last picked, or all). select_unit: the
  multi-selection panel (its rows are the selected units in slot order).
* control groups: recall (an empty group changes nothing), set, append, and their steal forms.
* move_camera: the camera centre goes to the minimap point, inside the playable area; on maps
  whose camera is locked it stays (pysc2_fidelity.md section 4.1).

Commands go to every selected own unit that offers the function (`map.functions` of its type). A
command nobody takes is ignored and not reported in `last_actions`, as the game does. Points are
moved into the playable area (a command to a point outside it sends units to its edge). The
commands and their orders:
* Attack (screen): an enemy under the point is attacked; elsewhere it is an attack-move.
  Attack (minimap) is an attack-move.
* Move, Patrol (screen or minimap): to the point. Smart (screen): attack an enemy under the point
  (units with a weapon), else move. Smart (minimap): move.
* HoldPosition, Stop: the queue is replaced by holding, or emptied.
Queued commands (`queued` = 1) go after the unit's orders; otherwise they replace them. A group
sent to a point outside the box around it keeps its formation (`_formation_offsets`).

The commands of workers and structures (Harvest_Gather, Harvest_Return, Build_*, Train_*, the
rallies, the cancels, build_queue, and what Smart means for them) are carried out by
`minigames.command_card`; a command the game would refuse (NotEnoughMinerals, a blocked building
spot, ...) is reported in the next observation's `action_result` and not in `last_actions`.
Structures under construction take no commands but Cancel. A specific function (for example
Rally_Building_screen) acts as its general one.
"""
import numpy as np
from pysc2.lib import actions

from minigames import command_card, economy, movement
from minigames.geometry import disc_meets_box
from minigames.units import GROUND, TABLE
from minigames.world import Order, nonzero

F = actions.FUNCTIONS
T = actions.TYPES
MAX_LAST_ACTIONS = 4
MAX_ACTION_RESULTS = 4
# Functions every player may use whatever is selected.
ALWAYS_AVAILABLE = (F.no_op.id, F.move_camera.id, F.select_point.id, F.select_rect.id,
                    F.select_control_group.id)

# Unit commands: the order each gives, and where its point is read (pysc2 function id -> value).
NO_POINT, SCREEN_POINT, MINIMAP_POINT = 0, 1, 2
COMMAND_ORDER = np.zeros(len(F), np.int8)  # 0: not a unit command the engine carries out
COMMAND_LAYER = np.zeros(len(F), np.int8)
for _function in F:  # where the economy's commands (`minigames.command_card`) read their point
    if command_card.HANDLED[_function.id]:
        COMMAND_LAYER[_function.id] = {actions.cmd_screen: SCREEN_POINT,
                                       actions.cmd_minimap: MINIMAP_POINT}.get(
            _function.function_type, NO_POINT)
for _function, _order, _layer in (
        (F.Attack_screen, Order.ATTACK, SCREEN_POINT), (F.Attack_minimap, Order.ATTACK, MINIMAP_POINT),
        (F.Move_screen, Order.MOVE, SCREEN_POINT), (F.Move_minimap, Order.MOVE, MINIMAP_POINT),
        (F.Patrol_screen, Order.PATROL, SCREEN_POINT), (F.Patrol_minimap, Order.PATROL, MINIMAP_POINT),
        (F.Smart_screen, Order.MOVE, SCREEN_POINT), (F.Smart_minimap, Order.MOVE, MINIMAP_POINT),
        (F.HoldPosition_quick, Order.HOLD, NO_POINT), (F.Stop_quick, Order.NONE, NO_POINT)):
    COMMAND_ORDER[_function.id] = _order
    COMMAND_LAYER[_function.id] = _layer
# The functions that click a unit on the screen: select_point and the commands on a screen point.
CLICKS_SCREEN = COMMAND_LAYER == SCREEN_POINT
CLICKS_SCREEN[F.select_point.id] = True
# Army units (select_army, food_army): units with supply that are neither workers nor structures.
IS_ARMY = ~TABLE.is_structure & ~TABLE.is_worker & (TABLE.supply > 0)
IS_COMMAND = np.zeros(len(F), bool)
IS_COMMAND[[f.id for f in (F.Attack_screen, F.Attack_minimap, F.Move_screen, F.Move_minimap,
                           F.Patrol_screen, F.Patrol_minimap, F.Smart_screen, F.Smart_minimap,
                           F.HoldPosition_quick, F.Stop_quick)]] = True
# ints: numpy compares them faster than pysc2's IntEnum ids
STOP, SMART_SCREEN, SMART_MINIMAP = (int(F.Stop_quick.id), int(F.Smart_screen.id),
                                     int(F.Smart_minimap.id))
SCREEN_ARG, MINIMAP_ARG, QUEUED_ARG = T.screen.id, T.minimap.id, T.queued.id


class Interface:
    """Per-player interface state (idle-worker cursor, last actions) and the action handlers."""

    def __init__(self, game):
        self.game = game
        n = game.num_envs
        # [unit type, function]: the map's command cards, reduced to what the engine carries out.
        self.functions = game.map.functions & (IS_COMMAND | command_card.HANDLED)
        self.requirements = {key: building for key, building in TABLE.requirement.items()
                             if self.functions[key]}
        # Actions carried out since the world last advanced (`pending`), and those carried out
        # before it did, which the observations report (`reported`): an observation is a
        # function of the state alone.
        self.pending_actions = np.zeros((n, 2, MAX_LAST_ACTIONS), np.int32)
        self.pending_count = np.zeros((n, 2), np.int32)
        self.reported_actions = np.zeros((n, 2, MAX_LAST_ACTIONS), np.int32)
        self.reported_count = np.zeros((n, 2), np.int32)
        self.idle_worker_cursor = np.full((n, 2), -1, np.int64)  # tag of the last picked worker
        # The ActionResult codes of refused commands, pending and reported likewise.
        self.pending_results = np.zeros((n, 2, MAX_ACTION_RESULTS), np.int32)
        self.pending_result_count = np.zeros((n, 2), np.int32)
        self.reported_results = np.zeros((n, 2, MAX_ACTION_RESULTS), np.int32)
        self.reported_result_count = np.zeros((n, 2), np.int32)

    def reset(self, rows):
        for count in (self.pending_count, self.reported_count, self.pending_result_count,
                      self.reported_result_count):
            count[rows] = 0
        self.idle_worker_cursor[rows] = -1

    def get_state(self):
        return {name: getattr(self, name).copy() for name in (
            "pending_actions", "pending_count", "reported_actions", "reported_count",
            "pending_results", "pending_result_count", "reported_results",
            "reported_result_count", "idle_worker_cursor")}

    def set_state(self, state):
        for name, value in state.items():
            getattr(self, name)[...] = value

    def publish_actions(self):
        """The world advances: the actions carried out (and refused) so far become those the
        next observations report (pysc2's `last_actions` and `action_result`)."""
        for pending, count, reported, reported_count in (
                (self.pending_actions, self.pending_count, self.reported_actions,
                 self.reported_count),
                (self.pending_results, self.pending_result_count, self.reported_results,
                 self.reported_result_count)):
            reported[:] = pending
            reported_count[:] = count
            count[:] = 0

    def last_actions(self, player):
        """([N, 4] function ids, [N] count) carried out before the world last advanced."""
        return self.reported_actions[:, player - 1], self.reported_count[:, player - 1]

    def action_results(self, player):
        """([N, 4] ActionResult codes, [N] count) of the commands refused before the world last
        advanced."""
        return self.reported_results[:, player - 1], self.reported_result_count[:, player - 1]

    @staticmethod
    def _record(store, count, rows, p, values):
        """Append one value per row to a per-player list (the oldest kept when it is full)."""
        slot = np.minimum(count[rows, p], store.shape[2] - 1)
        store[rows, p, slot] = values
        count[rows, p] = slot + 1

    # ------------------------------------------------------------------------ availability
    def available(self, player):
        world = self.game.world
        p = player - 1
        n = self.game.num_envs
        mask = np.zeros((n, len(F)), bool)
        mask[:, ALWAYS_AVAILABLE] = True
        selected = world.selected[:, p] & world.alive
        mask[:, F.select_unit.id] = selected.sum(axis=1) >= 2
        mask[:, F.select_idle_worker.id] = self.idle_workers(player).any(axis=1)
        mask[:, F.select_army.id] = self.army(player).any(axis=1)
        own = selected & (world.owner == player)
        commanded = own & (world.build_progress >= 1.0)
        # The commanded units by flat index env * U + slot, their types, and the types present
        # (np.bincount: as np.unique, faster).
        unit = commanded.ravel().nonzero()[0]
        unit_type = world.unit_type.ravel()[unit]
        count = np.bincount(unit_type)
        types = count.nonzero()[0]
        if types.size:
            # [N, T] does the environment have a commanded unit of type types[t] (each unit's
            # column t is its type's rank among the types present)
            has_type = np.zeros((n, types.size), bool)
            column_of_type = np.cumsum(count > 0) - 1
            has_type[unit // world.max_units, column_of_type[unit_type]] = True
            functions = self.functions[types]
            free = functions.copy()
            for (unit_type, function), _ in self.requirements.items():
                free[types == unit_type, function] = False
            # Each environment gets the commands of every type it has selected (a few types: a
            # loop over them is cheaper than a matrix product, which has no BLAS for integers).
            for column in range(types.size):
                mask |= has_type[:, column, None] & free[column]
            for (unit_type, function), building in self.requirements.items():
                column = np.flatnonzero(types == unit_type)
                if column.size:
                    mask[:, function] |= has_type[:, column[0]] & self.has_finished(player,
                                                                                    building)
        # What depends on the units' state rather than their type: Return Cargo needs cargo,
        # the cancels need something to cancel, build_queue a single structure that trains.
        workers = commanded & world.per_type(TABLE.is_worker)
        mask[:, F.Harvest_Return_quick.id] &= (workers & economy.carries(world)).any(axis=1)
        mask[:, F.Cancel_quick.id] = (own & ~commanded
                                      & world.per_type(TABLE.is_structure)).any(axis=1)
        training = (commanded & (world.queue_count > 0)).any(axis=1)
        mask[:, F.Cancel_Last_quick.id] = training
        mask[:, F.build_queue.id] = training & (selected.sum(axis=1) == 1)
        return mask

    def has_finished(self, player, unit_type):
        world = self.game.world
        return (world.alive & (world.owner == player) & (world.unit_type == unit_type)
                & (world.build_progress >= 1.0)).any(axis=1)

    def army(self, player):
        world = self.game.world
        return world.alive & (world.owner == player) & world.per_type(IS_ARMY)

    def idle_workers(self, player):
        world = self.game.world
        return (world.alive & (world.owner == player) & world.per_type(TABLE.is_worker)
                & (world.order_count == 0) & (world.build_progress >= 1.0))

    # ----------------------------------------------------------------------------- actions
    def apply(self, player, function_ids, values):
        """Carry out one action per environment. A specific function (Rally_Building_screen, ...)
        acts as its general form; `last_actions` reports the function as given."""
        p = player - 1
        given = function_ids
        function_ids = command_card.GENERAL[function_ids]
        executed = function_ids != int(F.no_op.id)
        refused = np.zeros(len(function_ids), np.int64)  # ActionResult codes
        # The unit under the screen point of every game that clicks the screen, looked up in one
        # go: a game takes one action, and reads the unit before its action changes anything (the
        # other games' actions leave it alone), so this is what each handler would read.
        under = np.full(len(function_ids), -1)
        clicks = np.flatnonzero(CLICKS_SCREEN[function_ids])
        if clicks.size:
            under[clicks] = self._unit_under(player, clicks, values[clicks, SCREEN_ARG])
        handlers = {  # by int id: numpy compares ints faster than pysc2's IntEnum ids
            int(F.move_camera.id): self._move_camera,
            int(F.select_point.id): lambda player, rows, values: self._select_point(
                player, rows, values, under[rows]),
            int(F.select_rect.id): self._select_rect,
            int(F.select_control_group.id): self._control_group,
            int(F.select_unit.id): self._select_unit,
            int(F.select_idle_worker.id): self._select_idle_worker,
            int(F.select_army.id): self._select_army,
        }
        for function_id in np.unique(function_ids).tolist():
            if function_id in handlers:
                rows = np.flatnonzero(function_ids == function_id)
                handlers[function_id](player, rows, values[rows])
        rows = np.flatnonzero(function_ids == int(F.build_queue.id))
        if rows.size:
            taken, refused[rows] = command_card.cancel_queued(
                self.game, player, rows, values[rows, T.build_queue_id.id, 0])
            executed[rows[~taken]] = False
        # The commands' points, likewise in one go (commands without one get 0, as before).
        rows = np.flatnonzero(COMMAND_LAYER[function_ids] != NO_POINT)
        point = np.zeros((len(function_ids), 2))
        point[rows] = self._command_points(player, rows, function_ids[rows], values[rows])
        for is_kind, carry_out in ((IS_COMMAND, self._commands),
                                   (command_card.HANDLED, self._economy_commands)):
            rows = np.flatnonzero(is_kind[function_ids])
            if rows.size:
                taken, refused[rows] = carry_out(player, rows, function_ids[rows], values[rows],
                                                 point[rows], under[rows])
                executed[rows[~taken]] = False
        rows = np.flatnonzero(executed)
        self._record(self.pending_actions, self.pending_count, rows, p, given[rows])
        rows = np.flatnonzero(refused)
        self._record(self.pending_results, self.pending_result_count, rows, p, refused[rows])

    # Selection.
    def _set_selection(self, player, rows, new, add):
        world = self.game.world
        p = player - 1
        add = np.asarray(add, bool)[:, None]
        world.selected[rows, p] = new | (add & world.selected[rows, p])

    def _own(self, player, rows):
        world = self.game.world
        return world.alive[rows] & (world.owner[rows] == player)

    def _unit_under(self, player, rows, pixels):
        """[R] slot of the top unit at each screen pixel (x, y) of rows, -1 where none."""
        view = self.game.screen
        inside = (pixels[:, 0] < view.width) & (pixels[:, 1] < view.height)
        unit = self.game.observers[player - 1].unit_at(rows, pixels)
        return np.where(inside, unit, -1)

    def _select_point(self, player, rows, values, unit):
        """`unit` [R]: the slot of the unit under each row's point (-1: none)."""
        world = self.game.world
        act = values[:, T.select_point_act.id, 0]
        hit = np.zeros((len(rows), world.max_units), bool)
        found = unit >= 0
        hit[np.flatnonzero(found), unit[found]] = True
        own = self._own(player, rows)
        hit_own = (hit & own).any(axis=1)
        current = world.selected[rows, player - 1]
        # select: the unit alone; toggle: flip an own unit (a selection of someone else's unit
        # is replaced); all_type: every own unit of its type on the screen.
        toggled = np.where(hit_own[:, None] & (current & own).any(axis=1, keepdims=True),
                           current ^ hit, hit)
        same_type = self._on_screen(player, rows) & own & (
            world.unit_type[rows] == world.unit_type[rows, np.maximum(unit, 0)][:, None])
        all_type = np.where(hit_own[:, None], same_type, hit)
        column = act[:, None]
        new = np.where(column == 0, hit, np.where(column == 1, toggled, all_type))
        self._set_selection(player, rows, new, (act == 3) & hit_own)

    def _on_screen(self, player, rows):
        world = self.game.world
        view = self.game.screen
        offset = view.camera_offset(world.camera[rows, player - 1])
        pixel = view.to_pixels(world.pos[rows], offset[:, None, :])
        return ((pixel[..., 0] >= 0) & (pixel[..., 0] < view.width) & (pixel[..., 1] >= 0)
                & (pixel[..., 1] < view.height))

    def _select_rect(self, player, rows, values):
        world = self.game.world
        view = self.game.screen
        offset = view.camera_offset(world.camera[rows, player - 1])
        centre = view.to_pixels(world.pos[rows], offset[:, None, :])
        radius = view.radius_pixels(world.radius[rows])
        corner_a = values[:, T.screen.id][:, None, :]
        corner_b = values[:, T.screen2.id][:, None, :]
        visible = self.game.observers[player - 1].visible_units(rows)
        inside = visible & disc_meets_box(centre, radius, corner_a, corner_b)
        own = inside & self._own(player, rows)
        mobile = own & ~TABLE.is_structure[world.unit_type[rows]]
        own = np.where(mobile.any(axis=1, keepdims=True), mobile, own)
        others = inside & ~own
        key = np.where(others, self.game.observers[player - 1].draw_priority(rows), -1)
        top = key.argmax(axis=1)
        single = np.zeros_like(others)
        pick = others.any(axis=1) & ~own.any(axis=1)
        single[np.flatnonzero(pick), top[pick]] = True
        self._set_selection(player, rows, own | single, values[:, T.select_add.id, 0] == 1)

    def _select_army(self, player, rows, values):
        self._set_selection(player, rows, self.army(player)[rows],
                            values[:, T.select_add.id, 0] == 1)

    def _select_idle_worker(self, player, rows, values):
        world = self.game.world
        p = player - 1
        act = values[:, T.select_worker.id, 0]
        idle = self.idle_workers(player)[rows]
        tags = np.where(idle, world.tag[rows], np.iinfo(np.int64).max)
        # One worker: the idle one with the next tag after the last picked (wrapping around).
        after = np.where(tags > self.idle_worker_cursor[rows, p][:, None], tags,
                         np.iinfo(np.int64).max)
        pick = np.where((after < np.iinfo(np.int64).max).any(axis=1), after.argmin(axis=1),
                        tags.argmin(axis=1))
        one = np.zeros_like(idle)
        has = idle.any(axis=1)
        one[np.flatnonzero(has), pick[has]] = True
        self.idle_worker_cursor[rows[has], p] = world.tag[rows[has], pick[has]]
        new = np.where((act >= 2)[:, None], idle, one)
        self._set_selection(player, rows[has], new[has], (act[has] % 2) == 1)

    def _select_unit(self, player, rows, values):
        world = self.game.world
        p = player - 1
        act = values[:, T.select_unit_act.id, 0]
        index = values[:, T.select_unit_id.id, 0]
        current = world.selected[rows, p] & world.alive[rows]
        position = np.cumsum(current, axis=1) - 1  # row of each selected unit in the panel
        chosen = current & (position == index[:, None])
        has = chosen.any(axis=1)
        slot = chosen.argmax(axis=1)
        same_type = current & (world.unit_type[rows] == world.unit_type[rows, slot][:, None])
        column = act[:, None]
        new = np.where(column == 0, chosen, np.where(column == 1, current & ~chosen, np.where(
            column == 2, same_type, current & ~same_type)))
        world.selected[rows[has], p] = new[has]

    def _control_group(self, player, rows, values):
        world = self.game.world
        p = player - 1
        act = values[:, T.control_group_act.id, 0]
        group = values[:, T.control_group_id.id, 0]
        selection = world.selected[rows, p] & self._own(player, rows)
        members = world.groups[rows, p, group] & world.alive[rows]
        recall = (act == 0) & members.any(axis=1)
        world.selected[rows[recall], p] = members[recall]
        steal = (act == 3) | (act == 4)
        world.groups[rows[steal], p] &= ~selection[steal][:, None, :]
        setting = (act == 1) | (act == 3)
        appending = (act == 2) | (act == 4)
        world.groups[rows[setting], p, group[setting]] = selection[setting]
        world.groups[rows[appending], p, group[appending]] |= selection[appending]

    def _move_camera(self, player, rows, values):
        if self.game.map.camera_locked:
            return
        point = self.game.minimap.to_world(values[:, T.minimap.id].astype(np.float64))
        x0, y0, x1, y1 = self.game.map.playable
        self.game.world.camera[rows, player - 1] = np.stack(
            [np.clip(point[:, 0], x0, x1), np.clip(point[:, 1], y0, y1)], axis=-1)

    # Commands.
    def _command_points(self, player, rows, function_ids, values):
        """[R, 2] world point of each row's command (0 for commands without one)."""
        world = self.game.world
        layer = COMMAND_LAYER[function_ids]
        point = np.zeros((len(rows), 2))
        on_screen = np.flatnonzero(layer == SCREEN_POINT)
        if on_screen.size:
            offset = self.game.screen.camera_offset(world.camera[rows[on_screen], player - 1])
            point[on_screen] = self.game.screen.to_world(
                values[on_screen, SCREEN_ARG].astype(np.float64), offset)
        on_minimap = np.flatnonzero(layer == MINIMAP_POINT)
        point[on_minimap] = self.game.minimap.to_world(
            values[on_minimap, MINIMAP_ARG].astype(np.float64))
        return point

    def _economy_commands(self, player, rows, function_ids, values, point, under):
        """Workers' and structures' commands (`minigames.command_card`); ([R] taken, [R] codes)."""
        return command_card.carried_out(self, player, rows, function_ids, values, point, under)

    def _commands(self, player, rows, function_ids, values, point, under):
        """Give each row's command to its selected own units that offer it (`point` [R, 2] world,
        `under` [R] unit slot or -1); ([R] bool: taken, [R] ActionResult codes, all 0: these
        commands are never refused)."""
        world = self.game.world
        takers = (world.selected[rows, player - 1] & self._own(player, rows)
                  & (world.build_progress[rows] >= 1.0)
                  & self.functions[world.unit_type[rows], function_ids[:, None]])
        r, slot = nonzero(takers)
        env = rows[r]
        function = function_ids[r]
        layer = COMMAND_LAYER[function_ids]
        point = np.where((layer[r] == NO_POINT)[:, None], world.pos[env, slot],
                         movement.clamp_to_playable(
                             self.game, point[r] + _formation_offsets(world, r, env, slot,
                                                                      point[r]),
                             world.radius[env, slot]))
        kinds = COMMAND_ORDER[function].copy()
        target = under[r]
        target_owner = world.owner[env, np.maximum(target, 0)]
        enemy = (target >= 0) & (target_owner != player) & (target_owner != 0)
        # Attack on an enemy attacks it; Smart on an enemy attacks it if the unit can.
        unit_type = world.unit_type[env, slot]
        can_attack = (TABLE.weapon_damage[unit_type, GROUND] > 0) | (
            TABLE.explosion_damage[unit_type] > 0)
        smart_attack = enemy & (function == SMART_SCREEN) & can_attack
        kinds[smart_attack] = Order.ATTACK
        enemy &= kinds == Order.ATTACK
        queued = values[r, QUEUED_ARG, 0] == 1
        smart = (function == SMART_SCREEN) | (function == SMART_MINIMAP)
        special = np.zeros(len(r), bool)
        special[smart] = command_card.smart(self.game, env[smart], slot[smart], target[smart],
                                            point[smart], queued[smart])
        target = np.where(enemy, target, -1)
        tag = np.where(enemy, world.tag[env, np.maximum(target, 0)], 0)
        stop = function == STOP
        world.clear_orders(env[stop], slot[stop])
        give = ~stop & ~special
        world.give_orders(env[give], slot[give], kinds[give], point[give], target=target[give],
                          target_tag=tag[give], queued=queued[give])
        return takers.any(axis=1), np.zeros(len(rows), np.int64)


def _formation_offsets(world, group, env, slot, point):
    """Where each unit of a group command goes relative to the point: the "magic box".

    When the point lies outside the box bounding the units that take the command, they keep their
    places relative to the group's centre (and move side by side); inside the box they all go to
    the point itself. This is the game's documented group-move behaviour (Liquipedia, "Magic Box").
    `group` [K] says which command (row) each unit took.
    """
    pos = world.pos[env, slot]
    k = group.max(initial=-1) + 1
    # Bounds and sums per group through flat indices 2 * group + axis (numpy's ufunc.at is twice
    # as fast on 1-D arrays; the additions happen in the same order).
    cell, values = (2 * group[:, None] + np.arange(2)).ravel(), pos.ravel()
    low = np.full(2 * k, np.inf)
    high = np.full(2 * k, -np.inf)
    np.minimum.at(low, cell, values)
    np.maximum.at(high, cell, values)
    count = np.bincount(group, minlength=k)
    centre = np.zeros(2 * k)
    np.add.at(centre, cell, values)
    low, high, centre = low.reshape(k, 2), high.reshape(k, 2), centre.reshape(k, 2)
    centre /= np.maximum(count, 1)[:, None]
    outside = np.any((point < low[group]) | (point > high[group]), axis=1) & (count[group] > 1)
    return np.where(outside[:, None], pos - centre[group], 0.0)
