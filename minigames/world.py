"""The state of N games as arrays over [environments, unit slots], and how units come and go.

Every unit of every environment lives in one slot of fixed-size arrays: `alive[e, u]` says whether
slot u of environment e holds a unit, `unit_type[e, u]` what it is, `pos[e, u]` where it stands, and
so on. The systems (movement, combat, ...) read and write these arrays for all environments at
once; nothing loops over units in Python. A map decides how many slots it needs.

A unit keeps its slot until it dies; a slot is then free for the next unit spawned. Anything that
refers to another unit (an order's target, a weapon's target) stores its slot and its `tag`, a
number unique within the environment, so that a reused slot is never mistaken for the old unit:
`world.valid(env, slot, tag)`.

Players: 0 is neutral (pysc2 reports it as player 16), 1 and 2 are the two sides. What each side
sees and selects (selection, control groups, camera) is kept per player in arrays [E, 2, ...]
indexed by player - 1.

The economy (`minigames.economy`) and production (`minigames.production`) keep their state here too,
so that `get_state` saves it: what a worker carries and where it is in its harvest cycle, the
training queue and rally point of each structure, the geyser under each refinery.
"""
import numpy as np

from minigames.units import TABLE

NEUTRAL = 0
OWNERS = 3  # neutral (0) and players 1 and 2
MAX_ORDERS = 8  # a command queued beyond this many orders is dropped
NUM_CONTROL_GROUPS = 10
QUEUE_SIZE = 5  # a structure's training queue


class Phase:
    """Where a worker is in the cycle of its Gather, Return or Build order (`World.phase`)."""
    NONE = 0
    TO_RESOURCE = 1   # walking to the resource it gathers
    WAITING = 2       # at the resource, waiting for the worker mining it
    MINING = 3        # occupying the resource
    PAUSE = 4         # holding the cargo after mining, before it turns back
    TO_DROP_OFF = 5   # carrying the cargo to the nearest town hall
    TO_SITE = 6       # walking to where it will build
    CONSTRUCTING = 7  # building the structure its order targets


class Rally:
    """What a structure's rally point is (`World.rally_kind`)."""
    NONE = 0
    POINT = 1
    UNIT = 2


class Order:
    """What a unit's order tells it to do; the point and target unit are in the order arrays.
    (Plain ints rather than an enum: the systems compare them every game loop.)"""
    NONE = 0
    MOVE = 1      # go to the point (or follow the target unit)
    ATTACK = 2    # attack the target unit, or attack-move to the point
    PATROL = 3    # attack-move between the order's origin and its point
    HOLD = 4      # stay; fire at what comes in range
    GATHER = 5    # mine the target resource (economy)
    RETURN = 6    # bring the cargo back to a town hall (economy)
    BUILD = 7     # build `order_build_type` at the point (or on the target geyser)


