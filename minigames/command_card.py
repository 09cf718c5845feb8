"""The commands of workers and structures: pysc2 function calls -> `economy` and `production`.

Each handler picks the selected own units that offer the function (the map's command cards) and
calls the same functions a scripted opponent uses; what the game would refuse comes back as
pysc2 ActionResult codes for `action_result`. Who takes a command (readings of the game's
"smart casting" where it is not documented):

* Harvest_Gather (screen): every selected worker, on the resource under the point.
* Harvest_Return: every selected worker that carries something.
* Build_<structure> (screen): the selected worker nearest the point; a Refinery on the geyser
  under the point.
* Train_<unit>: the selected finished structure with the shortest queue (the game trains one unit
  per command, at the least busy structure).
* Rally_Units / Rally_Workers (screen or minimap): every selected structure that has it; on the
  screen, a unit under the point becomes the rally target.
* Cancel: every selected structure under construction. Cancel_Last: the last unit of the selected
  structure with the longest queue. build_queue(i): unit i of the selected structure's queue.
* Smart (right click), on top of moving and attacking: a worker on a mineral field or its
  refinery gathers, on its town hall while carrying returns the cargo, on its unfinished structure
  resumes building it; a structure with a rally point sets it.
"""
import numpy as np
from pysc2.lib import actions

from minigames import economy, production
from minigames.units import TABLE
from minigames.world import Order, nonzero

F = actions.FUNCTIONS
GATHER, RETURN = F.Harvest_Gather_screen.id, F.Harvest_Return_quick.id
CANCEL, CANCEL_LAST = F.Cancel_quick.id, F.Cancel_Last_quick.id
RALLY_FUNCTIONS = (F.Rally_Units_screen.id, F.Rally_Units_minimap.id,
                   F.Rally_Workers_screen.id, F.Rally_Workers_minimap.id)
HANDLED = np.zeros(len(F), bool)  # the functions this module carries out
HANDLED[[GATHER, RETURN, CANCEL, CANCEL_LAST, *RALLY_FUNCTIONS,
         *production.TRAIN_FUNCTIONS, *production.BUILD_FUNCTIONS]] = True
HAS_RALLY = TABLE.functions[:, list(RALLY_FUNCTIONS)].any(axis=1)
# Every pysc2 function -> its general form (Rally_Building_screen -> Rally_Units_screen, ...).
GENERAL = np.arange(len(F))
for _function in F:
    if _function.general_id:
        GENERAL[_function.id] = next(
            (g.id for g in actions.ABILITY_IDS[_function.general_id]
             if g.function_type is _function.function_type), _function.id)


def carried_out(interface, player, rows, function_ids, values, point, under):
    """Carry out the commands of rows [R] (`point` [R, 2] world, `under` [R] slot of the unit
    under a screen point, -1 where none or the point is not on the screen).

    Returns ([R] bool: some unit took the command, [R] ActionResult code of a refused one)."""
    taken = np.zeros(len(rows), bool)
    error = np.zeros(len(rows), np.int64)
    # One call per handler for all its functions (every Build_*, every Train_*, ...): each game
    # gives one command, and a game's command touches that game alone, so the order in which the
    # games' commands are carried out changes nothing.
    handler_of = _HANDLER_INDEX[function_ids]
    for handler in np.unique(handler_of).tolist():
        r = np.flatnonzero(handler_of == handler)
        takers = _takers(interface, player, rows[r], function_ids[r])
        queued = values[r, actions.TYPES.queued.id, 0] == 1
        taken[r], error[r] = _HANDLERS[handler](
            interface.game, rows[r], takers, point[r], under[r], queued, function_ids[r])
    return taken, error


def _takers(interface, player, rows, function_ids):
    """[R, U] the selected own units of rows that offer their row's function: finished units with
    it on their command card; for Cancel, structures under construction; for Cancel_Last,
    structures with units in their queue (the cancel buttons are not on the cards of the unit
    data). (The rows given share one handler: all cancels or none.)"""
    world = interface.game.world
    own = world.selected[rows, player - 1] & world.alive[rows] & (world.owner[rows] == player)
    finished = world.build_progress[rows] >= 1.0
    if function_ids[0] == CANCEL:
        return own & ~finished & TABLE.is_structure[world.unit_type[rows]]
    if function_ids[0] == CANCEL_LAST:
        return own & finished & (world.queue_count[rows] > 0)
    return own & finished & interface.functions[world.unit_type[rows], function_ids[:, None]]


def smart(game, env, slot, target, point, queued):
    """Smart by units [K] on `target` [K] (-1: ground) at world `point` [K, 2], where it means
    more than a move or an attack; returns [K] bool: handled here."""
    world = game.world
    unit_type = world.unit_type[env, slot]
    handled = np.zeros(len(env), bool)
    concerned = np.flatnonzero(TABLE.is_worker[unit_type] | HAS_RALLY[unit_type])
    if concerned.size == 0:  # an army: Smart is a move or an attack
        return handled
    handled[concerned] = _smart(game, env[concerned], slot[concerned], target[concerned],
                                point[concerned], queued[concerned])
    return handled


