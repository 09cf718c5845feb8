"""Combat: targets, weapons, damage, explosions and deaths, for all units of all games at once.

Every game loop, in this order:

1. Targets. A unit with an Attack order on a unit aims at it (the order ends when the target is
   gone). Armed units that are idle, attack-moving, patrolling or holding position and have no
   living target acquire the nearest enemy they can reach: within their weapon's range when
   holding position, within their sight otherwise (the real game's scan ranges are not published;
   sight is this engine's reading). Enemies that are armed come first, then the others. An idle
   unit that was hit and has no target aims at its attacker, and an idle unit near an ally that is
   fighting joins it (`_alert`). Units look around every SCAN_EVERY (4) loops. Workers pick no
   targets of their own.
2. Fire. A unit whose target is within its weapon's range, edge to edge (distance between centres
   minus both radii), stands still (`Intents.stand`); if its weapon is ready it fires: the target
   loses max(0.5, damage + bonus against the target's attributes - the target's armor) per
   attack. A weapon that fired is ready again after the weapon's cooldown (13.77 loops for a
   marine): shots fall on loops ceil(k * 13.77) while a marine keeps firing, so the rate is the
   game's on average.
   Damage is dealt at once (no projectile flight). A unit whose target is out of range moves
   towards it (`Intents.move`), unless it holds position.
3. Explosions. A baneling whose target is within its trigger range explodes: it dies and every
   enemy ground unit within its splash radius of the baneling (to the unit's edge) takes the
   explosion's damage (20, +15 against Light). A baneling that dies in any other way explodes too.
4. Deaths: units at 0 hit points or less die (`World.kill`); the map's script counts them.
5. Weapons cool down by one loop.

Only ground weapons are modelled (none of the engine's maps has air units).
"""
import numpy as np

from minigames.units import GROUND, TABLE
from minigames.world import NEUTRAL, Order, any_true, compact, nonzero

ACQUIRES = np.zeros(8, bool)  # orders under which armed units pick their own targets
ACQUIRES[[Order.NONE, Order.ATTACK, Order.PATROL, Order.HOLD]] = True
UNARMED_PENALTY = 1e6  # added to the distance of unarmed enemies when choosing a target
ARMED = (TABLE.weapon_damage[:, GROUND] > 0) | (TABLE.explosion_damage > 0)
FIGHTER = ARMED & ~TABLE.is_worker  # armed units that pick targets of their own
MORTAL = TABLE.max_health > 0  # beacons, shards and resources cannot be killed
EXPLODES = TABLE.explosion_damage > 0
GROUND_RANGE = TABLE.weapon_range[:, GROUND]
HOLD_REACH = np.maximum(GROUND_RANGE, TABLE.explosion_trigger)  # how far a holding unit looks
FIRE_REACH = np.where(EXPLODES, TABLE.explosion_trigger, GROUND_RANGE)  # explodes or fires
# ATTRIBUTE_BITS[type, a]: 1.0 where units of the type have attribute a (units.ATTRIBUTES order).
ATTRIBUTE_BITS = ((TABLE.attributes[:, None] >> np.arange(TABLE.weapon_bonus.shape[2])) & 1
                  ).astype(np.float64)
# An idle unit joins the fight of an ally within this distance (see `_alert`). With it, pysc2's
# RandomAgent scores 1.5 on DefeatRoaches and 27 on DefeatZerglingsAndBanelings (SC2LE: 1 and 23);
# without it, 4.5 and 73, because the enemy waves came one unit at a time (radii of 3 to 8 gave
# the same figures within noise).
ALERT_RADIUS = 5.0
# Units look for targets (and allies in need) on every SCAN_EVERY-th game loop, a quarter of a
# game second: the game's own scan period is not published, and scanning every loop costs the
# engine as much as everything else together.
SCAN_EVERY = 4


def _attribute_bonus(bonus_table, target_type):
    """Sum of the bonuses [K, attributes] that apply to targets of these types [K]."""
    return np.einsum("ka,ka->k", bonus_table, ATTRIBUTE_BITS[target_type])


def damage_per_attack(attacker_type, target_type, slot=GROUND):
    """Damage of one attack after armor: max(0.5, damage + bonus - armor) times the attacks."""
    attacker_type, target_type = np.atleast_1d(attacker_type), np.atleast_1d(target_type)
    bonus = _attribute_bonus(TABLE.weapon_bonus[attacker_type, slot], target_type)
    raw = TABLE.weapon_damage[attacker_type, slot] + bonus - TABLE.armor[target_type]
    return np.maximum(0.5, raw) * TABLE.weapon_attacks[attacker_type, slot]


