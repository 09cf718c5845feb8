"""Production: supply, training queues, rally points and construction, for every player alike.

Supply. A player's food used is the supply of its living units plus that of the units in its
training queues; its food cap is what its finished supply providers give (Command Center 15,
Supply Depot 8; negative `supply` in the unit table), at most 200.

The engine holds at most the map's `max_units` units per game: a unit that would need more is
refused with the generic `Error` code (training) or not placed (construction), never a crash.

Training (`train`). A structure that offers a Train function queues up to QUEUE_SIZE (5) units;
the cost (minerals, gas) and the supply are taken when a unit is queued, so a unit is refused with
NotEnoughMinerals / NotEnoughVespene / NotEnoughFood / QueueIsFull when they are lacking. The first
unit of the queue trains for its `build_loops` (SCV 272, Marine 400) and then appears at the edge
of the structure facing its rally point (below it without one). A cancelled unit (`cancel_last`,
`cancel_queued`) gives back all it cost, its supply included.

Rally (`set_rally`). A new unit walks to the structure's rally point, or to the unit it is set on;
a worker rallied to a mineral field or its owner's refinery gathers it. Without a rally point it
stays where it appeared (a reading: the game's town halls have no default rally either).

Construction (`build`). A worker given Build_<structure> at a point walks to the nearest point of
the structure's footprint (its disc), and there the structure is placed: the placement is checked
again (`minigames.placement`), the cost is paid (the game takes it when the building is placed, not
when it is ordered; with too little by then the worker drops the order), and the structure appears
with build progress 0 and 10% of its hit points. A builder walks straight to its site through
other units and structures (the engine's paths go around cliffs, not structures; the game's SCV
would walk around them). The worker stays beside the structure, busy, for the
structure's `build_loops` (Supply Depot 480, Barracks 1040, Refinery 480, Command Center 1600),
while progress and hit points grow evenly to full. A worker that leaves stops the construction; a
worker given Smart on the unfinished structure takes it up again. When the structure is done the
worker's order ends; one that built a refinery then gathers from it (as in the game). A structure
only provides supply and trains once finished; its requirement (Barracks: a finished Supply
Depot) is checked when the order is given. Cancelling a structure under construction (`cancel_
construction`) removes it and gives back 75% of its cost (the game's rule).

The functions `train`, `build`, `set_rally` and the cancels act on arrays of (environment, slot)
and return pysc2 ActionResult codes (0: done); the interface's handlers and a scripted opponent
use the same functions.

Score bookkeeping (pysc2's ScoreCumulative): spent_minerals / spent_vespene grow when a unit is
queued or a structure placed and shrink by what a cancel gives back; idle_worker_time and
idle_production_time count, every game loop, the idle workers and the finished structures that
could train but have an empty queue (in game loops); killed_value_units / _structures add the
cost of every enemy unit or structure that dies.
"""
import numba
import numpy as np
from pysc2.lib import actions, features, units
from s2clientprotocol import error_pb2

from minigames import economy, placement
from minigames.units import TABLE
from minigames.world import (MAX_ORDERS, NEUTRAL, QUEUE_SIZE, Order, Phase, Rally, any_true,
                             nonzero)

F = actions.FUNCTIONS
SC = features.ScoreCumulative
MAX_FOOD = 200
START_HEALTH = 0.1  # fraction of hit points a structure has when placed
CANCEL_REFUND = 0.75  # of a cancelled structure's cost
OK = 0
NOT_SUPPORTED = error_pb2.NotSupported
QUEUE_FULL = error_pb2.QueueIsFull
NOT_ENOUGH_MINERALS = error_pb2.NotEnoughMinerals
NOT_ENOUGH_VESPENE = error_pb2.NotEnoughVespene
NOT_ENOUGH_FOOD = error_pb2.NotEnoughFood
TECH_REQUIREMENT = error_pb2.TechRequirementsNotMet
BUILD_TECH_REQUIREMENT = error_pb2.BuildTechRequirementsNotMet
UNDER_CONSTRUCTION = error_pb2.BuildingIsUnderConstruction
NO_CANCEL = error_pb2.CantFindCancelOrder
NO_UNIT_SLOT = error_pb2.Error  # the map's `max_units` is reached (the engine's own limit)

