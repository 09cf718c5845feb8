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
(`ACCELERATION`, `_step`): they start from rest, gain ACCELERATION per loop up to their speed, and
brake to stop at their destination (their step is at most sqrt(2 * ACCELERATION * distance)).

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

The stages of `tick` are compiled loops (numba) over the world's arrays by flat unit index
env * U + slot: at a few hundred units per game loop, one loop costs less than the chain of numpy
calls that did the same arithmetic.
"""
import numba
import numpy as np

from minigames import geometry
from minigames.units import TABLE
from minigames.world import MAX_ORDERS, NEUTRAL, Order, any_true, points

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
SPEED = TABLE.speed
MOBILE = SPEED > 0
# Orders that move a unit to their point when no system says otherwise.
MOVES_TO_POINT = np.zeros(8, bool)
MOVES_TO_POINT[[Order.MOVE, Order.ATTACK, Order.PATROL]] = True
ATTACK, HOLD = int(Order.ATTACK), int(Order.HOLD)  # (plain numbers for the compiled loops)
_GOLDEN_ANGLE = 2.399963229728653


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
    """Move every unit free to move one game loop: step, separate, stay on the map, arrive."""
    world = game.world
    before = world.pos.copy()
    kind = world.current_order()
    pos = world.pos.reshape(-1, 2)
    unit, goal, ordered = _movers(
        world.max_units, running, world.alive.ravel(), world.unit_type.ravel(),
        intents.stand.ravel(), intents.wants_move.ravel(), intents.destination.reshape(-1, 2),
        kind.ravel(), world.order_target.reshape(-1, MAX_ORDERS),
        world.order_point.reshape(-1, MAX_ORDERS, 2))
    start = pos[unit]
    heading = goal if game.pathing is None else game.pathing.waypoints(start, goal)
    speed, reach = _step(pos, world.velocity.ravel(), world.facing.ravel(), unit,
                         world.unit_type.ravel(), heading, goal)
    _separate(game, intents, kind)
    world.awake = _settle(game, before)
    arrived = _arrivals(pos, unit, ordered, start, goal, heading, speed, reach)
    _arrive(world, unit[arrived])


@numba.njit(cache=True)
def _movers(max_units, running, alive, unit_type, stand, wants_move, destination, kind,
            order_target, order_point):
    """The units that move this loop (flat indices env * U + slot, in order), their goals [K, 2]
    and whether each goes by its order ([K] bool) rather than by a system's wish: units of a
    running game free to move (mobile, not standing) move where a system asks, or else to the
    point of a Move, attack-move or Patrol order (an Attack on a unit moves only by chasing,
    through combat's intents)."""
    unit = np.empty(alive.size, np.int64)
    goal = np.empty((alive.size, 2))
    ordered = np.empty(alive.size, np.bool_)
    count = 0
    for i in range(alive.size):
        if not (alive[i] and running[i // max_units] and MOBILE[unit_type[i]]) or stand[i]:
            continue
        by_order = (not wants_move[i] and MOVES_TO_POINT[kind[i]]
                    and not (kind[i] == ATTACK and order_target[i, 0] >= 0))
        if not (wants_move[i] or by_order):
            continue
        unit[count], ordered[count] = i, by_order
        point = order_point[i, 0] if by_order else destination[i]
        goal[count, 0], goal[count, 1] = point[0], point[1]
        count += 1
    return unit[:count], goal[:count], ordered[:count]


@numba.njit(cache=True)
def _step(pos, velocity, facing, unit, unit_type, heading, goal):
    """Moves units `unit` (flat indices) from their positions towards `heading` [K, 2] by their
    step (a worker's braking for `goal`), ending on it when it is within the step; turns them
    to face the way they go; keeps the step as the velocity of accelerating units (every other
    velocity 0). Returns each unit's step and whether it reached its heading ([K] each)."""
    velocity_before = velocity.copy()
    velocity[:] = 0.0
    speed = np.empty(len(unit))
    reach = np.empty(len(unit), np.bool_)
    for k in range(len(unit)):
        i = unit[k]
        t = unit_type[i]
        start_x, start_y = pos[i, 0], pos[i, 1]
        dx, dy = heading[k, 0] - start_x, heading[k, 1] - start_y
        distance = np.hypot(dx, dy)
        speed[k] = SPEED[t]
        if ACCELERATES[t]:
            a = ACCELERATION[t]
            to_goal = np.hypot(goal[k, 0] - start_x, goal[k, 1] - start_y)
            speed[k] = min(min(speed[k], velocity_before[i] + a), np.sqrt(2.0 * a * to_goal))
            velocity[i] = speed[k]
        reach[k] = distance <= speed[k]
        step = 1.0 if reach[k] else speed[k] / max(distance, 1e-9)
        pos[i, 0], pos[i, 1] = start_x + dx * step, start_y + dy * step
        if distance > 1e-9:
            facing[i] = np.arctan2(dy, dx) % (2 * np.pi)
    return speed, reach


@numba.njit(cache=True)
def _arrivals(pos, unit, ordered, start, goal, heading, speed, reach):
    """[K] bool: the units `unit` moving by their orders that arrived: they reached their goal
    (not a waypoint on the way), or they are within ARRIVAL_SLACK of it and made less than a
    quarter of their step of progress in this loop."""
    arrived = np.zeros(len(unit), np.bool_)
    for k in range(len(unit)):
        if not ordered[k]:
            continue
        to_goal = np.hypot(goal[k, 0] - start[k, 0], goal[k, 1] - start[k, 1])
        remaining = np.hypot(pos[unit[k], 0] - goal[k, 0], pos[unit[k], 1] - goal[k, 1])
        at_goal = reach[k] and heading[k, 0] == goal[k, 0] and heading[k, 1] == goal[k, 1]
        blocked = remaining <= ARRIVAL_SLACK and to_goal - remaining < 0.25 * speed[k]
        arrived[k] = at_goal or blocked
    return arrived


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
    _separation(world.max_units, world.pos.reshape(-1, 2), world.radius.ravel(),
                world.alive.ravel(), world.awake.ravel(), world.unit_type.ravel(),
                world.owner.ravel(), kind.ravel(), intents.passes_through.ravel())


@numba.njit(cache=True)
def _separation(max_units, pos, radius, alive, awake, unit_type, owner, kind, passes_through):
    """`_separate` on flat arrays (env * U + slot). Solid units: alive ground units that are not
    passing through others; of those, the ones pushed by the whole overlap (structures,
    resources, units holding position) are fixed. Each awake solid unit that is not fixed (a row)
    is pushed away from every solid unit of its game it overlaps, by half the overlap or the
    whole overlap against a fixed one, and a still unit (neither fixed nor a row) it runs into
    is pushed the other way by half; pushes are worked out from the positions before any of
    them and added pair by pair in the order (game, row's slot, other's slot), the still units'
    halves after all the rows' pushes."""
    num_envs = alive.size // max_units
    solid = np.empty(alive.size, np.bool_)
    fixed = np.empty(alive.size, np.bool_)
    rows = np.empty(alive.size, np.bool_)
    for i in range(alive.size):
        t = unit_type[i]
        solid[i] = alive[i] and SOLID[t] and not passes_through[i]
        fixed[i] = NEVER_PUSHED[t] or owner[i] == NEUTRAL or kind[i] == HOLD
        rows[i] = solid[i] and not fixed[i] and awake[i]
    if not rows.any():  # (a still crowd costs nothing)
        return
    before = pos.copy()
    solid_slots = np.empty(max_units, np.int64)
    any_still = False
    for still_units in (False, True):  # the rows' pushes, then the still units' (if any)
        if still_units and not any_still:
            break
        for e in range(num_envs):
            n_solid = 0
            for i in range(e * max_units, (e + 1) * max_units):
                if solid[i]:
                    solid_slots[n_solid] = i
                    n_solid += 1
            for a in range(e * max_units, (e + 1) * max_units):
                if not rows[a]:
                    continue
                for b in solid_slots[:n_solid]:
                    if b == a or still_units and (fixed[b] or rows[b]):
                        continue
                    overlap, along_x, along_y = _overlap(before, radius, a, b)
                    if overlap <= 0.0:
                        continue
                    if still_units:
                        pos[b, 0] += -along_x * overlap * 0.5
                        pos[b, 1] += -along_y * overlap * 0.5
                    else:
                        share = 1.0 if fixed[b] else 0.5
                        pos[a, 0] += along_x * overlap * share
                        pos[a, 1] += along_y * overlap * share
                        any_still |= not (fixed[b] or rows[b])


@numba.njit(cache=True)
def _overlap(pos, radius, a, b):
    """How far the discs of units a and b overlap (0 when apart) and the way a is pushed from b
    (units on one spot part in a direction fixed by their flat indices)."""
    dx, dy = pos[a, 0] - pos[b, 0], pos[a, 1] - pos[b, 1]
    d2 = dx * dx
    d2 += dy * dy
    reach = radius[a] + radius[b]
    if not d2 < reach * reach:
        return 0.0, 0.0, 0.0
    distance = np.sqrt(d2)
    if distance <= 1e-9:
        angle = (a - b) * _GOLDEN_ANGLE
        return reach - distance, np.cos(angle), np.sin(angle)
    return reach - distance, dx / distance, dy / distance


def _settle(game, before):
    """Units that moved in this loop (from `before`, the positions when it began) are moved back
    into the playable area (as `clamp_to_playable`); on maps with cliffs, one that a step or a
    push would put on an unpathable cell then slides along it: it keeps the part of the move
    along x, or else along y, that stays on pathable ground, or stays where it was. Returns the
    units that moved ([E, U] bool, before being moved back)."""
    world, pathing = game.world, game.pathing
    moved = np.empty_like(world.alive)
    pathable = np.ones((1, 1), bool) if pathing is None else pathing.pathable
    _settle_units(world.pos.reshape(-1, 2), before.reshape(-1, 2), world.alive.ravel(),
                  world.radius.ravel(), np.asarray(game.map.playable, np.float64), pathable,
                  moved.ravel())
    return moved


@numba.njit(cache=True)
def _settle_units(pos, before, alive, radius, playable, pathable, moved):
    """`_settle` on flat arrays (`pathable` [rows, cols]: all True on maps without cliffs)."""
    x0, y0, x1, y1 = playable
    rows, cols = pathable.shape
    open_cells = pathable.ravel()
    for i in range(alive.size):
        moved[i] = alive[i] and (pos[i, 0] != before[i, 0] or pos[i, 1] != before[i, 1])
        if not moved[i]:
            continue
        end_x = min(max(pos[i, 0], x0 + radius[i]), x1 - radius[i])
        end_y = min(max(pos[i, 1], y0 + radius[i]), y1 - radius[i])
        pos[i, 0], pos[i, 1] = end_x, end_y
        end_row, end_col = geometry.cell_of_point(end_x, end_y, rows, cols)
        if open_cells[end_row * cols + end_col]:
            continue
        start_row, start_col = geometry.cell_of_point(before[i, 0], before[i, 1], rows, cols)
        # A cell's row depends on y only and its column on x only: the move along x ends in the
        # cell (start row, end column), the move along y in (end row, start column).
        pos[i, 0], pos[i, 1] = before[i, 0], before[i, 1]
        if open_cells[start_row * cols + end_col]:
            pos[i, 0] = end_x
        elif open_cells[end_row * cols + start_col]:
            pos[i, 1] = end_y


def clamp_to_playable(game, point, radius):
    """Points [K, 2] moved to the nearest place a unit of `radius` [K] can stand in the playable
    area (a command to a point outside it sends the unit there)."""
    x0, y0, x1, y1 = game.map.playable
    return np.stack([np.clip(point[:, 0], x0 + radius, x1 - radius),
                     np.clip(point[:, 1], y0 + radius, y1 - radius)], axis=-1)
