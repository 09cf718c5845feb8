"""Combat: targets, weapons, damage, explosions and deaths, for all units of all games at once.

Every game loop, in this order:

1. Weapons cool down by one loop.
2. Targets. A unit with an Attack order on a unit aims at it (the order ends when the target is
   gone). Armed units that are idle, attack-moving, patrolling or holding position and have no
   living target acquire the nearest enemy they can reach: within their weapon's range when
   holding position, within their sight otherwise (the real game's scan ranges are not published;
   sight is this engine's reading). Enemies that are armed come first, then the others. An idle
   unit that was hit and has no target aims at its attacker.
3. Fire. A unit whose target is within its weapon's range, edge to edge (distance between centres
   minus both radii), stands still (`Intents.stand`); if its weapon is ready it fires: the target
   loses max(0.5, damage + bonus against the target's attributes - the target's armor) per
   attack. A weapon fires when its cooldown is below one loop and then cools down for the weapon's
   cooldown (13.77 loops for a marine), keeping the fraction, so the average rate is the game's.
   Damage is dealt at once (no projectile flight). A unit whose target is out of range moves
   towards it (`Intents.move`), unless it holds position.
4. Explosions. A baneling whose target is within its trigger range explodes: it dies and every
   enemy ground unit within its splash radius of the baneling (to the unit's edge) takes the
   explosion's damage (20, +15 against Light). A baneling that dies in any other way explodes too.
5. Deaths: units at 0 hit points or less die (`World.kill`); the map's script counts them.

Only ground weapons are modelled (none of the engine's maps has air units).
"""
import numpy as np

from minigames.units import GROUND, TABLE
from minigames.world import NEUTRAL, Order, compact, gather

ACQUIRES = np.zeros(8, bool)  # orders under which armed units pick their own targets
ACQUIRES[[Order.NONE, Order.ATTACK, Order.PATROL, Order.HOLD]] = True
UNARMED_PENALTY = 1e6  # added to the distance of unarmed enemies when choosing a target


def damage_per_attack(attacker_type, target_type, slot=GROUND):
    """Damage of one attack after armor: max(0.5, damage + bonus - armor) times the attacks."""
    bits = TABLE.attributes[target_type]
    bonus = np.zeros(np.shape(attacker_type))
    for i in range(TABLE.weapon_bonus.shape[2]):
        bonus = bonus + np.where(bits & (1 << i), TABLE.weapon_bonus[attacker_type, slot, i], 0.0)
    raw = TABLE.weapon_damage[attacker_type, slot] + bonus - TABLE.armor[target_type]
    return np.maximum(0.5, raw) * TABLE.weapon_attacks[attacker_type, slot]


def explosion_damage(exploder_type, target_type):
    bits = TABLE.attributes[target_type]
    bonus = np.zeros(np.shape(exploder_type))
    for i in range(TABLE.explosion_bonus.shape[1]):
        bonus = bonus + np.where(bits & (1 << i), TABLE.explosion_bonus[exploder_type, i], 0.0)
    return np.maximum(0.5, TABLE.explosion_damage[exploder_type] + bonus - TABLE.armor[target_type])


def edge_distance(world, env, slot_a, slot_b):
    delta = world.pos[env, slot_a] - world.pos[env, slot_b]
    return (np.hypot(delta[..., 0], delta[..., 1]) - world.radius[env, slot_a]
            - world.radius[env, slot_b])


def tick(game, running, intents):
    world = game.world
    active = world.alive & running[:, None]
    world.cooldown[active] = np.maximum(world.cooldown[active] - 1.0, 0.0)
    kind = world.current_order()
    _follow_attack_orders(world, active, kind)
    _acquire(world, active, kind)
    _fire(world, active, kind, intents)
    _resolve_deaths(world)


def _follow_attack_orders(world, active, kind):
    """Units with an Attack order on a unit aim at it; the order ends when the target is gone."""
    env, slot = np.nonzero(active & (kind == Order.ATTACK) & (world.order_target[:, :, 0] >= 0))
    if env.size == 0:
        return
    target = world.order_target[env, slot, 0]
    ok = world.valid(env, target, world.order_target_tag[env, slot, 0])
    world.finish_order(env[~ok], slot[~ok])
    world.target[env[ok], slot[ok]] = target[ok]
    world.target_tag[env[ok], slot[ok]] = world.order_target_tag[env[ok], slot[ok], 0]


def _has_target(world):
    env, slot = np.nonzero(world.target >= 0)
    ok = world.valid(env, world.target[env, slot], world.target_tag[env, slot])
    world.target[env[~ok], slot[~ok]] = -1
    return world.target >= 0


def _armed(unit_type):
    return (TABLE.weapon_damage[unit_type, GROUND] > 0) | (TABLE.explosion_damage[unit_type] > 0)


