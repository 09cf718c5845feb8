"""Combat rules that can be computed by hand (pysc2_fidelity.md 4.9, engine_data.md 1)."""
import numpy as np
import pytest
from pysc2.lib import actions, units

from minigames.combat import damage_per_attack
from minigames.world import Order
from tests.engine_helpers import action, empty_game, pixel_of, run, select

F = actions.FUNCTIONS
MARINE, ROACH = units.Terran.Marine, units.Zerg.Roach
ZERGLING, BANELING = units.Zerg.Zergling, units.Zerg.Baneling


def hold(world, slot, env=0):
    world.give_orders(np.array([env]), np.array([slot]), Order.HOLD, world.pos[[env], [slot]])


def test_damage_follows_the_unit_table():
    assert damage_per_attack(MARINE, ROACH) == 5.0  # 6 - armor 1
    assert damage_per_attack(MARINE, ZERGLING) == 6.0
    assert damage_per_attack(ROACH, MARINE) == 16.0
    assert damage_per_attack(ZERGLING, MARINE) == 5.0


@pytest.mark.parametrize("marines", [1, 3, 9])
def test_a_roach_dies_after_the_volleys_the_arithmetic_says(marines):
    """145 hit points, armor 1, 6 damage per marine shot: ceil(145 / (5 N)) volleys, one every
    13.77 game loops; the roach (range 4) cannot reach marines holding at range 5."""
    game = empty_game(max_units=16)
    world = game.world
    roach_pos = np.array([32.0, 28.0])
    angle = np.pi + np.linspace(-1.2, 1.2, marines)  # an arc on the roach's left, 4.9 from its edge
    ring = roach_pos + (0.375 + 0.5 + 4.9) * np.stack([np.cos(angle), np.sin(angle)], -1)
    slots = world.spawn(np.zeros(marines, int), MARINE, 1, ring)
    roach = world.spawn([0], ROACH, 2, roach_pos[None])[0]
    select(game, 0, slots)
    game.apply(*action(F.HoldPosition_quick.id, queued=0))
    hold(world, roach)
    world.target[0, slots] = roach  # aim every marine at the roach from the first loop
    world.target_tag[0, slots] = world.tag[0, roach]
    volleys = int(np.ceil(145 / (5 * marines)))
    loops = 0
    while world.alive[0, roach]:
        run(game, 1)
        loops += 1
        assert loops < 2000
    # Volley v (counted from 0) lands at the first loop the weapon is ready: v * 13.77 rounded
    # up to whole loops, from loop 0.
    assert loops == int(np.ceil((volleys - 1) * 13.7734375)) + 1
    assert np.all(world.health[0, slots] == 45.0)  # out of the roach's reach


def test_units_out_of_range_take_no_damage():
    game = empty_game(max_units=8)
    world = game.world
    marine = world.spawn([0], MARINE, 1, np.array([[25.0, 28.0]]))[0]
    far = world.spawn([0], ROACH, 2, np.array([[25.0 + 0.375 + 0.5 + 5.2, 28.0]]))[0]
    select(game, 0, [marine])
    game.apply(*action(F.HoldPosition_quick.id, queued=0))
    hold(world, far)
    run(game, 200)
    assert world.health[0, far] == 145.0 and world.health[0, marine] == 45.0


def test_a_baneling_kills_marines_in_its_radius_and_not_outside():
    """20 + 15 against Light = 35 per marine (45 hit points): two explosions kill marines within
    2.2 of the banelings (to the marine's edge), and leave those further away untouched."""
    game = empty_game(max_units=16)
    world = game.world
    centre = np.array([30.0, 28.0])
    inside = centre + np.array([[0.0, 1.0], [0.0, -1.0], [1.5, 0.0], [0.0, 2.4]])  # edges < 2.2
    outside = centre + np.array([[0.0, 2.7], [-2.7, 0.0]])  # edges 2.325 away
    near = world.spawn(np.zeros(4, int), MARINE, 1, inside)
    far = world.spawn(np.zeros(2, int), MARINE, 1, outside)
    banes = world.spawn([0, 0], BANELING, 2, np.array([centre, centre]))
    world.health[0, banes] = 0.0  # both die now: a dying baneling explodes
    run(game, 1)
    assert not world.alive[0, near].any()
    assert np.all(world.health[0, far] == 45.0) and world.alive[0, far].all()
    assert world.died[0, banes].all() and not world.alive[0, banes].any()


def test_a_baneling_runs_at_a_marine_and_explodes_on_contact():
    game = empty_game(max_units=8)
    world = game.world
    marine = world.spawn([0], MARINE, 1, np.array([[25.0, 28.0]]))[0]
    bane = world.spawn([0], BANELING, 2, np.array([[31.0, 28.0]]))[0]
    select(game, 0, [marine])
    game.apply(*action(F.HoldPosition_quick.id, queued=0))
    world.health[0, marine] = 1000.0  # survives, so the explosion's damage can be read
    run(game, 60)
    assert not world.alive[0, bane]
    assert world.health[0, marine] == 1000.0 - 35.0


def test_attack_on_a_unit_chases_it_and_ends_when_it_dies():
    game = empty_game(max_units=8)
    world = game.world
    marine = world.spawn([0], MARINE, 1, np.array([[25.0, 28.0]]))[0]
    ling = world.spawn([0], ZERGLING, 2, np.array([[40.0, 28.0]]))[0]  # beyond sight
    hold(world, ling)
    world.health[0, ling] = 6.0
    select(game, 0, [marine])
    game.apply(*action(F.Attack_screen.id, screen=pixel_of(game, world.pos[0, ling]), queued=0))
    assert world.order_target[0, marine, 0] == ling
    run(game, 80)
    assert not world.alive[0, ling]
    assert world.order_count[0, marine] == 0
    assert 40.0 - world.pos[0, marine, 0] == pytest.approx(5.0 + 0.75, abs=0.2)  # fired at range


def test_an_idle_pack_fights_together():
    """Shooting one zergling of a pack brings the pack (engine's reading, see combat._alert)."""
    game = empty_game(max_units=8)
    world = game.world
    marine = world.spawn([0], MARINE, 1, np.array([[25.0, 28.0]]))[0]
    pack = world.spawn([0, 0, 0], ZERGLING, 2, np.array([[33.5, 28.0], [35.5, 28.0], [36.5, 29.0]]))
    world.health[0, marine] = 10000.0
    select(game, 0, [marine])
    game.apply(*action(F.Attack_screen.id, screen=pixel_of(game, world.pos[0, pack[0]]),
                       queued=0))
    run(game, 24)
    assert np.all(world.target[0, pack[1:]] == marine)
