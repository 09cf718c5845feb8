"""The economy: workers gather minerals and gas, carry them to a town hall, and the score counts it.

Resources. Mineral fields hold `minerals_left`; a Vespene Geyser holds `vespene_left` but gives gas
only through a finished Refinery on it (`minigames.production` builds it): the refinery's gas is
the geyser's, and each trip takes gas from both.

A worker's Gather order on a field or on its owner's finished refinery runs the harvest cycle
(`World.phase`), over and over until the worker gets another order:

1. TO_RESOURCE: it walks to the resource, to the nearest point of the resource's edge (its disc
   touching the resource's disc).
2. There it mines if no other worker occupies the resource; otherwise a worker at a mineral field
   goes on to the nearest field within BOUNCE_RADIUS that nobody mines or walks to (the game's
   workers spread over a mineral line this way), and waits (WAITING) if there is none. Of workers
   that reach a free resource in the same game loop, the one in the lowest slot mines.
3. MINING: it occupies the resource for MINING_LOOPS (a field: 2.786 normal-speed seconds = 44.6
   loops, Liquipedia "Resources") or GAS_LOOPS (a refinery), then takes MINERALS_PER_TRIP (5) or
   GAS_PER_TRIP (4), or what is left.
4. PAUSE: a worker that mined minerals holds its cargo PAUSE_LOOPS (0.5 s = 8 loops) before it
   turns back; the field is free for the next worker during the pause (Liquipedia).
5. TO_DROP_OFF: it walks to the nearest finished town hall of its owner, to the hall's edge, and
   drops the cargo: the player's minerals (or vespene) and `collected_minerals` (`_vespene`) grow
   by it. Then it walks back to its resource (1).

Timed phases end on the first game loop at which their count of loops reaches 0 (so mining lasts 45
loops). Workers in the cycle pass through other units (`Intents.passes_through`), as mining workers
do in the game, and speed up and brake on each walk (`movement.ACCELERATION`): one SCV then earns
45.7 minerals per game minute on a standard close patch and 39.7 on a far one (sc2-planner measured
45 and 39 in the game); two SCVs less than double a close patch's income when the trip is shorter
than two mining times, and no number of SCVs mines a field faster than 5 per 45 loops.

Readings where the game's rules are not published:
* GAS_LOOPS = 33.6 (2.1 normal-speed seconds): the trip time sc2-planner measured with 3 and 4
  workers on one geyser (`BurnySc2/sc2-planner` `src/game_logic/income.ts`), i.e. the time the
  refinery is occupied per trip. The worker stays visible beside the refinery while it is inside.
* A worker given Gather while it carries cargo first drops the cargo at a town hall.
* When the resource of a Gather is gone (mined out, destroyed), the worker takes the nearest field
  within SEARCH_RADIUS of itself, or, if there is none, drops its cargo and stops.
* Return Cargo (Harvest_Return) walks to the nearest town hall and drops the cargo; a worker that
  had a resource then goes back to gather it, as the game's do. Without a town hall the worker
  waits with its cargo.
* `collection_rate_minerals` / `_vespene` are the income per minute of Faster game time (1344
  loops), averaged exponentially over the last RATE_WINDOW loops (the game's averaging is not
  published).

`gather` and `return_cargo` are the commands a script or bot gives directly (the interface's
Harvest_Gather, Harvest_Return and Smart handlers call them too).
"""
import numba
import numpy as np
from pysc2.lib import features
from s2clientprotocol import error_pb2

from minigames.units import TABLE
from minigames.world import (MAX_ORDERS, OWNERS, KeptForLast, Order, Phase, any_true, compact,
                             gather as gather_rows, owner_key, points)