def _smart(game, env, slot, target, point, queued):
    world = game.world
    unit_type = world.unit_type[env, slot]
    safe = np.maximum(target, 0)
    on_unit = target >= 0
    own_target = on_unit & (world.owner[env, safe] == world.owner[env, slot])
    worker = TABLE.is_worker[unit_type]
    harvest = worker & on_unit & (economy.harvest_error(world, env, slot, target) == 0)
    drop_off = (worker & own_target & TABLE.is_townhall[world.unit_type[env, safe]]
                & (world.build_progress[env, safe] >= 1.0) & economy.carries(world)[env, slot])
    resume = (worker & own_target & TABLE.is_structure[world.unit_type[env, safe]]
              & (world.build_progress[env, safe] < 1.0))
    rally = HAS_RALLY[unit_type] & TABLE.is_structure[unit_type]
    economy.gather(game, env[harvest], slot[harvest], target[harvest], queued[harvest])
    economy.return_cargo(game, env[drop_off], slot[drop_off], queued[drop_off])
    world.give_orders(env[resume], slot[resume], Order.BUILD, world.pos[env[resume], safe[resume]],
                      target=target[resume], target_tag=world.tag[env[resume], safe[resume]],
                      build_type=world.unit_type[env[resume], safe[resume]],
                      queued=queued[resume])
    production.set_rally(game, env[rally], slot[rally], point[rally],
                         np.where(target == slot, -1, target)[rally])
    return harvest | drop_off | resume | rally


def cancel_queued(game, player, rows, index):
    """build_queue(index): cancel unit `index` [R] of the one selected structure's queue."""
    world = game.world
    selected = world.selected[rows, player - 1] & world.alive[rows] & (world.owner[rows]
                                                                      == player)
    r, slot = _one_per_row(selected & (world.queue_count[rows] > 0),
                           np.zeros(selected.shape))
    errors = production.cancel_queued(game, rows[r], slot, index[r])
    return _outcome(r, errors, len(rows))


def _outcome(r, errors, rows):
    """Per row: taken if any of its units' errors [K] (rows' indices r [K]) is OK; else the first
    error."""
    taken = np.zeros(rows, bool)
    np.logical_or.at(taken, r, errors == 0)
    error = np.zeros(rows, np.int64)
    refused = np.flatnonzero(errors != 0)[::-1]  # the first error of a row is written last
    error[r[refused]] = errors[refused]
    return taken, np.where(taken, 0, error)


def _one_per_row(takers, key):
    """(row index, slot) of the taker of lowest `key` [R, U] in each row that has takers."""
    r = np.flatnonzero(takers.any(axis=1))
    slot = np.where(takers, key, np.inf).argmin(axis=1)[r]
    return r, slot


def _gather(game, rows, takers, point, under, queued, function_ids):
    r, slot = nonzero(takers)
    errors = economy.gather(game, rows[r], slot, under[r], queued[r])
    return _outcome(r, errors, len(rows))


def _return(game, rows, takers, point, under, queued, function_ids):
    r, slot = nonzero(takers & economy.carries(game.world)[rows])
    errors = economy.return_cargo(game, rows[r], slot, queued[r])
    return _outcome(r, errors, len(rows))


def _build(game, rows, takers, point, under, queued, function_ids):
    world = game.world
    delta = world.pos[rows] - point[:, None, :]
    r, slot = _one_per_row(takers, np.hypot(delta[..., 0], delta[..., 1]))
    errors = production.build(game, rows[r], slot, _MADE[function_ids[r]], point[r],
                              target=under[r], queued=queued[r])
    return _outcome(r, errors, len(rows))


def _train(game, rows, takers, point, under, queued, function_ids):
    world = game.world
    key = world.queue_count[rows] * world.max_units + np.arange(world.max_units)
    r, slot = _one_per_row(takers, key)
    errors = production.train(game, rows[r], slot, _MADE[function_ids[r]])
    return _outcome(r, errors, len(rows))


def _rally(game, rows, takers, point, under, queued, function_ids):
    r, slot = nonzero(takers)
    target = under[r]  # (-1 on the minimap: a rally there names no unit)
    errors = production.set_rally(game, rows[r], slot, point[r], np.where(target == slot, -1,
                                                                         target))
    return _outcome(r, errors, len(rows))


def _cancel(game, rows, takers, point, under, queued, function_ids):
    r, slot = nonzero(takers)
    errors = production.cancel_construction(game, rows[r], slot)
    return _outcome(r, errors, len(rows))


def _cancel_last(game, rows, takers, point, under, queued, function_ids):
    world = game.world
    r, slot = _one_per_row(takers, -world.queue_count[rows] * world.max_units
                           + np.arange(world.max_units))
    errors = production.cancel_last(game, rows[r], slot)
    return _outcome(r, errors, len(rows))


# The handlers, and each handled function's index among them.
_HANDLERS = (_gather, _return, _cancel_last, _cancel, _build, _train, _rally)
_HANDLER_INDEX = np.full(len(F), -1)
for _handler, _functions in zip(_HANDLERS, (
        [GATHER], [RETURN], [CANCEL_LAST], [CANCEL], production.BUILD_FUNCTIONS,
        production.TRAIN_FUNCTIONS, RALLY_FUNCTIONS)):
    _HANDLER_INDEX[list(_functions)] = _HANDLERS.index(_handler)
# Train_* and Build_* -> the unit type they make.
_MADE = np.zeros(len(F), np.int64)
for _function, _unit_type in production.MAKES.items():
    _MADE[_function] = _unit_type
