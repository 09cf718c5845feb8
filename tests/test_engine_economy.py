"""The economy's rules: mining times, income, saturation, gas, returning cargo, mined-out fields."""
import math

import numpy as np
from pysc2.lib import actions, features, units

from minigames import economy, movement
from minigames.world import Order, Phase
from tests.engine_helpers import action, empty_game, pixel_of, run, select

F = actions.FUNCTIONS
SC = features.ScoreCumulative
SCV, COMMAND_CENTER = units.Terran.SCV, units.Terran.CommandCenter
REFINERY = units.Terran.Refinery
FIELD, GEYSER = units.Neutral.MineralField, units.Neutral.VespeneGeyser
SCV_SPEED = 2.8125 / 16  # world units per game loop
HALL = (29.5, 28.5)  # where CollectMineralsAndGas's Command Center stands
NEAR_FIELD = (24.0, 29.5)  # its nearest mineral field


def base(fields=(NEAR_FIELD,), workers=1, geysers=()):
    """An empty CollectMineralsAndGas game with a Command Center, fields and SCVs beside it."""
    game = empty_game("CollectMineralsAndGas", max_units=48)
    world = game.world
    hall = world.spawn([0], COMMAND_CENTER, 1, np.array([HALL]))[0]
    field = world.spawn(np.zeros(len(fields), int), FIELD, 0,
                        np.array(fields, float).reshape(-1, 2))
    geyser = world.spawn(np.zeros(len(geysers), int), GEYSER, 0,
                         np.array(geysers, float).reshape(-1, 2))
    scv = world.spawn(np.zeros(workers, int), SCV, 1,
                      np.array([HALL]) + np.array([[-3.2, 0.0]]) + np.arange(workers)[:, None]
                      * np.array([[0.0, 0.8]]))
    game.ground.refresh([0])
    return game, hall, field, geyser, scv


def walk(field=NEAR_FIELD):
    """World units an SCV walks from the field's edge to the hall's edge (discs touching)."""
    return math.dist(field, HALL) - (1.125 + 0.375) - (2.75 + 0.375)


def leg_loops(distance):
    """Loops an SCV takes to walk `distance` from rest to rest: each loop its step grows by the
    acceleration, up to its speed, and never exceeds sqrt(2 * a * distance left) (it brakes)."""
    a, v, loops = movement.ACCELERATION[SCV], 0.0, 0
    while True:
        loops += 1
        v = min(SCV_SPEED, v + a, math.sqrt(2 * a * distance))
        if distance <= v:
            return loops
        distance -= v


def trip_loops(field=NEAR_FIELD):
    """Loops of one trip by the engine's rules: 45 loops mining (44.6 rounded up to whole loops),
    8 holding the cargo, and the walk both ways between the field's edge and the hall's edge."""
    return (math.ceil(economy.MINING_LOOPS) + int(economy.PAUSE_LOOPS)
            + 2 * leg_loops(walk(field)))


def collected_after(game, loops):
    run(game, loops)
    return game.world.score_cumulative[0, 0, SC.collected_minerals]


def test_one_scv_earns_what_the_mining_times_say():
    game, hall, field, _, scv = base()
    economy.gather(game, [0], scv, field)
    start = collected_after(game, 200)  # reach the steady cycle
    trips = 30
    earned = collected_after(game, trips * trip_loops()) - start
    assert earned == trips * economy.MINERALS_PER_TRIP  # one trip per trip_loops() exactly
    # Per minute of Faster game time, within 4% of the continuous times (2.786 s mining, 0.5 s
    # pause, each walk speeding up at 2.5 units/s^2 and braking: 2 * sqrt(d / a), as the walk is
    # too short to reach full speed): whole game loops cost the difference.
    assert walk() < SCV_SPEED ** 2 / movement.ACCELERATION[SCV]
    ideal = 5 * 1344 / (2.786 * 16 + 0.5 * 16
                        + 2 * 2 * math.sqrt(walk() / movement.ACCELERATION[SCV]))
    per_minute = earned / (trips * trip_loops()) * 1344
    assert abs(per_minute - ideal) / ideal < 0.04
    assert game.world.minerals_left[0, field[0]] == economy.TABLE.minerals_contained[FIELD] - \
        earned - start