MINERALS_PER_TRIP = 5
GAS_PER_TRIP = 4
MINING_LOOPS = 2.786 * 16      # 44.6
GAS_LOOPS = 2.1 * 16           # 33.6
PAUSE_LOOPS = 0.5 * 16         # 8
BOUNCE_RADIUS = 6.0            # a worker at a busy field looks this far for a free one
SEARCH_RADIUS = 12.0           # a worker whose field is gone looks this far for another
LOOPS_PER_MINUTE = 22.4 * 60   # a minute at Faster speed
RATE_WINDOW = 1344.0
ARRIVED = 1e-6                 # distance within which a worker is at its spot
SC = features.ScoreCumulative
OK = 0
MUST_TARGET_RESOURCES = error_pb2.MustTargetResources
MUST_BUILD_REFINERY_FIRST = error_pb2.MustBuildRefineryFirst
UNDER_CONSTRUCTION = error_pb2.BuildingIsUnderConstruction
CANT_HARVEST = error_pb2.CantHarvestThatResource
EXHAUSTED = error_pb2.CantTargetExhaustedResources
NO_CARGO = error_pb2.Error

IS_MINERAL_FIELD = TABLE.minerals_contained > 0
IS_GEYSER = (TABLE.vespene_contained > 0) & ~TABLE.is_structure
IS_REFINERY = TABLE.needs_geyser
TIMED = np.zeros(8, bool)
TIMED[[Phase.MINING, Phase.PAUSE]] = True
STANDS = np.zeros(8, bool)  # phases in which a worker stays where it is
STANDS[[Phase.MINING, Phase.PAUSE, Phase.WAITING]] = True


# -------------------------------------------------------------------------- commands
def harvest_error(world, env, worker, resource):
    """[K] ActionResult of sending workers to gather `resource` slots (-1: nothing there)."""
    safe = np.maximum(resource, 0)
    exists = (resource >= 0) & world.alive[env, safe]
    resource_type = world.unit_type[env, safe]
    field = exists & IS_MINERAL_FIELD[resource_type] & (world.minerals_left[env, safe] > 0)
    refinery = exists & IS_REFINERY[resource_type]
    own = refinery & (world.owner[env, safe] == world.owner[env, worker])
    finished = world.build_progress[env, safe] >= 1.0
    has_gas = world.vespene_left[env, safe] > 0
    return np.select(
        [field | (own & finished & has_gas), own & ~finished, own, refinery,
         exists & IS_GEYSER[resource_type]],
        [OK, UNDER_CONSTRUCTION, EXHAUSTED, CANT_HARVEST, MUST_BUILD_REFINERY_FIRST],
        MUST_TARGET_RESOURCES)


def gather(game, env, worker, resource, queued=None):
    """Order workers (slots [K] of environments [K]) to gather `resource` [K] (a mineral field or
    their owner's finished refinery). Returns [K] ActionResult codes; 0: the order was given."""
    world = game.world
    env, worker, resource = (np.asarray(a, np.int64) for a in (env, worker, resource))
    error = harvest_error(world, env, worker, resource)
    ok = error == OK
    e, w, r = env[ok], worker[ok], resource[ok]
    world.give_orders(e, w, Order.GATHER, world.pos[e, r], target=r, target_tag=world.tag[e, r],
                      queued=None if queued is None else np.asarray(queued)[ok])
    return error


def return_cargo(game, env, worker, queued=None):
    """Order workers to bring their cargo to the nearest town hall; [K] ActionResult codes
    (`Error` for a worker that carries nothing: the game offers no Return Cargo then)."""
    world = game.world
    env, worker = np.asarray(env, np.int64), np.asarray(worker, np.int64)
    carrying = carries(world)[env, worker]
    e, w = env[carrying], worker[carrying]
    world.give_orders(e, w, Order.RETURN, world.pos[e, w],
                      queued=None if queued is None else np.asarray(queued)[carrying])
    return np.where(carrying, OK, NO_CARGO)


def carries(world):
    """[E, U] bool: units carrying minerals or gas."""
    return (world.carry_minerals > 0) | (world.carry_vespene > 0)


