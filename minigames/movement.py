"""Movement: orders to points, the step towards them, separation, and the map's bounds.

Each game loop the systems that run before movement record what units want (`Intents`): combat
asks units to chase their targets or to stand and fire, the economy sends workers to fields and
town halls. Then `tick` moves every unit at its type's speed:

* a unit that stands (firing, or holding position) does not move;
* a unit asked to move by a system goes where it was asked;
* otherwise its current order decides: Move goes to the order's point and ends there; an
  attack-move or a patrol goes to its point when it has nothing to fight (a patrol then turns back
  to where it started, an attack-move ends); Hold Position stays.

Speed: units move at their type's speed, except workers, which speed up and slow down
(`ACCELERATION`, `step_length`): they start from rest, gain ACCELERATION per loop up to their speed,
and brake to stop at their destination.

Arrival: a unit arrives when it can reach its point within this loop's step. A unit sent to a point
where others already stand cannot reach it; it arrives when it is within ARRIVAL_SLACK of the
point and made less than a quarter of a step of progress in this loop (a reading: the real game's
group-arrival rule is not documented), so a group sent to one point stops as a clump.

Paths: on maps with cliffs (`game.pathing`), a unit whose way to its point is not clear follows
the shortest path over the pathable cells (`minigames.pathing`), and a step or push that would put
it on a cliff is undone.

Separation: ground units that are not structures push apart when their discs overlap, each by
half the overlap; structures, resources and units holding position do not move, and a unit
overlapping one is pushed out by the whole overlap. Workers on the way to or from a resource pass
through other units (as mining workers do in the real game). Units never leave the playable area.
"""
import numpy as np

from minigames import geometry
from minigames.units import TABLE
from minigames.world import MAX_ORDERS, NEUTRAL, KeptForLast, Order, any_true, points

ARRIVAL_SLACK = 1.0
# Workers accelerate and brake: 2.5 world units per normal-speed game second squared (the game's
# worker movement data as this project recalls it, unverified). It is the reading the measured
# income supports: with it one SCV earns 45.7 minerals per game minute on a standard close patch
# and 39.7 on a far one, where sc2-planner measured 45 and 39 in the game; at full speed from the
# start it would earn 64 and 54 (tests/test_engine_economy.py). Every other unit starts and stops
# at full speed (the game's acceleration of 1000 for them).
ACCELERATION = np.full(TABLE.size, np.inf)
ACCELERATION[TABLE.is_worker] = 2.5 / 16 ** 2  # world units per game loop squared
ACCELERATES = np.isfinite(ACCELERATION)
# Units that occupy no ground: pick-ups and markers (Beacon_Terran, NaturalMinerals).
COLLIDES = np.ones(TABLE.size, bool)
COLLIDES[[317, 1680]] = False
# Units that take part in separation (when not passing through) and units it never moves.
SOLID = ~TABLE.is_flying & COLLIDES
NEVER_PUSHED = TABLE.is_structure | (TABLE.speed == 0)
MOBILE = TABLE.speed > 0
# Orders that move a unit to their point when no system says otherwise.
MOVES_TO_POINT = np.zeros(8, bool)
MOVES_TO_POINT[[Order.MOVE, Order.ATTACK, Order.PATROL]] = True
_GOLDEN_ANGLE = 2.399963229728653
FAR = 1e6  # a position off any map, for padding


class Intents:
    """What the systems ask of each unit in the current game loop."""

    def __init__(self, world):
        self.stand = np.zeros(world.alive.shape, bool)
        self.wants_move = np.zeros(world.alive.shape, bool)
        self.destination = np.zeros(world.pos.shape)
        self.passes_through = np.zeros(world.alive.shape, bool)  # ignores other units

    def move_units(self, unit, point):
        """Units `unit` (flat indices env * U + slot, `World.flat_index`) want to move towards
        `point` [K, 2] this game loop."""
        self.wants_move.ravel()[unit] = True
        points(self.destination)[unit] = points(np.ascontiguousarray(point, np.float64))