def _acquire(world, active, kind):
    has_target = _has_target(world)
    unit_type = world.unit_type
    seeking = (active & ~has_target & _armed(unit_type) & ACQUIRES[kind]
               & ~TABLE.is_worker[unit_type])
    # An Attack order on a unit already has its target; only attack-moves acquire.
    seeking &= ~((kind == Order.ATTACK) & (world.order_target[:, :, 0] >= 0))
    # Only games with units of both sides have anything to acquire.
    both_sides = (world.alive & (world.owner == 1)).any(axis=1) & (
        world.alive & (world.owner == 2)).any(axis=1)
    seeking &= both_sides[:, None]
    if not seeking.any():
        return
    targetable = world.alive & (world.owner != NEUTRAL) & ~TABLE.is_flying[unit_type]
    a_slot, a_ok = compact(seeking)
    t_slot, t_ok = compact(targetable)
    if t_slot.shape[1] == 0:
        return
    a_pos, t_pos = gather(world.pos, a_slot), gather(world.pos, t_slot)
    delta = a_pos[:, :, None, :] - t_pos[:, None, :, :]
    edge = (np.hypot(delta[..., 0], delta[..., 1]) - gather(world.radius, a_slot)[:, :, None]
            - gather(world.radius, t_slot)[:, None, :])
    a_type = gather(unit_type, a_slot)
    holding = gather(kind, a_slot) == Order.HOLD
    reach = np.where(holding, np.maximum(TABLE.weapon_range[a_type, GROUND],
                                         TABLE.explosion_trigger[a_type]), TABLE.sight[a_type])
    enemy = (gather(world.owner, a_slot)[:, :, None] != gather(world.owner, t_slot)[:, None, :])
    candidate = enemy & a_ok[:, :, None] & t_ok[:, None, :] & (edge <= reach[:, :, None])
    penalty = np.where(_armed(gather(unit_type, t_slot)), 0.0, UNARMED_PENALTY)[:, None, :]
    choice = np.where(candidate, edge + penalty, np.inf).argmin(axis=2)  # [E, A]
    found = candidate.any(axis=2)
    env, column = np.nonzero(found)
    slot = a_slot[env, column]
    target = t_slot[env, choice[env, column]]
    world.target[env, slot] = target
    world.target_tag[env, slot] = world.tag[env, target]


def _fire(world, active, kind, intents):
    env, slot = np.nonzero(active & (world.target >= 0))
    if env.size == 0:
        return
    unit_type = world.unit_type[env, slot]
    target = world.target[env, slot]
    edge = edge_distance(world, env, slot, target)
    exploder = TABLE.explosion_damage[unit_type] > 0
    reach = np.where(exploder, TABLE.explosion_trigger[unit_type],
                     TABLE.weapon_range[unit_type, GROUND])
    in_range = edge <= reach
    delta = world.pos[env, target] - world.pos[env, slot]
    world.facing[env[in_range], slot[in_range]] = (
        np.arctan2(delta[in_range, 1], delta[in_range, 0]) % (2 * np.pi))
    intents.stand[env[in_range], slot[in_range]] = True
    chase = ~in_range & (kind[env, slot] != Order.HOLD)
    intents.move(env[chase], slot[chase], world.pos[env[chase], target[chase]])

    shoot = in_range & ~exploder & (world.cooldown[env, slot] < 1.0)
    s_env, s_slot, s_target = env[shoot], slot[shoot], target[shoot]
    world.cooldown[s_env, s_slot] += TABLE.weapon_cooldown[unit_type[shoot], GROUND]
    damage = damage_per_attack(unit_type[shoot], world.unit_type[s_env, s_target])
    np.add.at(world.health, (s_env, s_target), -damage)
    _retaliate(world, s_env, s_target, s_slot)

    explode = in_range & exploder
    if explode.any():
        world.health[env[explode], slot[explode]] = 0.0  # it dies, and explodes as it dies


def _retaliate(world, env, victim, attacker):
    """Idle victims without a target aim at (one of) their attackers."""
    idle = (world.current_order()[env, victim] == Order.NONE) & (world.target[env, victim] < 0)
    idle &= _armed(world.unit_type[env, victim]) & ~TABLE.is_worker[world.unit_type[env, victim]]
    world.target[env[idle], victim[idle]] = attacker[idle]
    world.target_tag[env[idle], victim[idle]] = world.tag[env[idle], attacker[idle]]


def _resolve_deaths(world):
    """Kill units at 0 hit points; exploders that die explode, which may kill more units."""
    mortal = world.alive & (TABLE.max_health[world.unit_type] > 0)  # beacons and shards are not
    exploded = np.zeros_like(world.alive)
    while True:
        dying = mortal & (world.health <= 0)
        boom = dying & (TABLE.explosion_damage[world.unit_type] > 0) & ~exploded
        if not boom.any():
            break
        exploded |= boom
        _explode(world, boom)
    env, slot = np.nonzero(mortal & (world.health <= 0))
    world.kill(env, slot)


def _explode(world, exploders):
    """Splash damage of each exploding unit on the enemy ground units around it."""
    e_slot, e_ok = compact(exploders)
    t_slot, t_ok = compact(world.alive & (world.owner != NEUTRAL)
                           & ~TABLE.is_flying[world.unit_type])
    delta = gather(world.pos, e_slot)[:, :, None, :] - gather(world.pos, t_slot)[:, None, :, :]
    distance = np.hypot(delta[..., 0], delta[..., 1]) - gather(world.radius, t_slot)[:, None, :]
    e_type = gather(world.unit_type, e_slot)
    t_type = gather(world.unit_type, t_slot)
    hit = (e_ok[:, :, None] & t_ok[:, None, :]
           & (gather(world.owner, e_slot)[:, :, None] != gather(world.owner, t_slot)[:, None, :])
           & (distance <= TABLE.explosion_radius[e_type][:, :, None]))
    damage = np.where(hit, explosion_damage(e_type[:, :, None], t_type[:, None, :]), 0.0)
    rows = np.arange(world.num_envs)[:, None]
    np.add.at(world.health, (np.broadcast_to(rows, t_slot.shape), t_slot), -damage.sum(axis=1))