# ------------------------------------------------------------------------------ tick
# The harvest cycle reads and writes workers and their resources by flat index env * U + slot
# into the world's [E, U] arrays (`array.ravel()[unit]`: several times faster than indexing by
# (env, slot)); orders' current entries are at flat index unit * MAX_ORDERS.
def tick(game, running, intents, kind):
    """One game loop of every harvesting worker (`kind`: [E, U] current order kinds)."""
    world = game.world
    harvesting = ((kind == Order.GATHER) | (kind == Order.RETURN)) & running[:, None]
    income = np.zeros((world.num_envs, 2, 2))  # [env, player, minerals/vespene] of this loop
    unit = harvesting.ravel().nonzero()[0]
    if unit.size:
        _cycle(game, unit, kind.ravel()[unit], intents, income)
    rate = world.score_cumulative[:, :, SC.collection_rate_minerals:SC.collection_rate_vespene + 1]
    if unit.size or any_true(rate):
        rate += (income * LOOPS_PER_MINUTE - rate) * (running[:, None, None] / RATE_WINDOW)


def _cycle(game, unit, kind, intents, income):
    """The harvest cycle of workers `unit` (flat indices) whose current orders are `kind`."""
    world = game.world
    env = unit // world.max_units
    phase = world.phase.ravel()[unit]
    target = world.order_target.ravel()[unit * MAX_ORDERS]
    _replace_lost_resources(game, unit, env, kind, phase, target)
    new_target = (kind == Order.GATHER) & (world.harvest_target.ravel()[unit] != target)
    if any_true(new_target):  # (a few loops: new gathers)
        u, t = unit[new_target], target[new_target]
        world.harvest_target.ravel()[u] = t
        world.harvest_target_tag.ravel()[u] = world.tag.ravel()[
            world.flat_index(env[new_target], t)]
    # A new order starts; a worker with cargo drops it first.
    fresh = (phase == Phase.NONE) & (kind != Order.NONE)
    if any_true(fresh):  # (a few loops)
        loaded = (world.carry_minerals.ravel()[unit] > 0) | (world.carry_vespene.ravel()[unit] > 0)
        to_drop_off = loaded | (kind == Order.RETURN)
        phase[fresh] = np.where(to_drop_off[fresh], Phase.TO_DROP_OFF, Phase.TO_RESOURCE)
    # Timed phases count down.
    timed = TIMED[phase]
    phase_loops = world.phase_loops.ravel()
    loops = phase_loops[unit] - timed
    phase_loops[unit] = loops
    done = timed & (loops <= 0)
    mined = (done & (phase == Phase.MINING)).nonzero()[0]
    phase[done & (phase == Phase.PAUSE)] = Phase.TO_DROP_OFF
    if mined.size:
        gas = _take_cargo(game, env[mined], unit[mined] % world.max_units, target[mined])
        phase[mined[gas]] = Phase.TO_DROP_OFF
        paused = mined[~gas]
        phase[paused] = Phase.PAUSE
        phase_loops[unit[paused]] = PAUSE_LOOPS
    _walk_to_drop_off(game, unit, env, kind, phase, intents, income)
    _walk_to_resource(game, unit, env, target, phase, intents)
    world.phase.ravel()[unit] = phase
    intents.passes_through.ravel()[unit] = True
    intents.stand.ravel()[unit[STANDS[phase]]] = True