def explosion_damage(exploder_type, target_type):
    """Explosion damage after armor: max(0.5, damage + bonus - armor); arrays broadcast."""
    exploder_type, target_type = np.broadcast_arrays(exploder_type, target_type)
    shape = exploder_type.shape
    exploder_type, target_type = exploder_type.ravel(), target_type.ravel()
    bonus = _attribute_bonus(TABLE.explosion_bonus[exploder_type], target_type)
    raw = TABLE.explosion_damage[exploder_type] + bonus - TABLE.armor[target_type]
    return np.maximum(0.5, raw).reshape(shape)


# damage_per_attack and explosion_damage between every two types of the unit table, looked up
# every game loop (a gather instead of the bonus arithmetic), as DAMAGE[_INDEX[attacker],
# _INDEX[target]]. Types the table lacks have no statistics at all, like type 0, and share its
# row and column.
_TYPES = np.union1d(np.flatnonzero(TABLE.known), [0])
_INDEX = np.full(TABLE.size, np.searchsorted(_TYPES, 0))
_INDEX[_TYPES] = np.arange(_TYPES.size)
_PAIRS = np.repeat(_TYPES, _TYPES.size), np.tile(_TYPES, _TYPES.size)
DAMAGE = damage_per_attack(*_PAIRS).reshape(_TYPES.size, _TYPES.size)
EXPLOSION_DAMAGE = explosion_damage(*_PAIRS).reshape(_TYPES.size, _TYPES.size)


def tick(game, running, intents):
    world = game.world
    active = world.alive & running[:, None]
    kind = world.current_order()
    _follow_attack_orders(world, active, kind)
    _has_target(world)
    # Only fighters pick targets or join fights (workers do neither): without a scanning
    # fighter (a game of workers), there is nothing to scan for.
    scanning = (active & (world.game_loop % SCAN_EVERY == 0)[:, None]
                & world.per_type(FIGHTER))
    if any_true(scanning):
        sides = Sides(world)
        _acquire(world, sides, scanning, kind)
        _alert(world, sides, scanning, kind)
    _fire(world, active, kind, intents)
    _resolve_deaths(world)
    np.copyto(world.cooldown, np.maximum(world.cooldown - 1.0, -2.0), where=active)


class Side:
    """The units that can fight of one side, gathered per game in slot order: slot [E, K],
    valid [E, K], flat index env * U + slot [E, K] and position [E, K, 2]."""

    def __init__(self, world, mask):
        self.slot, self.valid = compact(mask)
        self.flat = self.slot + np.arange(world.num_envs)[:, None] * world.max_units
        self.position = world.pos.reshape(-1, 2).take(self.flat, axis=0)

    def of(self, array):
        """array [E, U] (contiguous) at the side's units: [E, K]."""
        return array.ravel()[self.flat]


class Sides:
    """The units that can fight (living, on the ground) of each side, player 1 and player 2, in
    the games where both sides have some (`Side`)."""

    def __init__(self, world):
        fighters = world.alive & ~world.per_type(TABLE.is_flying)
        one, two = (fighters & (world.owner == player) for player in (1, 2))
        both = (one.any(axis=1) & two.any(axis=1))[:, None]
        self.one, self.two = Side(world, one & both), Side(world, two & both)


def _squared_distances(row, column):
    """[E, R, C] squared distances between per-game positions row [E, R, 2], column [E, C, 2]."""
    dx = row[:, :, None, 0] - column[:, None, :, 0]
    dy = row[:, :, None, 1] - column[:, None, :, 1]
    return dx * dx + dy * dy