def tick(game, running, intents):
    world = game.world
    before = world.pos.copy()
    kind = world.current_order()
    # Units by flat index env * U + slot (gathers by one index array are several times faster
    # than by (env, slot)); rows of positions are gathered with ndarray.take. (The ndarray
    # methods, not np.take and np.flatnonzero, which add a Python call each.) The units free
    # to move (a few of the slots) move when a system asks them to, or by their orders.
    free = (world.alive & running[:, None] & world.per_type(MOBILE)
            & ~intents.stand).ravel().nonzero()[0]
    asked = intents.wants_move.ravel()[free]
    free_kind = kind.ravel()[free]
    by_order = ~asked & MOVES_TO_POINT[free_kind]
    # An Attack order on a unit moves only by chasing (combat's intents), never to its point.
    by_order &= ~((free_kind == Order.ATTACK)
                  & (world.order_target.ravel()[free * MAX_ORDERS] >= 0))
    moving = asked | by_order
    unit = free[moving]
    pos = world.pos.reshape(-1, 2)
    start = pos.take(unit, axis=0)
    # The goal: the current order's point or the system's destination, picked as complex
    # numbers (world.points) and seen again as [K, 2] (x, y).
    ordered = by_order[moving]
    goal = np.where(ordered, points(world.order_point)[unit * MAX_ORDERS],
                    points(intents.destination)[unit]).view(np.float64).reshape(-1, 2)
    heading = goal if game.pathing is None else game.pathing.waypoints(start, goal)
    delta = heading - start
    distance = np.hypot(delta[:, 0], delta[:, 1])
    to_goal = distance if game.pathing is None else np.hypot(*(goal - start).T)
    unit_type = world.unit_type.ravel()[unit]
    accelerates = ACCELERATES[unit_type]
    velocity = world.velocity.ravel()
    workers_move = any_true(accelerates)
    if workers_move:  # workers brake for their goal, not for a waypoint on the way
        speed = step_length(unit_type, velocity[unit], to_goal)
    else:
        speed = TABLE.speed[unit_type]
    # Only accelerating units keep a velocity (and a slot's type changes only when a unit is
    # spawned, with velocity 0): without such slots, there is none to clear.
    if workers_move or (any_true(world.per_type(ACCELERATES)) and any_true(velocity)):
        velocity[:] = 0.0
        velocity[unit[accelerates]] = speed[accelerates]
    reach = distance <= speed
    step = np.where(reach, 1.0, speed / np.maximum(distance, 1e-9))[:, None]
    points(world.pos)[unit] = points(start + delta * step)
    turning = distance > 1e-9
    facing = delta[turning]
    world.facing.ravel()[unit[turning]] = np.arctan2(facing[:, 1], facing[:, 0]) % (2 * np.pi)

    _separate(game, intents, kind)
    moved = world.alive & (points(world.pos) != points(before)).reshape(world.alive.shape)
    moved_units = moved.ravel().nonzero()[0]  # flat indices env * U + slot
    _keep_on_map(game, moved_units, before)
    world.awake = moved

    after = pos.take(unit, axis=0) - goal
    remaining = np.hypot(after[:, 0], after[:, 1])
    progress = to_goal - remaining
    blocked = (remaining <= ARRIVAL_SLACK) & (progress < 0.25 * speed)
    # (a waypoint is the goal when both coordinates are: compared as complex numbers, which is
    # faster than reducing [K, 2] comparisons)
    at_goal = reach if game.pathing is None else reach & (points(heading) == points(goal))
    arrived = ordered & (at_goal | blocked)
    _arrive(world, unit[arrived])


def step_length(unit_type, velocity, distance):
    """How far units move in this loop: full speed for most units; a worker speeds up by its
    ACCELERATION each loop from `velocity` (its last step) and brakes so as to stop at its
    destination `distance` away (v <= sqrt(2 * a * distance))."""
    top = TABLE.speed[unit_type]
    accelerates = ACCELERATES[unit_type]
    a = np.where(accelerates, ACCELERATION[unit_type], 0.0)
    limited = np.minimum(np.minimum(top, velocity + a), np.sqrt(2.0 * a * distance))
    return np.where(accelerates, limited, top)