class World:
    """Unit slots and per-player state of `num_envs` games of one map.

    Args:
      num_envs: E.
      max_units: U, slots per environment.
      map_size: (width, height) of the map in world units.
    """

    def __init__(self, num_envs, max_units, map_size):
        e, u, q = num_envs, max_units, MAX_ORDERS
        self.num_envs, self.max_units = e, u
        self.map_size = tuple(float(v) for v in map_size)
        # Identity.
        self.alive = np.zeros((e, u), bool)
        self.unit_type = np.zeros((e, u), np.int32)
        self.owner = np.zeros((e, u), np.int8)
        self.tag = np.zeros((e, u), np.int64)
        self.next_tag = np.ones(e, np.int64)
        # Body.
        self.pos = np.zeros((e, u, 2))
        self.facing = np.zeros((e, u))
        self.radius = np.zeros((e, u))
        self.health = np.zeros((e, u))
        self.shields = np.zeros((e, u))
        self.energy = np.zeros((e, u))
        self.build_progress = np.ones((e, u))  # 1.0: finished
        self.awake = np.zeros((e, u), bool)  # moved or was pushed in the last loop (or is new)
        self.velocity = np.zeros((e, u))  # length of the unit's last step (0 when it stood)
        # Orders: a queue per unit; index 0 is the current order, entries past order_count are
        # Order.NONE (see current_order).
        self.order_kind = np.zeros((e, u, q), np.int8)
        self.order_point = np.zeros((e, u, q, 2))
        self.order_origin = np.zeros((e, u, q, 2))  # where a patrol turns back
        self.order_target = np.full((e, u, q), -1, np.int32)  # target slot, -1 for a point
        self.order_target_tag = np.zeros((e, u, q), np.int64)
        self.order_build_type = np.zeros((e, u, q), np.int32)
        self.order_count = np.zeros((e, u), np.int32)
        # Combat.
        self.cooldown = np.zeros((e, u))  # loops until the weapon may fire again
        self.target = np.full((e, u), -1, np.int32)  # what the weapon is aimed at now
        self.target_tag = np.zeros((e, u), np.int64)
        self.died = np.zeros((e, u), bool)  # killed during the current game loop
        self.died_type = np.zeros((e, u), np.int32)
        self.died_owner = np.zeros((e, u), np.int8)
        # Resources a unit holds (mineral fields, geysers, refineries).
        self.minerals_left = np.zeros((e, u))
        self.vespene_left = np.zeros((e, u))
        self.geyser = np.full((e, u), -1, np.int32)  # a refinery's geyser (slot, tag)
        self.geyser_tag = np.zeros((e, u), np.int64)
        # Workers: cargo, and the harvest or build cycle (see `Phase`).
        self.carry_minerals = np.zeros((e, u))
        self.carry_vespene = np.zeros((e, u))
        self.phase = np.zeros((e, u), np.int8)
        self.phase_loops = np.zeros((e, u))  # loops left in a timed phase (mining, pause)
        self.harvest_target = np.full((e, u), -1, np.int32)  # the resource it works (slot, tag)
        self.harvest_target_tag = np.zeros((e, u), np.int64)
        # Structures: training queue (index 0 in production) and rally point.
        self.queue_type = np.zeros((e, u, QUEUE_SIZE), np.int32)
        self.queue_count = np.zeros((e, u), np.int32)
        self.queue_loops = np.zeros((e, u))  # loops the first unit of the queue has been trained
        self.rally_kind = np.zeros((e, u), np.int8)
        self.rally_point = np.zeros((e, u, 2))
        self.rally_target = np.full((e, u), -1, np.int32)
        self.rally_target_tag = np.zeros((e, u), np.int64)
        self.trained = np.zeros((e, u), bool)  # finished training during the current game loop
        # Per player (index player - 1).
        self.minerals = np.zeros((e, 2))
        self.vespene = np.zeros((e, 2))
        self.food_queued = np.zeros((e, 2))  # supply of units in production
        self.score_cumulative = np.zeros((e, 2, 13))  # pysc2's ScoreCumulative
        self.selected = np.zeros((e, 2, u), bool)
        self.groups = np.zeros((e, 2, NUM_CONTROL_GROUPS, u), bool)
        self.camera = np.zeros((e, 2, 2))  # camera centre in world units
        # Per environment.
        self.game_loop = np.zeros(e, np.int64)
        self.score = np.zeros(e, np.int64)  # the map's curriculum score of player 1
        # per_type's cache: id(table) -> (table, types_version, table[unit_type]). Types change
        # only when units are spawned or a state restored, and both count types_version up.
        self._per_type = {}
        self._types_version = 0

    # ------------------------------------------------------------------------------- units
    def spawn(self, env, unit_type, owner, pos):
        """Create units; returns their slots.

        Args:
          env: [K] environment of each new unit.
          unit_type, owner: [K] or one value for all.
          pos: [K, 2] world positions.
        """
        env = np.asarray(env, np.int64)
        k = len(env)
        unit_type = np.broadcast_to(np.asarray(unit_type, np.int32), (k,))
        owner = np.broadcast_to(np.asarray(owner, np.int8), (k,))
        # The r-th new unit of an environment takes its r-th free slot (free slots in order).
        order = np.argsort(env, kind="stable")
        sorted_env = env[order]
        first = np.searchsorted(sorted_env, sorted_env, side="left")
        rank = np.empty(k, np.int64)
        rank[order] = np.arange(k) - first
        free_first = np.argsort(self.alive, axis=1, kind="stable")  # free slots first, in order
        free_count = (~self.alive).sum(axis=1)
        if np.any(rank >= free_count[env]):
            raise RuntimeError(f"The map needs more than its {self.max_units} unit slots.")
        slot = free_first[env, rank]
        self._types_version += 1
        tag = self.next_tag[env] + rank
        np.add.at(self.next_tag, env, 1)
        # Fields written by flat index (see `flat_index`).
        flat = self.flat_index(env, slot)
        for field, value in (
                (self.alive, True), (self.unit_type, unit_type), (self.owner, owner),
                (self.tag, tag), (self.awake, True), (self.facing, 0.0), (self.velocity, 0.0),
                (self.radius, TABLE.radius[unit_type]), (self.health, TABLE.max_health[unit_type]),
                (self.shields, TABLE.max_shield[unit_type]),
                (self.energy, TABLE.start_energy[unit_type]), (self.build_progress, 1.0),
                (self.minerals_left, TABLE.minerals_contained[unit_type]),
                (self.vespene_left, TABLE.vespene_contained[unit_type]), (self.geyser, -1),
                (self.carry_minerals, 0.0), (self.carry_vespene, 0.0), (self.phase, Phase.NONE),
                (self.harvest_target, -1), (self.queue_count, 0), (self.queue_loops, 0.0),
                (self.rally_kind, Rally.NONE), (self.trained, False), (self.order_count, 0),
                (self.cooldown, 0.0), (self.target, -1)):
            field.ravel()[flat] = value
        points(self.pos)[flat] = points(np.ascontiguousarray(np.broadcast_to(pos, (k, 2)),
                                                            np.float64))
        self.order_kind.reshape(self.alive.size, -1)[flat] = 0
        self.selected[env, :, slot] = False
        self.groups[env, :, :, slot] = False
        return slot

    def remove(self, env, slot):
        """Take units off the map without a death (picked-up shards, re-created units)."""
        flat = self.flat_index(env, slot)
        self.alive.ravel()[flat] = False
        self.selected[env, :, slot] = False
        self.groups[env, :, :, slot] = False
        self.order_count.ravel()[flat] = 0
        self.order_kind.reshape(self.alive.size, -1)[flat] = 0

    def kill(self, env, slot):
        """Units die: removed, and recorded in `died` for the map's scoring of this loop."""
        flat = self.flat_index(env, slot)
        self.died.ravel()[flat] = True
        self.died_type.ravel()[flat] = self.unit_type.ravel()[flat]
        self.died_owner.ravel()[flat] = self.owner.ravel()[flat]
        self.remove(env, slot)

    def clear(self, rows):
        """Empty environments `rows` (before a map spawns a new game in them)."""
        self.remove(np.repeat(rows, self.max_units), np.tile(np.arange(self.max_units), len(rows)))
        self.died[rows] = False
        self.trained[rows] = False
        self.camera[rows] = 0.0
        self.game_loop[rows] = 0
        self.score[rows] = 0
        self.minerals[rows] = 0.0
        self.vespene[rows] = 0.0
        self.food_queued[rows] = 0.0
        self.score_cumulative[rows] = 0.0

    def flat_index(self, env, slot):
        """[K] flat indices env * U + slot of (env, slot) [K] into the [E, U] arrays, which are
        contiguous, so `array.ravel()[index]` reads and writes through: numpy gathers and
        scatters by one index array several times faster than by two."""
        return np.asarray(env, np.int64) * self.max_units + slot

    def valid(self, env, slot, tag):
        """[K] bool: slot still holds the unit with that tag (slot -1 is never valid)."""
        safe = self.flat_index(env, np.maximum(slot, 0))
        return (slot >= 0) & self.alive.ravel()[safe] & (self.tag.ravel()[safe] == tag)

    def stats(self, field):
        """[E, U] per-slot view of a unit-table field, e.g. stats("speed") (read-only)."""
        return self.per_type(getattr(TABLE, field))

    def per_type(self, table):
        """table[unit_type]: [E, U] values of a per-type table for every slot (dead ones too).

        The systems look the same tables up every game loop, and types change rarely, so the
        result is kept until a unit is spawned or a state restored. It is read-only; `table` must
        be a lasting array (a module constant or a TABLE field), not a temporary one."""
        cached = self._per_type.get(id(table))
        if cached is None or cached[0] is not table or cached[1] != self._types_version:
            values = table[self.unit_type]
            values.setflags(write=False)
            cached = self._per_type[id(table)] = (table, self._types_version, values)
        return cached[2]

    # ------------------------------------------------------------------------------ orders
    def give_orders(self, env, slot, kind, point, target=None, target_tag=None, build_type=None,
                    queued=None):
        """Give or queue one order per (env, slot).

        An order replaces the queue unless `queued` is True and the unit has orders; a patrol
        turns back at where the unit stands when the patrol starts (the end of the queue before it).
        """
        k = len(env)
        if k == 0:
            return
        kind = np.broadcast_to(np.asarray(kind, np.int8), (k,))
        target = np.full(k, -1, np.int32) if target is None else np.asarray(target, np.int32)
        target_tag = np.zeros(k, np.int64) if target_tag is None else target_tag
        build_type = np.zeros(k, np.int32) if build_type is None else build_type
        queued = np.zeros(k, bool) if queued is None else np.broadcast_to(queued, (k,))
        # Units by flat index, queue entries by unit * MAX_ORDERS + index.
        unit = self.flat_index(env, slot)
        count = self.order_count.ravel()[unit]
        replace = ~queued | (count == 0)
        last = np.maximum(count - 1, 0)
        origin = np.where(replace[:, None], self.pos.reshape(-1, 2).take(unit, axis=0),
                          self.order_point.reshape(-1, 2).take(unit * MAX_ORDERS + last, axis=0))
        index = np.where(replace, 0, count)
        self.order_kind.reshape(self.alive.size, -1)[unit[replace]] = 0
        keep = index < MAX_ORDERS
        unit, index = unit[keep], index[keep]
        entry = unit * MAX_ORDERS + index
        self.order_kind.ravel()[entry] = kind[keep]
        points(self.order_point)[entry] = points(
            np.ascontiguousarray(np.broadcast_to(point, (k, 2))[keep], np.float64))
        points(self.order_origin)[entry] = points(origin[keep])
        self.order_target.ravel()[entry] = target[keep]
        self.order_target_tag.ravel()[entry] = target_tag[keep]
        self.order_build_type.ravel()[entry] = build_type[keep]
        self.order_count.ravel()[unit] = index + 1
        # A new current order drops the target the weapon had, and any harvest or build cycle.
        now = unit[index == 0]
        self.target.ravel()[now] = -1
        self.phase.ravel()[now] = Phase.NONE

    def finish_order(self, env, slot):
        """The current order of each (env, slot) is done: the next queued one starts."""
        if len(env) == 0:
            return
        unit = self.flat_index(env, slot)
        for field in (self.order_kind, self.order_point, self.order_origin, self.order_target,
                      self.order_target_tag, self.order_build_type):
            queues = field.reshape((self.alive.size,) + field.shape[2:])
            queues[unit, :-1] = queues[unit, 1:]
        self.order_kind.reshape(self.alive.size, -1)[unit, -1] = 0
        count = self.order_count.ravel()
        count[unit] = np.maximum(count[unit] - 1, 0)
        # The next order starts from where the unit is now (a queued patrol's origin was set
        # when it was queued, which is where the unit now stands).
        self.target.ravel()[unit] = -1
        self.phase.ravel()[unit] = Phase.NONE

    def clear_orders(self, env, slot):
        self.order_count[env, slot] = 0
        self.order_kind[env, slot] = 0
        self.target[env, slot] = -1
        self.phase[env, slot] = Phase.NONE

    def current_order(self):
        """[E, U] kind of each unit's current order (Order.NONE when idle or dead).

        The queue entries past `order_count`, and all of an empty slot's, are Order.NONE (spawn,
        remove, give_orders, finish_order and clear_orders keep it so), so the current order is
        the queue's first entry (a copy: the systems change orders after reading it)."""
        return self.order_kind[:, :, 0].copy()

    # ------------------------------------------------------------------------------- state
    def get_state(self):
        """Copies of every state array (a picklable dict)."""
        return {name: value.copy() for name, value in vars(self).items()
                if isinstance(value, np.ndarray)}

    def set_state(self, state):
        for name, value in state.items():
            getattr(self, name)[...] = value
        self._types_version += 1