# The Train and Build functions the engine carries out, and the unit type each one makes.
TRAIN_FUNCTIONS = {F.Train_SCV_quick.id: units.Terran.SCV,
                   F.Train_Marine_quick.id: units.Terran.Marine}
BUILD_FUNCTIONS = {F.Build_SupplyDepot_screen.id: units.Terran.SupplyDepot,
                   F.Build_Barracks_screen.id: units.Terran.Barracks,
                   F.Build_Refinery_screen.id: units.Terran.Refinery,
                   F.Build_CommandCenter_screen.id: units.Terran.CommandCenter}
MAKES = {**TRAIN_FUNCTIONS, **BUILD_FUNCTIONS}
FUNCTION_OF = {unit_type: function for function, unit_type in MAKES.items()}
# CAN_MAKE[maker type, made type]: the maker's command card has the function that makes it.
CAN_MAKE = np.zeros((TABLE.size, TABLE.size), bool)
for _function, _made in MAKES.items():
    CAN_MAKE[:, _made] = TABLE.functions[:, _function]
IS_PRODUCER = CAN_MAKE[:, list(TRAIN_FUNCTIONS.values())].any(axis=1) & TABLE.is_structure
VALUE = TABLE.minerals + TABLE.gas  # what a unit of each type cost
TAKES_PART = TABLE.is_worker | TABLE.is_structure  # units production has something to do with
# REQUIRES[maker type, MADE_INDEX[made type]]: the building the maker's owner must have finished.
MADE_INDEX = np.zeros(TABLE.size, np.int64)
MADE_INDEX[list(FUNCTION_OF)] = np.arange(len(FUNCTION_OF))
REQUIRES = np.zeros((TABLE.size, len(FUNCTION_OF)), np.int64)
for (_maker, _function), _building in TABLE.requirement.items():
    if _function in MAKES:
        REQUIRES[_maker, MADE_INDEX[MAKES[_function]]] = _building


def _requirement(maker_type, made_type):
    """[K] building type each (maker, made) pair requires (0: none)."""
    return REQUIRES[maker_type, MADE_INDEX[made_type]]


# ----------------------------------------------------------------------------- supply
def food(world, player):
    """([E] food used, [E] food cap) of `player`.

    Food used: the supply of living units plus that of units in training queues; food cap: what
    finished supply providers give, at most 200."""
    supply = world.per_type(TABLE.supply)
    own = world.alive & (world.owner == player)
    used = np.where(own & (supply > 0), supply, 0.0).sum(axis=1) + world.food_queued[:, player - 1]
    cap = np.where(own & (world.build_progress >= 1.0) & (supply < 0), -supply, 0.0).sum(axis=1)
    return used, np.minimum(cap, MAX_FOOD)


def has_finished(world, env, player, unit_type):
    """[K] bool: `player` [K] has a finished unit of `unit_type` [K] (0 counts as had)."""
    if env.size == 0:
        return np.zeros(0, bool)
    have = (world.alive[env] & (world.owner[env] == player[:, None])
            & (world.unit_type[env] == unit_type[:, None]) & (world.build_progress[env] >= 1.0))
    return have.any(axis=1) | (unit_type == 0)


def _in_turn(env):
    """Yield index arrays of the requests [K] of environments `env`, so that requests of one
    environment are carried out one after another (each sees what the ones before it spent):
    first every environment's first request, then every second one, and so on."""
    order = np.argsort(env, kind="stable")
    sorted_env = env[order]
    rank = np.empty(len(env), np.int64)
    rank[order] = np.arange(len(env)) - np.searchsorted(sorted_env, sorted_env, side="left")
    for r in range(int(rank.max(initial=-1)) + 1):
        yield np.flatnonzero(rank == r)