def _nearest(rows, candidates, score, row_slot, column_slot):
    """(env, slot, chosen slot) for each row [E, R] with a candidate [E, R, C]: the candidate of
    lowest score [E, R, C] (the first in slot order among equals)."""
    candidates = candidates & rows[:, :, None]
    choice = np.where(candidates, score, np.inf).argmin(axis=2)
    # The rows with a candidate, from the flat indices of the candidates (cheaper than
    # candidates.any(axis=2)).
    has_candidate = np.zeros(rows.size, bool)
    has_candidate[candidates.ravel().nonzero()[0] // candidates.shape[2]] = True
    env, row = nonzero(has_candidate.reshape(rows.shape))
    return env, row_slot[env, row], column_slot[env, choice[env, row]]


def _follow_attack_orders(world, active, kind):
    """Units with an Attack order on a unit aim at it; the order ends when the target is gone."""
    attacking = active & (kind == Order.ATTACK) & (world.order_target[:, :, 0] >= 0)
    if not any_true(attacking):  # (most loops: a cheaper test than nonzero's)
        return
    env, slot = nonzero(attacking)
    target = world.order_target[env, slot, 0]
    ok = world.valid(env, target, world.order_target_tag[env, slot, 0])
    world.finish_order(env[~ok], slot[~ok])
    world.target[env[ok], slot[ok]] = target[ok]
    world.target_tag[env[ok], slot[ok]] = world.order_target_tag[env[ok], slot[ok], 0]


def _has_target(world):
    """Targets that are gone (dead, or their slot reused) are dropped."""
    aiming = (world.target >= 0).ravel().nonzero()[0]  # flat indices env * U + slot
    if aiming.size == 0:  # (most loops)
        return
    target = world.target.ravel()[aiming]
    target_unit = aiming - aiming % world.max_units + target  # the target's flat index
    ok = world.alive.ravel()[target_unit] & (world.tag.ravel()[target_unit]
                                             == world.target_tag.ravel()[aiming])
    world.target.ravel()[aiming[~ok]] = -1


def _acquire(world, sides, active, kind):
    """Seeking units take the nearest enemy they can reach (armed enemies first)."""
    seeking = (active & (world.target < 0) & world.per_type(FIGHTER) & ACQUIRES[kind])
    # An Attack order on a unit already has its target; only attack-moves acquire.
    seeking &= ~((kind == Order.ATTACK) & (world.order_target[:, :, 0] >= 0))
    reach = np.where(kind == Order.HOLD, world.per_type(HOLD_REACH), world.per_type(TABLE.sight))
    armed = world.per_type(ARMED)
    one_to_two = None  # squared distances [E, side one, side two], computed once for both sides
    for mine, theirs, transpose in ((sides.one, sides.two, False), (sides.two, sides.one, True)):
        rows = mine.of(seeking) & mine.valid
        if not any_true(rows):
            continue
        if one_to_two is None:
            one_to_two = _squared_distances(sides.one.position, sides.two.position)
        # (a - b)^2 == (b - a)^2 exactly in floating point: the transpose is side two's.
        d2 = one_to_two.transpose(0, 2, 1) if transpose else one_to_two
        limit = ((mine.of(reach) + mine.of(world.radius))[:, :, None]
                 + theirs.of(world.radius)[:, None, :])
        penalty = np.where(theirs.of(armed), 0.0, UNARMED_PENALTY)[:, None, :]
        env, slot, target = _nearest(rows, theirs.valid[:, None, :] & (d2 <= limit * limit),
                                     d2 + penalty, mine.slot, theirs.slot)
        world.target[env, slot] = target
        world.target_tag[env, slot] = world.tag[env, target]


def _alert(world, sides, active, kind):
    """Idle armed units without a target join the fight of an ally near them: each takes the
    target of the nearest ally within ALERT_RADIUS (centre to centre) that has one (a reading of
    the game's unpublished "call for help": a pack attacked or attacking fights as a pack)."""
    has_target = world.target >= 0
    idle = active & ~has_target & (kind == Order.NONE) & world.per_type(FIGHTER)
    for side in (sides.one, sides.two):
        rows = side.of(idle) & side.valid
        fighting = side.of(has_target) & side.valid
        # Only the games with both idle and fighting units of the side (index `games`): a game
        # without one or the other has nobody to alert, and fewer games mean smaller arrays.
        games = (rows.any(axis=1) & fighting.any(axis=1)).nonzero()[0]
        if games.size == 0:
            continue
        rows = rows[games]
        # The side's units that are fighting, gathered per game (k: their place in the side's
        # arrays, in slot order).
        k, f_ok = compact(fighting[games])
        f_flat = np.take_along_axis(side.flat[games], k, axis=1)
        d2 = _squared_distances(side.position[games],
                                world.pos.reshape(-1, 2).take(f_flat, axis=0))
        game, slot, helper = _nearest(rows, f_ok[:, None, :] & (d2 <= ALERT_RADIUS ** 2), d2,
                                      side.slot[games], f_flat % world.max_units)
        env = games[game]
        world.target[env, slot] = world.target[env, helper]
        world.target_tag[env, slot] = world.target_tag[env, helper]


def _fire(world, active, kind, intents):
    # Units and their targets by flat index env * U + slot (one index array per gather, which
    # numpy does several times faster than gathers by (env, slot)).
    unit = (active & (world.target >= 0)).ravel().nonzero()[0]
    if unit.size == 0:
        return
    units = world.max_units
    target = unit // units * units + world.target.ravel()[unit]
    unit_type = world.unit_type.ravel()[unit]
    pos, radius = world.pos.reshape(-1, 2), world.radius.ravel()
    target_pos = pos.take(target, axis=0)
    delta = target_pos - pos.take(unit, axis=0)
    edge = np.hypot(delta[:, 0], delta[:, 1]) - radius[unit] - radius[target]  # edge to edge
    exploder = EXPLODES[unit_type]
    in_range = edge <= FIRE_REACH[unit_type]
    facing = delta[in_range]
    world.facing.ravel()[unit[in_range]] = np.arctan2(facing[:, 1], facing[:, 0]) % (2 * np.pi)
    intents.stand.ravel()[unit[in_range]] = True
    chase = ~in_range & (kind.ravel()[unit] != Order.HOLD)
    intents.move_units(unit[chase], target_pos[chase])

    cooldown = world.cooldown.ravel()
    shoot = in_range & ~exploder & (cooldown[unit] <= 0.0)
    shooter, victim = unit[shoot], target[shoot]
    # A weapon that fires as soon as it is ready keeps the fraction of a loop it was ready
    # early (-1 < cooldown <= 0); one that waited starts its cooldown afresh.
    left = cooldown[shooter]
    cooldown[shooter] = (TABLE.weapon_cooldown[unit_type[shoot], GROUND]
                         + np.where(left > -1.0, left, 0.0))
    damage = DAMAGE[_INDEX[unit_type[shoot]], _INDEX[world.unit_type.ravel()[victim]]]
    np.add.at(world.health.ravel(), victim, -damage)
    _retaliate(world, victim, shooter)

    explode = in_range & exploder
    if any_true(explode):
        world.health.ravel()[unit[explode]] = 0.0  # it dies, and explodes as it dies


def _retaliate(world, victim, attacker):
    """Idle victims without a target aim at (one of) their attackers (flat indices)."""
    order_kind = world.order_kind.reshape(-1, world.order_kind.shape[2])[:, 0]
    idle = order_kind[victim] == Order.NONE  # as world.current_order
    idle &= world.target.ravel()[victim] < 0
    idle &= FIGHTER[world.unit_type.ravel()[victim]]
    victim, attacker = victim[idle], attacker[idle]
    world.target.ravel()[victim] = attacker % world.max_units
    world.target_tag.ravel()[victim] = world.tag.ravel()[attacker]


def _resolve_deaths(world):
    """Kill units at 0 hit points; exploders that die explode, which may kill more units."""
    mortal = world.alive & world.per_type(MORTAL)
    dying = mortal & (world.health <= 0)
    if not any_true(dying):
        return
    exploded = np.zeros(world.alive.shape, bool)
    while True:
        boom = dying & world.per_type(EXPLODES) & ~exploded
        if not any_true(boom):
            break
        exploded |= boom
        _explode(world, boom)
        dying = mortal & (world.health <= 0)
    env, slot = nonzero(dying)  # (no explosion since `dying` was taken)
    world.kill(env, slot)


def _explode(world, exploders):
    """Splash damage of each exploding unit on the enemy ground units around it (to their edge)."""
    env, slot = nonzero(exploders)
    # [X, U]: every slot of each exploder's game.
    target = (world.alive & (world.owner != NEUTRAL) & ~world.per_type(TABLE.is_flying))[env]
    delta = world.pos[env, slot][:, None, :] - world.pos[env]
    distance = np.hypot(delta[..., 0], delta[..., 1]) - world.radius[env]
    radius = TABLE.explosion_radius[world.unit_type[env, slot]]
    hit = (target & (distance <= radius[:, None])
           & (world.owner[env] != world.owner[env, slot][:, None]))
    k, victims = nonzero(hit)
    damage = EXPLOSION_DAMAGE[_INDEX[world.unit_type[env[k], slot[k]]],
                              _INDEX[world.unit_type[env[k], victims]]]
    np.add.at(world.health, (env[k], victims), -damage)