def test_a_second_scv_on_a_near_field_less_than_doubles_the_income():
    incomes = []
    for workers in (1, 2, 3):
        game, _, field, _, scv = base(workers=workers)
        economy.gather(game, np.zeros(workers, int), scv, np.repeat(field, workers))
        start = collected_after(game, 300)
        incomes.append(collected_after(game, 45 * 60) - start)
    one, two, three = incomes
    assert trip_loops() < 2 * math.ceil(economy.MINING_LOOPS)  # near: two SCVs must queue
    assert one < two < 2 * one
    # The field is busy 45 loops per trip, so no number of SCVs earns more than 5 per 45 loops.
    assert two <= 60 * 5 and three <= 60 * 5 and three >= two


def test_a_waiting_scv_moves_on_to_a_free_field_nearby():
    second = (24.0, 27.5)
    game, _, field, _, scv = base(fields=(NEAR_FIELD, second), workers=2)
    economy.gather(game, [0, 0], scv, [field[0], field[0]])
    run(game, 60)
    world = game.world
    targets = sorted(world.order_target[0, scv, 0])
    assert targets == sorted(field)  # one SCV per field
    assert set(world.phase[0, scv]) <= {Phase.MINING, Phase.PAUSE, Phase.TO_DROP_OFF}


def test_gas_needs_a_finished_refinery_and_saturates_at_four_per_refinery_visit():
    geyser_at = (26.5, 34.5)
    game, _, _, geyser, scv = base(fields=(), workers=4, geysers=(geyser_at,))
    world = game.world
    assert (economy.gather(game, [0], scv[:1], geyser) == economy.MUST_BUILD_REFINERY_FIRST).all()
    refinery = world.spawn([0], REFINERY, 1, np.array([geyser_at]))[0]
    world.geyser[0, refinery] = geyser[0]
    world.geyser_tag[0, refinery] = world.tag[0, geyser[0]]
    world.vespene_left[0, refinery] = world.vespene_left[0, geyser[0]] = 2000.0
    world.build_progress[0, refinery] = 0.5
    assert (economy.gather(game, [0], scv[:1], [refinery]) == economy.UNDER_CONSTRUCTION).all()
    world.build_progress[0, refinery] = 1.0
    assert (economy.gather(game, np.zeros(4, int), scv, np.full(4, refinery)) == 0).all()
    run(game, 400)
    start = world.score_cumulative[0, 0, SC.collected_vespene]
    run(game, 34 * 40)
    gained = world.score_cumulative[0, 0, SC.collected_vespene] - start
    # The refinery is occupied 33.6 loops (34 whole loops) per 4 gas: four SCVs saturate it.
    assert gained == 40 * economy.GAS_PER_TRIP
    assert world.vespene_left[0, geyser[0]] == world.vespene_left[0, refinery] < 2000
    assert world.vespene[0, 0] == world.score_cumulative[0, 0, SC.collected_vespene]


def test_return_cargo_drops_it_and_goes_back_to_the_field():
    game, hall, field, _, scv = base()
    world = game.world
    economy.gather(game, [0], scv, field)
    run(game, 120)  # mined once, walking back or mining again
    world.carry_minerals[0, scv[0]] = 5.0
    select(game, 0, scv)
    before = world.minerals[0, 0]
    game.apply(*action(F.Harvest_Return_quick.id, queued=0))
    assert world.order_kind[0, scv[0], 0] == Order.RETURN
    run(game, 60)
    assert world.minerals[0, 0] == before + 5
    assert world.order_kind[0, scv[0], 0] == Order.GATHER
    assert world.order_target[0, scv[0], 0] == field[0]