def _replace_lost_resources(game, unit, env, kind, phase, target):
    """Gathers whose resource is gone (mined out, destroyed, emptied) take the nearest field
    within SEARCH_RADIUS; without one, a worker with cargo returns it and one without stops."""
    world = game.world
    # What can change under a gather: its resource dies, is mined out or runs dry.
    resource = world.flat_index(env, np.maximum(target, 0))
    lost = (kind == Order.GATHER) & ~(
        world.valid(env, target, world.order_target_tag.ravel()[unit * MAX_ORDERS])
        & ((world.minerals_left.ravel()[resource] > 0)
           | (world.vespene_left.ravel()[resource] > 0)))
    if not any_true(lost):
        return
    slot = unit % world.max_units
    lost = np.flatnonzero(lost)
    e, s = env[lost], slot[lost]
    new = _nearest_field(world, e, world.pos[e, s], SEARCH_RADIUS, free_only=False)
    found = new >= 0
    target[lost[found]] = new[found]
    world.order_target[e[found], s[found], 0] = new[found]
    world.order_target_tag[e[found], s[found], 0] = world.tag[e[found], new[found]]
    walks = np.isin(phase[lost], (Phase.MINING, Phase.WAITING))
    phase[lost[found & walks]] = Phase.TO_RESOURCE
    world.harvest_target[e[~found], s[~found]] = -1
    loaded = carries(world)[e, s]
    returning = lost[~found & loaded]
    world.order_kind[env[returning], slot[returning], 0] = Order.RETURN
    kind[returning] = Order.RETURN
    phase[returning[phase[returning] != Phase.PAUSE]] = Phase.TO_DROP_OFF
    stop = lost[~found & ~loaded]
    world.finish_order(env[stop], slot[stop])
    kind[stop] = Order.NONE
    phase[stop] = Phase.NONE


def _nearest_field(world, env, point, radius, free_only, busy=None):
    """[K] slot of the mineral field nearest each point [K, 2] within `radius` (-1: none); with
    `free_only`, only fields nobody mines or walks to (`busy` [E, U])."""
    if env.size == 0:
        return np.zeros(0, np.int64)
    rows, first = np.unique(env, return_inverse=True)
    fields = world.alive[rows] & IS_MINERAL_FIELD[world.unit_type[rows]] & (
        world.minerals_left[rows] > 0)
    if free_only:
        fields &= ~busy[rows]
    f_slot, f_ok = compact(fields)
    if f_slot.shape[1] == 0:
        return np.full(len(env), -1, np.int64)
    f_pos = gather_rows(world.pos[rows], f_slot)[first]
    d = np.hypot(*(f_pos - point[:, None, :]).transpose(2, 0, 1))
    d = np.where(f_ok[first] & (d <= radius), d, np.inf)
    best = d.argmin(axis=1)
    return np.where(np.isfinite(d[np.arange(len(env)), best]), f_slot[first, best], -1)


def _take_cargo(game, env, slot, resource):
    """Workers that finished mining take their cargo from the resource; [K] bool: it was gas."""
    world = game.world
    gas = IS_REFINERY[world.unit_type[env, resource]]
    m_env, m_slot, m_res = env[~gas], slot[~gas], resource[~gas]
    amount = np.minimum(MINERALS_PER_TRIP, world.minerals_left[m_env, m_res])
    world.carry_minerals[m_env, m_slot] = amount
    world.carry_vespene[m_env, m_slot] = 0.0
    world.minerals_left[m_env, m_res] -= amount  # one miner per resource: no repeated index
    g_env, g_slot, g_res = env[gas], slot[gas], resource[gas]
    amount = np.minimum(GAS_PER_TRIP, world.vespene_left[g_env, g_res])
    world.carry_vespene[g_env, g_slot] = amount
    world.carry_minerals[g_env, g_slot] = 0.0
    world.vespene_left[g_env, g_res] -= amount
    geyser = world.geyser[g_env, g_res]
    linked = geyser >= 0  # the geyser under the refinery keeps the same count
    world.vespene_left[g_env[linked], geyser[linked]] = world.vespene_left[g_env[linked],
                                                                           g_res[linked]]
    empty = world.minerals_left[m_env, m_res] <= 0
    if any_true(empty):  # a mined-out field disappears
        world.remove(m_env[empty], m_res[empty])
        game.ground.dirty[m_env[empty]] = True
    return gas


def _walk_up_to(world, intents, unit, other):
    """Units `unit` walk up to units `other` (flat indices): each one not yet touching its other
    unit's disc is asked to move to the nearest point of the ring around it (straight below it
    when the two are on one spot). Returns [K] bool: the unit touches it already."""
    return _walk_up_to_units(world.pos.reshape(-1, 2), world.radius.ravel(), unit, other,
                             intents.wants_move.ravel(), intents.destination.reshape(-1, 2))