def _has_free_slot(world, env):
    """[K] bool: the environment has a unit slot for one more unit beyond every unit already in
    its training queues (so that a queued unit always finds a slot when it is done)."""
    free = (~world.alive[env]).sum(axis=1) - world.queue_count[env].sum(axis=1)
    return free >= 1


def _cost_error(world, env, player, unit_type, check_food=False):
    """[K] NotEnoughMinerals / NotEnoughVespene / NotEnoughFood (with `check_food`) or OK."""
    p = player - 1
    error = np.where(world.minerals[env, p] < TABLE.minerals[unit_type], NOT_ENOUGH_MINERALS,
                     np.where(world.vespene[env, p] < TABLE.gas[unit_type], NOT_ENOUGH_VESPENE,
                              OK))
    if check_food:
        used, cap = np.stack([food(world, q) for q in (1, 2)], axis=-1)  # [2, E, player]
        short = used[env, p] + TABLE.supply[unit_type] > cap[env, p]
        error = np.where((error == OK) & short & (TABLE.supply[unit_type] > 0), NOT_ENOUGH_FOOD,
                         error)
    return error


def _spend(world, env, player, unit_type, fraction=1.0):
    """Pay (fraction > 0) or get back (fraction < 0) `fraction` of each unit type's cost."""
    p = player - 1
    minerals = TABLE.minerals[unit_type] * fraction
    gas = TABLE.gas[unit_type] * fraction
    np.subtract.at(world.minerals, (env, p), minerals)
    np.subtract.at(world.vespene, (env, p), gas)
    np.add.at(world.score_cumulative, (env, p, SC.spent_minerals), minerals)
    np.add.at(world.score_cumulative, (env, p, SC.spent_vespene), gas)


# ---------------------------------------------------------------------------- training
def train(game, env, building, unit_type):
    """Queue one unit of `unit_type` [K] at each structure `building` [K] of environments `env`
    [K] (requests in one environment are served in order). Returns [K] ActionResult codes."""
    world = game.world
    env, building, unit_type = (np.asarray(a, np.int64) for a in (env, building, unit_type))
    error = np.zeros(len(env), np.int64)
    for now in _in_turn(env):
        e, b, t = env[now], building[now], unit_type[now]
        player = world.owner[e, b].astype(np.int64)
        maker = world.unit_type[e, b]
        err = np.where(~world.alive[e, b] | ~CAN_MAKE[maker, t], NOT_SUPPORTED, OK)
        err = np.where((err == OK) & (world.build_progress[e, b] < 1.0), UNDER_CONSTRUCTION, err)
        err = np.where((err == OK) & ~has_finished(world, e, player, _requirement(maker, t)),
                       TECH_REQUIREMENT, err)
        err = np.where((err == OK) & (world.queue_count[e, b] >= QUEUE_SIZE), QUEUE_FULL, err)
        err = np.where((err == OK) & ~_has_free_slot(world, e), NO_UNIT_SLOT, err)
        err = np.where(err == OK, _cost_error(world, e, player, t, check_food=True), err)
        error[now] = err
        ok = err == OK
        e, b, t, player = e[ok], b[ok], t[ok], player[ok]
        world.queue_type[e, b, world.queue_count[e, b]] = t
        world.queue_count[e, b] += 1
        _spend(world, e, player, t)
        np.add.at(world.food_queued, (e, player - 1), TABLE.supply[t])
    return error


def _drop_from_queue(world, env, building, index):
    """Take item `index` out of each queue (the rest move up); returns the types taken out."""
    taken = world.queue_type[env, building, index]
    for k in range(QUEUE_SIZE - 1):
        move = k >= index
        world.queue_type[env[move], building[move], k] = world.queue_type[env[move],
                                                                          building[move], k + 1]
    world.queue_count[env, building] -= 1
    world.queue_loops[env[index == 0], building[index == 0]] = 0.0
    return taken