def test_smart_on_a_field_gathers_and_on_the_town_hall_returns():
    game, hall, field, _, scv = base()
    world = game.world
    select(game, 0, scv)
    game.apply(*action(F.Smart_screen.id, screen=pixel_of(game, NEAR_FIELD), queued=0))
    assert world.order_kind[0, scv[0], 0] == Order.GATHER
    world.carry_minerals[0, scv[0]] = 5.0
    game.apply(*action(F.Smart_screen.id, screen=pixel_of(game, HALL), queued=0))
    assert world.order_kind[0, scv[0], 0] == Order.RETURN


def test_a_mined_out_field_disappears_and_its_miner_takes_the_next():
    game, _, field, _, scv = base(fields=(NEAR_FIELD, (23.0, 26.5)))
    world = game.world
    world.minerals_left[0, field[0]] = 7.0
    buildable = game.ground.buildable[0].sum()
    economy.gather(game, [0], scv, field[:1])
    run(game, 400)
    assert not world.alive[0, field[0]]
    assert game.ground.buildable[0].sum() == buildable + 2  # its 2 x 1 footprint is free
    assert world.order_kind[0, scv[0], 0] == Order.GATHER
    assert world.order_target[0, scv[0], 0] == field[1]
    assert world.score_cumulative[0, 0, SC.collected_minerals] >= 7.0 + 5.0


def test_gathering_workers_are_not_idle_and_select_idle_worker_picks_the_rest():
    game, _, field, _, scv = base(workers=3)
    economy.gather(game, [0], scv[:1], field)
    batch = game.observe()
    assert batch["player"][0, features.Player.idle_worker_count] == 2
    game.apply(*action(F.select_idle_worker.id, select_worker=2))  # select_all
    assert game.world.selected[0, 0, scv].tolist() == [False, True, True]
    game.apply(*action(F.Harvest_Gather_screen.id, screen=pixel_of(game, NEAR_FIELD), queued=0))
    assert not game.interface.available(1)[0, F.select_idle_worker.id]
    assert game.observe()["player"][0, features.Player.idle_worker_count] == 0


def test_harvest_errors_are_reported_in_action_result():
    game, hall, field, _, scv = base()
    select(game, 0, scv)
    game.apply(*action(F.Harvest_Gather_screen.id, screen=pixel_of(game, (36.0, 22.0)), queued=0))
    run(game, 1)  # the next observation reports it
    batch = game.observe()
    assert batch["action_result"][0, :batch["action_result_count"][0]].tolist() == [
        economy.MUST_TARGET_RESOURCES]
    assert batch["last_actions_count"][0] == 0
    assert not game.interface.available(1)[0, F.Harvest_Return_quick.id]  # nothing to return


def test_one_scv_on_a_standard_patch_earns_what_the_real_game_measured():
    """sc2-planner (`src/game_logic/income.ts`) measured 45 minerals per game minute (960 loops)
    for one SCV on a close patch and 39 on a far one. A standard base leaves 3 cells between the
    town hall's footprint and the fields'; close: straight across, far: one row further."""
    for field, measured in (((24.0, 28.5), 45.0), ((23.0, 30.5), 39.0)):
        game = empty_game("CollectMineralsAndGas", max_units=48)
        world = game.world
        world.spawn([0], COMMAND_CENTER, 1, np.array([[30.5, 28.5]]))
        resource = world.spawn([0], FIELD, 0, np.array([field]))
        scv = world.spawn([0], SCV, 1, np.array([[26.0, 25.0]]))
        economy.gather(game, [0], scv, resource)
        start = collected_after(game, 300)
        per_minute = (collected_after(game, 6 * 960) - start) / 6  # the map ends at 6720 loops
        assert abs(per_minute - measured) / measured < 0.05, (field, per_minute)