@numba.njit(cache=True)
def _walk_up_to_units(pos, radius, unit, other, wants_move, destination):
    """`_walk_up_to` on flat arrays (env * U + slot), into the intents' arrays."""
    there = np.empty(len(unit), np.bool_)
    for k in range(len(unit)):
        u, o = unit[k], other[k]
        dx, dy = pos[u, 0] - pos[o, 0], pos[u, 1] - pos[o, 1]
        distance = np.hypot(dx, dy)
        reach = radius[o] + radius[u]
        there[k] = distance - reach <= ARRIVED
        if not there[k]:
            along_x, along_y = (dx / distance, dy / distance) if distance > 1e-9 else (0.0, -1.0)
            wants_move[u] = True
            destination[u, 0] = pos[o, 0] + along_x * reach
            destination[u, 1] = pos[o, 1] + along_y * reach
    return there


def _walk_to_resource(game, unit, env, target, phase, intents):
    world = game.world
    going = ((phase == Phase.TO_RESOURCE) | (phase == Phase.WAITING)).nonzero()[0]
    if going.size == 0:
        return
    # Resources by flat index (a target -1 wraps to the game's last slot, as target[env, -1]).
    resource = world.flat_index(env, target % world.max_units)
    u, e, r = unit[going], env[going], resource[going]
    there = _walk_up_to(world, intents, u, r)
    phase[going[~there]] = Phase.TO_RESOURCE
    if not any_true(there):  # (most loops: nobody at a resource, so nobody starts or waits)
        return
    # At the resource: mine if it is free (lowest slot first), else try another field, else wait.
    occupied = np.zeros(world.alive.size, bool)  # by flat index
    occupied[resource[phase == Phase.MINING]] = True
    arrived = there.nonzero()[0]
    arrived = arrived[np.lexsort((u[arrived], r[arrived]))]  # by game, resource, slot
    first = np.ones(len(arrived), bool)
    first[1:] = r[arrived][1:] != r[arrived][:-1]
    starts = first & ~occupied[r[arrived]]
    start = arrived[starts]
    phase[going[start]] = Phase.MINING
    gas = IS_REFINERY[world.unit_type.ravel()[r[start]]]
    world.phase_loops.ravel()[u[start]] = np.where(gas, GAS_LOOPS, MINING_LOOPS)
    blocked = np.sort(arrived[~starts])  # (as np.setdiff1d(arrived, start): arrived is unique)
    phase[going[blocked]] = Phase.WAITING
    # Workers that just reached a busy field look for a free one (waiting ones stay).
    was_waiting = world.phase.ravel()[u[blocked]] == Phase.WAITING
    newcomers = blocked[IS_MINERAL_FIELD[world.unit_type.ravel()[r[blocked]]] & ~was_waiting]
    if newcomers.size == 0:
        return
    occupied[r[start]] = True
    occupied[resource[phase == Phase.TO_RESOURCE]] = True
    other = _nearest_field(world, e[newcomers], world.pos.reshape(-1, 2)[r[newcomers]],
                           BOUNCE_RADIUS, free_only=True,
                           busy=occupied.reshape(world.alive.shape))
    moved, new = newcomers[other >= 0], other[other >= 0]
    order = u[moved] * MAX_ORDERS  # their current orders' entries
    world.order_target.ravel()[order] = new
    world.order_target_tag.ravel()[order] = world.tag.ravel()[world.flat_index(e[moved], new)]
    target[going[moved]] = new
    phase[going[moved]] = Phase.TO_RESOURCE