def cancel_queued(game, env, building, index):
    """Cancel item `index` [K] of each structure's queue, refunding it in full; [K] codes."""
    world = game.world
    env, building, index = (np.asarray(a, np.int64) for a in (env, building, index))
    error = np.zeros(len(env), np.int64)
    for now in _in_turn(env):
        e, b, i = env[now], building[now], index[now]
        ok = world.alive[e, b] & (i >= 0) & (i < world.queue_count[e, b])
        error[now] = np.where(ok, OK, NO_CANCEL)
        e, b, i = e[ok], b[ok], i[ok]
        player = world.owner[e, b].astype(np.int64)
        taken = _drop_from_queue(world, e, b, i)
        _spend(world, e, player, taken, fraction=-1.0)
        np.subtract.at(world.food_queued, (e, player - 1), TABLE.supply[taken])
    return error


def cancel_last(game, env, building):
    """Cancel the last unit of each structure's queue (Cancel_Last); [K] codes."""
    world = game.world
    env, building = np.asarray(env, np.int64), np.asarray(building, np.int64)
    return cancel_queued(game, env, building, world.queue_count[env, building] - 1)


def set_rally(game, env, building, point, target=None):
    """Set rally points: a world `point` [K, 2], or a unit `target` [K] (-1: the point)."""
    world = game.world
    env, building = np.asarray(env, np.int64), np.asarray(building, np.int64)
    target = np.full(len(env), -1) if target is None else np.asarray(target, np.int64)
    on_unit = target >= 0
    world.rally_kind[env, building] = np.where(on_unit, Rally.UNIT, Rally.POINT)
    world.rally_point[env, building] = point
    world.rally_target[env, building] = target
    world.rally_target_tag[env, building] = world.tag[env, np.maximum(target, 0)]
    return np.zeros(len(env), np.int64)


def _train(game, running):
    world = game.world
    producing = (world.alive & (world.queue_count > 0) & (world.build_progress >= 1.0)
                 & running[:, None])
    env, slot = nonzero(producing)
    if env.size == 0:
        return
    world.queue_loops[env, slot] += 1.0
    head = world.queue_type[env, slot, 0]
    done = world.queue_loops[env, slot] >= TABLE.build_loops[head]
    env, slot, head = env[done], slot[done], head[done]
    if env.size == 0:
        return
    player = world.owner[env, slot]
    _drop_from_queue(world, env, slot, np.zeros(len(env), np.int64))
    np.subtract.at(world.food_queued, (env, player.astype(np.int64) - 1), TABLE.supply[head])
    # The new unit appears at the structure's edge, on the side of the rally point.
    has_rally = world.rally_kind[env, slot] != Rally.NONE
    rally_unit = (world.rally_kind[env, slot] == Rally.UNIT) & world.valid(
        env, world.rally_target[env, slot], world.rally_target_tag[env, slot])
    goal = np.where(rally_unit[:, None],
                    world.pos[env, np.maximum(world.rally_target[env, slot], 0)],
                    world.rally_point[env, slot])
    delta = goal - world.pos[env, slot]
    length = np.hypot(delta[:, 0], delta[:, 1])
    direction = np.where((has_rally & (length > 1e-9))[:, None],
                         delta / np.maximum(length, 1e-9)[:, None], np.array([0.0, -1.0]))
    reach = world.radius[env, slot] + TABLE.radius[head]
    new = world.spawn(env, head, player, world.pos[env, slot] + direction * reach[:, None])
    world.trained[env, new] = True
    # Rally: workers gather a resource they are rallied to; other rallies are a move.
    rally_target = np.where(rally_unit, world.rally_target[env, slot], -1)
    harvest = rally_unit & TABLE.is_worker[head] & (
        economy.harvest_error(world, env, new, rally_target) == OK)
    economy.gather(game, env[harvest], new[harvest], rally_target[harvest])
    move = has_rally & ~harvest & ((world.rally_kind[env, slot] == Rally.POINT) | rally_unit)
    world.give_orders(env[move], new[move], Order.MOVE, goal[move])