def _arrive(world, unit):
    """Units (flat indices env * U + slot) that reached their order's point: patrols turn back,
    other orders end."""
    if unit.size == 0:
        return
    patrol = world.order_kind.reshape(world.alive.size, -1)[unit, 0] == Order.PATROL
    if any_true(patrol):
        current = unit[patrol] * MAX_ORDERS  # their current orders' entries (index 0)
        point, origin = points(world.order_point), points(world.order_origin)
        turn = point[current]  # (a copy: fancy indexing)
        point[current] = origin[current]
        origin[current] = turn
    if not patrol.all():
        world.finish_order(*np.divmod(unit[~patrol], world.max_units))


def _separate(game, intents, kind):
    """Push overlapping units apart. Only units that moved or were pushed in the last loop (or
    were just spawned: `world.awake`) are checked against the others, so a still crowd costs
    nothing; a still unit that an awake one runs into is pushed too, and wakes up."""
    world = game.world
    solid = world.alive & world.per_type(SOLID) & ~intents.passes_through
    fixed = world.per_type(NEVER_PUSHED) | (world.owner == NEUTRAL) | (kind == Order.HOLD)
    rows = solid & ~fixed & world.awake
    if not any_true(rows):
        return
    # Each awake unit (a row) against the solid units of its own game ([R, S]); pushes are added
    # pair by pair in the order (game, awake unit's slot, other unit's slot).
    # Units by flat index env * U + slot into positions (as complex numbers x + iy,
    # `world.points`: one subtraction gives both differences, exactly as x and y apart) and
    # radii. The padding after each game's solid units is FAR away and of radius 0, which
    # overlaps nothing.
    solid_units, padded = _kept_solid_lists(solid)
    if solid_units.shape[1] < 2:
        return
    mine = rows.ravel().nonzero()[0]
    env = mine // world.max_units
    pos, radius = points(world.pos), world.radius.ravel()
    # [E, S] positions and radii of the solid units, the padding FAR and 0 (gathered with the
    # padding index clipped to a real unit's, then overwritten: cheaper than appending the
    # padding unit to copies of the [E * U] arrays).
    solid_pos = pos.take(solid_units, mode="clip")
    solid_pos[padded] = complex(FAR, FAR)
    solid_radius = radius.take(solid_units, mode="clip")
    solid_radius[padded] = 0.0
    # [R, S]: each row's game's solid units (whole rows taken from [E, S] arrays: faster than
    # gathering R * S elements).
    others = solid_units.take(env, axis=0)
    delta = pos[mine][:, None] - solid_pos.take(env, axis=0)
    dx, dy = delta.real, delta.imag
    d2 = dx * dx
    d2 += dy * dy
    reach = radius[mine][:, None] + solid_radius.take(env, axis=0)
    pair = (d2 < reach * reach).ravel().nonzero()[0]  # flat indices into the [R, S] arrays
    k, b = pair // others.shape[1], others.ravel()[pair]
    not_itself = b != mine[k]
    pair, k, b = pair[not_itself], k[not_itself], b[not_itself]
    if k.size == 0:
        return
    a = mine[k]  # the pair's units, a pushed by b (flat indices)
    reach, d2, delta = (values.ravel()[pair] for values in (reach, d2, delta))
    dx, dy = delta.real, delta.imag
    distance = np.sqrt(d2)
    overlap = reach - distance
    safe = np.maximum(distance, 1e-9)
    along_x, along_y = dx / safe, dy / safe  # the way the row's unit is pushed
    same_spot = distance <= 1e-9
    if any_true(same_spot):  # units on one spot part in a direction fixed by their slots
        spot = same_spot.nonzero()[0]
        angle = (a[spot] - b[spot]) * _GOLDEN_ANGLE  # (flat indices of one game differ as slots)
        along_x[spot], along_y[spot] = np.cos(angle), np.sin(angle)
    b_fixed = fixed.ravel()[b]
    share = np.where(b_fixed, 1.0, 0.5)
    still = ~b_fixed & ~rows.ravel()[b]  # a still unit that was run into takes its half
    b_overlap = overlap[still]
    # Every pair's push of a, then the half pushes of still units, added one after another.
    _push(world, np.concatenate([a, b[still]]),
          np.concatenate([along_x * overlap * share, -along_x[still] * b_overlap * 0.5]),
          np.concatenate([along_y * overlap * share, -along_y[still] * b_overlap * 0.5]))