def _walk_to_drop_off(game, unit, env, kind, phase, intents, income):
    world = game.world
    going = (phase == Phase.TO_DROP_OFF).nonzero()[0]
    if going.size == 0:
        return
    u, e = unit[going], env[going]
    hall = _nearest_town_hall(world, u, e)
    has = hall >= 0  # without a town hall the worker waits where it is
    going, u, e, hall = going[has], u[has], e[has], hall[has]
    there = _walk_up_to(world, intents, u, hall)
    if not any_true(there):  # (most loops: nobody at a town hall drops anything; the stocks,
        return               # never -0.0, would not change by adding 0.0)
    d_unit, d_env = u[there], e[there]
    # Sum the cargo dropped per (environment, player) and add it to the stock and the score.
    index = d_env * 2 + world.owner.ravel()[d_unit].astype(np.int64) - 1
    for column, stock, cargo in ((0, world.minerals, world.carry_minerals),
                                 (1, world.vespene, world.carry_vespene)):
        dropped = np.bincount(index, cargo.ravel()[d_unit], minlength=2 * world.num_envs
                              ).reshape(world.num_envs, 2)
        stock += dropped
        world.score_cumulative[:, :, (SC.collected_minerals, SC.collected_vespene)[column]] += \
            dropped
        income[:, :, column] += dropped
    world.carry_minerals.ravel()[d_unit] = 0.0
    world.carry_vespene.ravel()[d_unit] = 0.0
    dropped = going[there]
    phase[dropped[kind[dropped] == Order.GATHER]] = Phase.TO_RESOURCE
    returned = dropped[kind[dropped] == Order.RETURN]
    if returned.size:
        _finish_returns(world, *np.divmod(unit[returned], world.max_units))
        phase[returned] = Phase.NONE


def _finish_returns(world, env, slot):
    """Return orders are done; a worker with nothing queued goes back to its resource."""
    world.finish_order(env, slot)
    resume = (world.order_count[env, slot] == 0) & world.valid(
        env, world.harvest_target[env, slot], world.harvest_target_tag[env, slot])
    e, s = env[resume], slot[resume]
    target = world.harvest_target[e, s]
    world.give_orders(e, s, Order.GATHER, world.pos[e, target], target=target,
                      target_tag=world.tag[e, target])


def _sole_halls(halls, owner):
    """The one town hall of each (game, owner), when no owner has two in a game: [E * OWNERS]
    flat index at `owner_key` (-1: none), or None when one has (`halls`, `owner`: [E, U])."""
    hall = halls.ravel().nonzero()[0]
    key = owner_key(hall, owner)
    if np.unique(key).size < key.size:
        return None
    sole = np.full(halls.shape[0] * OWNERS, -1, np.int64)
    sole[key] = hall
    return sole


# (town halls and their owners change rarely)
_compact_town_halls = KeptForLast(compact)
_sole_town_halls = KeptForLast(_sole_halls)


def _nearest_town_hall(world, unit, env):
    """[K] flat index of the finished town hall of each worker's owner nearest to it (workers
    `unit`, flat indices, of games `env`; -1: none)."""
    halls = (world.alive & world.per_type(TABLE.is_townhall) & (world.build_progress >= 1.0))
    sole = _sole_town_halls(halls, world.owner)
    if sole is not None:
        # No owner has two halls in a game: a worker's own hall, if any, is the nearest (the
        # search below finds it too, every other hall being at infinity).
        return sole[owner_key(unit, world.owner)]
    h_slot, h_ok = _compact_town_halls(halls)
    if h_slot.shape[1] == 0:
        return np.full(len(unit), -1, np.int64)
    # [K, H]: each worker's game's halls (whole rows of the [E, H] arrays), by flat index.
    hall = world.flat_index(env[:, None], h_slot.take(env, axis=0))
    pos = points(world.pos)  # (x, y) as x + iy: see world.points
    delta = pos[hall] - pos[unit][:, None]
    d = np.hypot(delta.real, delta.imag)
    owner = world.owner.ravel()
    d = np.where(h_ok.take(env, axis=0) & (owner[hall] == owner[unit][:, None]), d, np.inf)
    best = d.argmin(axis=1)
    rows = np.arange(len(unit))
    return np.where(np.isfinite(d[rows, best]), hall[rows, best], -1)