# ------------------------------------------------------------------------ construction
def build(game, env, worker, unit_type, point, target=None, queued=None):
    """Order workers [K] to build `unit_type` [K] at world `point` [K, 2] (a refinery: on the
    geyser `target` [K]). Returns [K] ActionResult codes; 0: the order was given."""
    world = game.world
    env, worker, unit_type = (np.asarray(a, np.int64) for a in (env, worker, unit_type))
    point = np.asarray(point, np.float64).reshape(len(env), 2)
    target = np.full(len(env), -1) if target is None else np.asarray(target, np.int64)
    player = world.owner[env, worker].astype(np.int64)
    maker = world.unit_type[env, worker]
    error = np.where(~world.alive[env, worker] | ~CAN_MAKE[maker, unit_type], NOT_SUPPORTED, OK)
    error = np.where((error == OK) & ~has_finished(world, env, player,
                                                   _requirement(maker, unit_type)),
                     BUILD_TECH_REQUIREMENT, error)
    error = np.where(error == OK, _cost_error(world, env, player, unit_type), error)
    on_geyser = TABLE.needs_geyser[unit_type]
    centre = np.where(on_geyser[:, None], world.pos[env, np.maximum(target, 0)],
                      placement.snap(unit_type, point))
    where = np.where(on_geyser, placement.refinery_error(world, env, target),
                     game.ground.placement_error(env, unit_type, centre))
    error = np.where(error == OK, where, error)
    ok = error == OK
    world.give_orders(env[ok], worker[ok], Order.BUILD, centre[ok],
                      target=np.where(on_geyser, target, -1)[ok],
                      target_tag=world.tag[env, np.maximum(target, 0)][ok],
                      build_type=unit_type[ok],
                      queued=None if queued is None else np.asarray(queued)[ok])
    return error


def cancel_construction(game, env, structure):
    """Cancel structures under construction: removed, 75% of their cost given back; [K] codes."""
    world = game.world
    env, structure = np.asarray(env, np.int64), np.asarray(structure, np.int64)
    ok = (world.alive[env, structure] & TABLE.is_structure[world.unit_type[env, structure]]
          & (world.build_progress[env, structure] < 1.0))
    e, s = env[ok], structure[ok]
    _spend(world, e, world.owner[e, s].astype(np.int64), world.unit_type[e, s],
           fraction=-CANCEL_REFUND)
    world.remove(e, s)
    game.ground.dirty[e] = True
    return np.where(ok, OK, NO_CANCEL)