def _solid_lists(solid):
    """The solid units [E, U] of each game by flat index env * U + slot, sorted to the front of
    its row, the rest of the row pointing at one more unit after the last ([E, S], S the most
    solid units of a game); and [E, S] bool: the entries that are that padding."""
    padding = solid.size
    solid_units = np.where(solid, np.arange(padding).reshape(solid.shape), padding)
    solid_units.sort(axis=1)
    solid_units = solid_units[:, :int(solid.sum(axis=1).max())]
    return solid_units, solid_units == padding


# (which units are solid changes in about one game loop of a hundred: units come and go, and
# workers start and stop passing through others)
_kept_solid_lists = KeptForLast(_solid_lists)


def _push(world, unit, shift_x, shift_y):
    """world.pos at flat indices `unit` (env * U + slot) += (shift_x, shift_y) [K], one pair
    after another (np.add.at)."""
    shift = np.empty(len(unit), np.complex128)  # (x, y) as x + iy: see world.points
    shift.real, shift.imag = shift_x, shift_y
    np.add.at(points(world.pos), unit, shift)


def _keep_on_map(game, unit, before):
    """Units `unit` (flat indices env * U + slot, units that moved) are moved back into the
    playable area (as `clamp_to_playable`); on maps with cliffs, one that a step or a push would
    put on an unpathable cell then slides along it: it keeps the part of the move along x, or
    else along y, that stays on pathable ground, or stays where it was (`before`)."""
    world = game.world
    x0, y0, x1, y1 = game.map.playable
    radius = world.radius.ravel()[unit]
    end = points(world.pos)[unit]  # (x, y) as x + iy: see world.points (a copy)
    # (one axis at a time: numpy is slow on [K, 2] arrays broadcast against [2] bounds)
    end.real = np.minimum(np.maximum(end.real, x0 + radius), x1 - radius)
    end.imag = np.minimum(np.maximum(end.imag, y0 + radius), y1 - radius)
    points(world.pos)[unit] = end
    pathing = game.pathing
    if pathing is None:
        return
    end_row, end_col = geometry.cell_of_xy(end.real, end.imag, pathing.rows, pathing.cols)
    open_cells = pathing.pathable.ravel()
    off = ~open_cells[end_row * pathing.cols + end_col]
    if not any_true(off):
        return
    unit, end, end_row, end_col = unit[off], end[off], end_row[off], end_col[off]
    start = points(before)[unit]
    start_row, start_col = geometry.cell_of_xy(start.real, start.imag, pathing.rows,
                                               pathing.cols)
    # A cell's row depends on y only and its column on x only: the move along x ends in the
    # cell (start row, end column), the move along y in (end row, start column).
    x_only = open_cells[start_row * pathing.cols + end_col]
    y_only = ~x_only & open_cells[end_row * pathing.cols + start_col]
    start.real[x_only] = end.real[x_only]
    start.imag[y_only] = end.imag[y_only]
    points(world.pos)[unit] = start


def clamp_to_playable(game, point, radius):
    """Points [K, 2] moved to the nearest place a unit of `radius` [K] can stand in the playable
    area (a command to a point outside it sends the unit there)."""
    x0, y0, x1, y1 = game.map.playable
    return np.stack([np.clip(point[:, 0], x0 + radius, x1 - radius),
                     np.clip(point[:, 1], y0 + radius, y1 - radius)], axis=-1)