def owner_key(unit, owner):
    """[K] flat index env * OWNERS + owner of units `unit` [K] (flat indices env * U + slot),
    `owner` [E, U]: one bin per (game, owner), for counting or marking them all at once."""
    return (unit // owner.shape[1]) * OWNERS + owner.ravel()[unit]


def any_true(array):
    """array.any(), as np.count_nonzero: a plain C call, five times faster than ndarray.any on
    the engine's small arrays (which the systems test several times every game loop)."""
    return np.count_nonzero(array) > 0


def nonzero(mask):
    """np.nonzero of a 2-D mask: (rows, columns) of its True entries in row-major order, through
    the flat indices (twice as fast as np.nonzero's two index arrays on the engine's masks)."""
    return np.divmod(mask.ravel().nonzero()[0], mask.shape[1])


def points(array):
    """An array of points [..., 2] (float64) as a flat [K] complex128 view, one number per
    point: numpy gathers and writes single numbers by index several times faster than rows of
    two. The view shares the array's memory, so writes go through; hence `array` must be
    contiguous (the world's arrays are, and so is a fresh result)."""
    if not array.flags.c_contiguous:
        raise ValueError("points() needs a contiguous array (a copy would not write through).")
    return array.reshape(-1).view(np.complex128)


class KeptForLast:
    """`function(*arrays)`, kept for the last arrays given: for arrays that change rarely between
    game loops (the town halls and their owners, the mineral fields) and a result that depends on
    them alone, equal arrays get the same result (an array, a tuple of arrays or None; the
    arrays are made read-only, as they are shared)."""

    def __init__(self, function):
        self.function = function
        self.arrays = self.result = None

    def __call__(self, *arrays):
        if self.arrays is None or any(kept.shape != array.shape or np.count_nonzero(kept != array)
                                      for kept, array in zip(self.arrays, arrays)):
            self.arrays = [array.copy() for array in arrays]  # (the world's change in place)
            self.result = self.function(*arrays)
            for result in (self.result if isinstance(self.result, tuple) else (self.result,)):
                if result is not None:
                    result.setflags(write=False)
        return self.result


def compact(mask):
    """Gather the True slots of each row to the front: (slots [E, K], valid [E, K]) with K the
    largest count of any row (slots of invalid entries are 0)."""
    rows, units = mask.shape
    # From the True entries' flat indices (in row-major order): each one's row, and its rank
    # among its row's entries (its column in the result). The engine's masks are sparse, so this
    # is about twice as fast as sorting every row.
    flat = mask.ravel().nonzero()[0]
    row = flat // units
    count = np.bincount(row, minlength=rows)
    k = int(count.max(initial=0))
    rank = np.arange(flat.size) - (np.cumsum(count) - count)[row]
    slots = np.zeros((rows, k), np.int64)
    valid = np.zeros((rows, k), bool)
    cell = row * k + rank
    slots.ravel()[cell] = flat - row * units
    valid.ravel()[cell] = True
    return slots, valid


def gather(array, slots):
    """array [E, U, ...] at per-row slots [E, K] -> [E, K, ...]."""
    return at(array, np.arange(array.shape[0])[:, None], slots)


def at(array, env, slot):
    """array [E, U, ...] at (env, slot) -> array[env, slot], through flat indices (np.take is a
    few times faster than indexing with two arrays when entries have trailing dimensions)."""
    e, u = array.shape[:2]
    return np.take(array.reshape((e * u,) + array.shape[2:]), env * u + slot, axis=0)