def _construct(game, running, intents, kind):
    world = game.world
    units = world.max_units
    # Builders and their structures by flat index env * U + slot (faster than by (env, slot));
    # the builders' current orders' entries at flat index builder * MAX_ORDERS.
    builder = ((kind == Order.BUILD) & running[:, None]).ravel().nonzero()[0]
    if builder.size == 0:
        return
    env = builder // units
    order = builder * MAX_ORDERS
    phase = world.phase.ravel()[builder]
    target = world.order_target.ravel()[order]
    built = world.flat_index(env, np.maximum(target, 0))  # the target (slot 0 if none)
    valid = world.valid(env, target, world.order_target_tag.ravel()[order])
    pos = world.pos.reshape(-1, 2)
    site = np.where(valid[:, None], pos[built], world.order_point.reshape(-1, 2)[order])
    owner = world.owner.ravel()
    structure = valid & (owner[built] == owner[builder]) & (
        TABLE.is_structure[world.unit_type.ravel()[built]])
    # A structure to build up that is gone, or already finished, ends the order.
    gone = ((phase == Phase.CONSTRUCTING) & ~structure) | (
        structure & (world.build_progress.ravel()[built] >= 1.0))
    gone |= (target >= 0) & ~valid
    if any_true(gone):  # (a few loops)
        world.finish_order(*np.divmod(builder[gone], units))
        keep = ~gone
        builder, env, order, phase, target, built, site, structure = (
            a[keep] for a in (builder, env, order, phase, target, built, site, structure))
    phase[phase == Phase.NONE] = Phase.TO_SITE
    intents.stand.ravel()[builder[phase == Phase.CONSTRUCTING]] = True
    intents.passes_through.ravel()[builder] = True
    walking = (phase == Phase.TO_SITE).nonzero()[0]
    if walking.size:  # (a few loops: builders mostly stand at their structures)
        build_type = np.where(structure, world.unit_type.ravel()[built],
                              world.order_build_type.ravel()[order])
        reach = TABLE.radius[build_type] + world.radius.ravel()[builder]
        delta = pos[builder] - site
        distance = np.hypot(delta[:, 0], delta[:, 1])
        there = distance <= reach + economy.ARRIVED
        go = walking[~there[walking]]
        direction = np.where((distance[go] > 1e-9)[:, None],
                             delta[go] / np.maximum(distance[go], 1e-9)[:, None],
                             np.array([0.0, -1.0]))
        intents.move_units(builder[go], site[go] + direction * reach[go, None])
        arrived = walking[there[walking]]
        resume = arrived[structure[arrived]]
        phase[resume] = Phase.CONSTRUCTING
        new = arrived[~structure[arrived]]
        if new.size:
            placed = _place(game, env[new], builder[new] % units, build_type[new], site[new],
                            target[new])
            phase[new[placed]] = Phase.CONSTRUCTING
            failed = new[~placed]
            world.finish_order(*np.divmod(builder[failed], units))
            phase[failed] = Phase.NONE
    world.phase.ravel()[builder] = phase
    _progress(game, builder[phase == Phase.CONSTRUCTING])


def _place(game, env, worker, unit_type, centre, geyser):
    """Workers at their sites place their structures (checked again, paid now); [K] bool."""
    world = game.world
    placed = np.zeros(len(env), bool)
    for now in _in_turn(env):
        e, w, t, c, g = env[now], worker[now], unit_type[now], centre[now], geyser[now]
        player = world.owner[e, w].astype(np.int64)
        on_geyser = TABLE.needs_geyser[t]
        error = _cost_error(world, e, player, t)
        where = np.where(on_geyser, placement.refinery_error(world, e, g),
                         game.ground.placement_error(e, t, c))
        ok = (error == OK) & (where == OK) & _has_free_slot(world, e)
        placed[now] = ok
        e, w, t, c, g, player = (a[ok] for a in (e, w, t, c, g, player))
        if e.size == 0:
            continue
        _spend(world, e, player, t)
        new = world.spawn(e, t, player, c)
        world.build_progress[e, new] = 0.0
        world.health[e, new] = TABLE.max_health[t] * START_HEALTH
        refinery = on_geyser[ok]
        world.geyser[e[refinery], new[refinery]] = g[refinery]
        world.geyser_tag[e[refinery], new[refinery]] = world.tag[e[refinery], g[refinery]]
        world.vespene_left[e[refinery], new[refinery]] = world.vespene_left[e[refinery],
                                                                            g[refinery]]
        world.order_target[e, w, 0] = new
        world.order_target_tag[e, w, 0] = world.tag[e, new]
        # Units standing on the new footprint are pushed out of it (they wake up).
        delta = world.pos[e] - c[:, None, :]
        inside = np.hypot(delta[..., 0], delta[..., 1]) < (TABLE.radius[t][:, None]
                                                          + world.radius[e])
        world.awake[e] |= inside & world.alive[e]
        game.ground.refresh(e)
    return placed


def _progress(game, builder):
    """Builders (flat indices) raise their structures' progress and hit points; finished
    structures free them."""
    world = game.world
    if builder.size == 0:
        return
    env, worker = np.divmod(builder, world.max_units)
    structure = world.order_target.ravel()[builder * MAX_ORDERS]
    built = world.flat_index(env, structure % world.max_units)  # (-1 wraps as [env, -1])
    unit_type = world.unit_type.ravel()[built]
    step = 1.0 / TABLE.build_loops[unit_type]
    progress = np.minimum(world.build_progress.ravel()[built] + step, 1.0)
    world.build_progress.ravel()[built] = progress
    health = world.health.ravel()
    health[built] = np.minimum(
        health[built] + TABLE.max_health[unit_type] * (1 - START_HEALTH) * step,
        TABLE.max_health[unit_type])
    done = progress >= 1.0
    if not any_true(done):  # (most loops)
        return
    e, w, s = env[done], worker[done], structure[done]
    world.finish_order(e, w)
    refinery = TABLE.needs_geyser[world.unit_type[e, s]] & (world.order_count[e, w] == 0)
    economy.gather(game, e[refinery], w[refinery], s[refinery])


# ------------------------------------------------------------------------------- tick
def tick(game, running, intents, kind):
    """One game loop of training and construction (`kind`: [E, U] current order kinds); on maps
    without workers or structures only the deaths are counted."""
    _losses(game)
    if not any_true(game.world.alive & game.world.per_type(TAKES_PART)):
        return
    _train(game, running)
    _construct(game, running, intents, kind)
    _score(game, running)


def _losses(game):
    """Structures and resources that died free their ground; queues of dead structures give
    their supply back; each side scores the value of the enemies that died."""
    world = game.world
    if not any_true(world.died):
        return
    env, slot = nonzero(world.died)
    dead_type = world.died_type[env, slot]
    game.ground.dirty[env[placement.HAS_FOOTPRINT[dead_type]]] = True
    owner = world.died_owner[env, slot].astype(np.int64)
    queue_count = world.queue_count[env, slot]
    for k in range(queue_count.max(initial=0)):
        queued = queue_count > k
        np.subtract.at(world.food_queued, (env[queued], owner[queued] - 1),
                       TABLE.supply[world.queue_type[env[queued], slot[queued], k]])
    world.queue_count[env, slot] = 0
    enemy = owner > 0
    killer = 2 - owner[enemy]  # the other player's index
    column = np.where(TABLE.is_structure[dead_type[enemy]], int(SC.killed_value_structures),
                      int(SC.killed_value_units))
    np.add.at(world.score_cumulative, (env[enemy], killer, column), VALUE[dead_type[enemy]])


# The idle-time columns of score_cumulative and the worker table, as plain values for the compiled
# loop.
IDLE_WORKER_TIME, IDLE_PRODUCTION_TIME = int(SC.idle_worker_time), int(SC.idle_production_time)
IS_WORKER = TABLE.is_worker


def _score(game, running):
    """Every idle worker and idle production structure of a player adds a game loop to the
    player's idle times."""
    world = game.world
    _count_idle(world.max_units, running, world.alive.ravel(), world.unit_type.ravel(),
                world.owner.ravel(), world.order_count.ravel(), world.queue_count.ravel(),
                world.build_progress.ravel(), world.score_cumulative)


@numba.njit(cache=True)
def _count_idle(max_units, running, alive, unit_type, owner, order_count, queue_count,
                build_progress, score):
    """`_score` on flat arrays (env * U + slot), into score [E, players, score entries]."""
    for i in range(alive.size):
        env = i // max_units
        if not (alive[i] and running[env]) or owner[i] == NEUTRAL:
            continue
        if IS_WORKER[unit_type[i]] and order_count[i] == 0:
            score[env, owner[i] - 1, IDLE_WORKER_TIME] += 1
        elif (IS_PRODUCER[unit_type[i]] and queue_count[i] == 0
              and build_progress[i] >= 1.0):
            score[env, owner[i] - 1, IDLE_PRODUCTION_TIME] += 1
