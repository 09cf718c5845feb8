"""Production's rules: supply, training queues, costs and refunds, rally, construction, placement,
requirements, and what the observations show of them."""
import numpy as np
import pytest
from pysc2.lib import actions, features, units
from s2clientprotocol import error_pb2

from minigames import production
from minigames.world import Order, Phase
from tests.engine_helpers import action, empty_game, of_type, pixel_of, run, select

F = actions.FUNCTIONS
SC = features.ScoreCumulative
PLAYER = features.Player
SCV, MARINE = units.Terran.SCV, units.Terran.Marine
COMMAND_CENTER, SUPPLY_DEPOT = units.Terran.CommandCenter, units.Terran.SupplyDepot
BARRACKS, REFINERY = units.Terran.Barracks, units.Terran.Refinery
FIELD, GEYSER = units.Neutral.MineralField, units.Neutral.VespeneGeyser
HALL = (29.5, 28.5)
FIELD_AT = (24.0, 29.5)
GEYSER_AT = (26.5, 34.5)


def base(minerals=1000.0, scvs=1, **view):
    """An empty CollectMineralsAndGas game (screen 64): a Command Center, one field, one geyser,
    SCVs beside the hall, and `minerals`."""
    game = empty_game("CollectMineralsAndGas", max_units=64, screen=64, minimap=64, **view)
    world = game.world
    hall = world.spawn([0], COMMAND_CENTER, 1, np.array([HALL]))[0]
    field = world.spawn([0], FIELD, 0, np.array([FIELD_AT]))[0]
    geyser = world.spawn([0], GEYSER, 0, np.array([GEYSER_AT]))[0]
    scv = world.spawn(np.zeros(scvs, int), SCV, 1,
                      np.array([[34.0, 24.0 + i] for i in range(scvs)]))
    world.minerals[0, 0] = minerals
    game.ground.refresh([0])
    return game, hall, field, geyser, scv


def results(game):
    """The ActionResult codes the observation after the next game loop reports."""
    run(game, 1)
    batch = game.observe()
    return batch["action_result"][0, :batch["action_result_count"][0]].tolist()


def player(game):
    return game.observe()["player"][0]


def test_training_costs_when_queued_and_the_queue_holds_five():
    game, hall, *_ = base(minerals=300.0)
    world = game.world
    world.spawn([0], SUPPLY_DEPOT, 1, np.array([[36.0, 33.0]]))  # food cap 23
    select(game, 0, [hall])
    for _ in range(7):
        game.apply(*action(F.Train_SCV_quick.id, queued=0))
    # 300 minerals buy 6 SCVs but the queue holds 5; then the queue is full.
    assert results(game) == [error_pb2.QueueIsFull, error_pb2.QueueIsFull]
    assert world.queue_count[0, hall] == 5 and world.minerals[0, 0] == 50.0
    assert world.score_cumulative[0, 0, SC.spent_minerals] == 250.0
    assert player(game)[PLAYER.food_used] == 1 + 5  # the queued SCVs count
    batch = game.observe()
    assert batch["build_queue_count"][0] == 5 and batch["production_queue_count"][0] == 5
    assert batch["production_queue"][0, 0, 0] == F.Train_SCV_quick.ability_id
    assert batch["build_queue"][0, 0, features.UnitLayer.unit_type] == SCV
    run(game, 136)  # half of the 272 loops of an SCV
    batch = game.observe()
    assert batch["build_queue"][0, 0, features.UnitLayer.build_progress] == 50
    assert batch["production_queue"][0, 0, 1] == 50
    run(game, 136)
    assert (world.alive[0] & (world.unit_type[0] == SCV)).sum() == 2  # the first one is out
    assert world.queue_count[0, hall] == 4


def test_cancel_refunds_in_full_and_build_queue_cancels_one_item():
    game, hall, *_ = base(minerals=200.0)
    world = game.world
    select(game, 0, [hall])
    for _ in range(3):
        game.apply(*action(F.Train_SCV_quick.id, queued=0))
    assert world.minerals[0, 0] == 50.0
    available = game.interface.available(1)[0]
    assert available[F.Cancel_Last_quick.id] and available[F.build_queue.id]
    game.apply(*action(F.Cancel_Last_quick.id, queued=0))
    assert world.minerals[0, 0] == 100.0 and world.queue_count[0, hall] == 2
    run(game, 100)
    game.apply(*action(F.build_queue.id, build_queue_id=0))  # the one in production
    assert world.minerals[0, 0] == 150.0 and world.queue_count[0, hall] == 1
    assert world.queue_loops[0, hall] == 0  # the next one starts from the beginning
    assert world.score_cumulative[0, 0, SC.spent_minerals] == 50.0
    assert world.food_queued[0, 0] == 1.0


def test_not_enough_minerals_and_supply_capped():
    game, hall, *_ = base(minerals=40.0)
    world = game.world
    select(game, 0, [hall])
    game.apply(*action(F.Train_SCV_quick.id, queued=0))
    assert results(game) == [error_pb2.NotEnoughMinerals]
    world.minerals[0, 0] = 1000.0
    world.spawn(np.zeros(14, int), SCV, 1, np.full((14, 2), 34.0))  # 15 SCVs: food 15/15
    assert player(game)[PLAYER.food_used] == 15 and player(game)[PLAYER.food_cap] == 15
    game.apply(*action(F.Train_SCV_quick.id, queued=0))
    assert results(game) == [error_pb2.NotEnoughFood]
    assert world.queue_count[0, hall] == 0 and world.minerals[0, 0] == 1000.0


def test_rally_sends_new_scvs_to_mine_and_new_units_to_the_point():
    game, hall, field, *_ = base()
    world = game.world
    select(game, 0, [hall])
    game.apply(*action(F.Rally_Workers_screen.id, screen=pixel_of(game, FIELD_AT), queued=0))
    game.apply(*action(F.Train_SCV_quick.id, queued=0))
    run(game, 273)
    new = np.flatnonzero(world.alive[0] & (world.unit_type[0] == SCV) & world.trained[0]
                         | (world.alive[0] & (world.order_kind[0, :, 0] == Order.GATHER)))
    assert len(new) == 1 and world.order_target[0, new[0], 0] == field
    # It appeared on the side of the field (left of the hall).
    assert world.pos[0, new[0], 0] < HALL[0] - 2.5
    point = (35.0, 33.0)
    game.apply(*action(F.Rally_Workers_minimap.id, minimap=(35, 31), queued=0))
    game.apply(*action(F.Train_SCV_quick.id, queued=0))
    run(game, 273)
    moving = np.flatnonzero(world.alive[0] & (world.order_kind[0, :, 0] == Order.MOVE))
    assert len(moving) == 1
    assert np.allclose(world.order_point[0, moving[0], 0], point, atol=1.0)


def test_a_supply_depot_is_paid_when_placed_and_raises_the_cap_when_done():
    game, hall, _, _, scv = base(minerals=150.0)
    world = game.world
    select(game, 0, scv)
    site = (36.0, 33.0)
    game.apply(*action(F.Build_SupplyDepot_screen.id, screen=pixel_of(game, site), queued=0))
    assert results(game) == [] and world.minerals[0, 0] == 150.0  # not paid yet
    assert world.order_kind[0, scv[0], 0] == Order.BUILD
    run(game, 80)  # the SCV walks there and places it
    depot = of_type(game, SUPPLY_DEPOT)
    assert len(depot) == 1 and np.allclose(world.pos[0, depot[0]], site)
    assert world.minerals[0, 0] == 50.0
    assert world.phase[0, scv[0]] == Phase.CONSTRUCTING
    assert player(game)[PLAYER.food_cap] == 15  # not finished
    # The ground under it is neither buildable nor pathable any more, in the observation too.
    screen = game.observe()["feature_screen"][0]
    x, y = pixel_of(game, site)
    assert screen[features.SCREEN_FEATURES.buildable.index, y, x] == 0
    assert screen[features.SCREEN_FEATURES.pathable.index, y, x] == 0
    progress = world.build_progress[0, depot[0]]
    run(game, 240)
    assert np.isclose(world.build_progress[0, depot[0]], progress + 240 / 480)
    run(game, 480)
    assert world.build_progress[0, depot[0]] == 1.0
    assert world.health[0, depot[0]] == production.TABLE.max_health[SUPPLY_DEPOT]
    assert player(game)[PLAYER.food_cap] == 23
    assert world.order_count[0, scv[0]] == 0  # the SCV is free (idle)


@pytest.mark.parametrize("unit_type,function,site,error", [
    (SUPPLY_DEPOT, F.Build_SupplyDepot_screen, FIELD_AT, error_pb2.CantFindPlacementLocation),
    (SUPPLY_DEPOT, F.Build_SupplyDepot_screen, HALL, error_pb2.CantFindPlacementLocation),
    (SUPPLY_DEPOT, F.Build_SupplyDepot_screen, (42.0, 17.0), error_pb2.CantFindPlacementLocation),
    (COMMAND_CENTER, F.Build_CommandCenter_screen, (31.5, 34.5),
     error_pb2.CantBuildTooCloseToResources),
    (REFINERY, F.Build_Refinery_screen, (36.0, 33.0), error_pb2.CantBuildOnThat),
])
def test_a_bad_building_spot_is_the_games_error(unit_type, function, site, error):
    game, hall, _, _, scv = base()
    select(game, 0, scv)
    game.apply(*action(function.id, screen=pixel_of(game, site), queued=0))
    assert results(game) == [error]
    assert game.world.order_count[0, scv[0]] == 0 and game.world.minerals[0, 0] == 1000.0


def test_a_command_center_away_from_resources_and_a_refinery_on_the_geyser():
    game, hall, _, geyser, scv = base(scvs=2)
    world = game.world
    select(game, 0, scv[:1])
    game.apply(*action(F.Build_CommandCenter_screen.id, screen=pixel_of(game, (38.5, 27.5)),
                       queued=0))
    select(game, 0, scv[1:])
    game.apply(*action(F.Build_Refinery_screen.id, screen=pixel_of(game, GEYSER_AT), queued=0))
    assert results(game) == []
    run(game, 1700)
    refinery = of_type(game, REFINERY)
    assert len(refinery) == 1 and world.geyser[0, refinery[0]] == geyser
    assert world.vespene_left[0, refinery[0]] <= world.vespene_left[0, geyser]
    assert world.order_kind[0, scv[1], 0] == Order.GATHER  # its builder gathers from it
    assert world.vespene[0, 0] > 0
    halls = of_type(game, COMMAND_CENTER)
    assert len(halls) == 2 and (world.build_progress[0, halls] == 1.0).all()
    assert world.minerals[0, 0] == 1000.0 - 400.0 - 75.0
    # A second refinery on the same geyser is refused.
    select(game, 0, scv[:1])
    game.apply(*action(F.Build_Refinery_screen.id, screen=pixel_of(game, GEYSER_AT), queued=0))
    assert results(game) == [error_pb2.CantBuildOnThat]


def test_barracks_need_a_finished_supply_depot_and_train_marines():
    game, hall, _, _, scv = base()
    world = game.world
    select(game, 0, scv)
    assert not game.interface.available(1)[0, F.Build_Barracks_screen.id]
    assert (production.build(game, [0], scv, [BARRACKS], [(38.5, 24.5)])
            == error_pb2.BuildTechRequirementsNotMet).all()
    depot = world.spawn([0], SUPPLY_DEPOT, 1, np.array([[36.0, 33.0]]))[0]
    world.build_progress[0, depot] = 0.5
    assert not game.interface.available(1)[0, F.Build_Barracks_screen.id]
    world.build_progress[0, depot] = 1.0
    assert game.interface.available(1)[0, F.Build_Barracks_screen.id]
    game.apply(*action(F.Build_Barracks_screen.id, screen=pixel_of(game, (38.5, 24.5)),
                       queued=0))
    run(game, 1100)
    barracks = of_type(game, BARRACKS)
    assert world.build_progress[0, barracks[0]] == 1.0
    select(game, 0, barracks)
    assert game.interface.available(1)[0, F.Train_Marine_quick.id]
    game.apply(*action(F.Train_Marine_quick.id, queued=0))
    run(game, 400)
    assert (world.alive[0] & (world.unit_type[0] == MARINE)).sum() == 1
    assert player(game)[PLAYER.army_count] == 1 and player(game)[PLAYER.food_army] == 1


def test_cancelling_a_structure_under_construction_gives_back_three_quarters():
    game, hall, _, _, scv = base(minerals=100.0)
    world = game.world
    select(game, 0, scv)
    game.apply(*action(F.Build_SupplyDepot_screen.id, screen=pixel_of(game, (36.0, 33.0)),
                       queued=0))
    run(game, 100)
    depot = of_type(game, SUPPLY_DEPOT)
    select(game, 0, depot)
    available = game.interface.available(1)[0]
    assert available[F.Cancel_quick.id] and not available[F.Smart_screen.id]
    game.apply(*action(F.Cancel_quick.id, queued=0))
    assert not world.alive[0, depot[0]] and world.minerals[0, 0] == 75.0
    run(game, 2)
    assert world.order_count[0, scv[0]] == 0
    x, y = pixel_of(game, (36.0, 33.0))
    assert game.observe()["feature_screen"][0, features.SCREEN_FEATURES.buildable.index, y, x]


def test_an_scv_that_leaves_stops_the_construction_and_smart_resumes_it():
    game, hall, _, _, scv = base()
    world = game.world
    select(game, 0, scv)
    game.apply(*action(F.Build_SupplyDepot_screen.id, screen=pixel_of(game, (36.0, 33.0)),
                       queued=0))
    run(game, 100)
    depot = of_type(game, SUPPLY_DEPOT)[0]
    game.apply(*action(F.Move_screen.id, screen=pixel_of(game, (40.0, 25.0)), queued=0))
    progress = world.build_progress[0, depot]
    run(game, 50)
    assert world.build_progress[0, depot] == progress
    game.apply(*action(F.Smart_screen.id, screen=pixel_of(game, (36.0, 33.0)), queued=0))
    run(game, 600)
    assert world.build_progress[0, depot] == 1.0


def test_score_and_feature_units_show_the_economy():
    game, hall, field, geyser, scv = base(scvs=3, use_feature_units=True)
    world = game.world
    select(game, 0, [hall])
    game.apply(*action(F.Train_SCV_quick.id, queued=0))
    from minigames import economy
    economy.gather(game, [0, 0], scv[:2], [field, field])
    run(game, 136)
    batch = game.observe()
    fu = batch["feature_units"][0, :batch["feature_units_count"][0]]
    FU = features.FeatureUnit
    hall_row = fu[fu[:, FU.unit_type] == COMMAND_CENTER][0]
    assert hall_row[FU.order_length] == 1 and hall_row[FU.order_progress_0] == 50
    assert hall_row[FU.assigned_harvesters] == 2 and hall_row[FU.ideal_harvesters] == 2
    field_row = fu[fu[:, FU.unit_type] == FIELD][0]
    assert field_row[FU.mineral_contents] == world.minerals_left[0, field]
    assert fu[fu[:, FU.unit_type] == GEYSER][0][FU.vespene_contents] == 2250
    score = batch["score_cumulative"][0]
    assert score[SC.total_value_units] == 3 * 50 and score[SC.total_value_structures] == 400
    assert score[SC.spent_minerals] == 50
    assert score[SC.idle_worker_time] == 136  # the third SCV idled all along
    run(game, 400)
    score = game.observe()["score_cumulative"][0]
    assert score[SC.collected_minerals] == world.score_cumulative[0, 0, SC.collected_minerals] > 0
    assert score[SC.collection_rate_minerals] > 0
    # The hall idled from the loop its SCV came out (loop 272) to loop 536, both counted.
    assert score[SC.idle_production_time] == 536 - 272 + 1


def test_training_stops_at_the_engines_unit_limit_without_a_crash():
    game, hall, *_ = base()
    world = game.world
    free = int((~world.alive[0]).sum())
    world.spawn(np.zeros(free - 2, int), SUPPLY_DEPOT, 1, np.full((free - 2, 2), 40.0))
    select(game, 0, [hall])
    for _ in range(3):
        game.apply(*action(F.Train_SCV_quick.id, queued=0))
    assert results(game) == [production.NO_UNIT_SLOT]
    run(game, 600)
    assert world.alive[0].all() and world.queue_count[0, hall] == 0


def test_a_specific_rally_function_acts_as_its_general_one():
    game, *_ = base()
    barracks = game.world.spawn([0], BARRACKS, 1, np.array([[38.5, 24.5]]))
    select(game, 0, barracks)
    game.apply(*action(F.Rally_Building_screen.id, screen=pixel_of(game, (40.0, 33.0)),
                       queued=0))
    assert game.world.rally_kind[0, barracks[0]] != 0
    assert np.allclose(game.world.rally_point[0, barracks[0]], (40.0, 33.0), atol=0.5)
    run(game, 1)
    assert game.observe()["last_actions"][0, 0] == F.Rally_Building_screen.id


def test_player_two_mines_trains_and_builds_through_the_same_functions():
    from minigames import economy
    game = empty_game("CollectMineralsAndGas", max_units=64)
    world = game.world
    hall = world.spawn([0], COMMAND_CENTER, 2, np.array([HALL]))[0]
    field = world.spawn([0], FIELD, 0, np.array([FIELD_AT]))[0]
    scv = world.spawn([0, 0], SCV, 2, np.array([[34.0, 24.0], [34.0, 25.0]]))
    world.minerals[0] = (0.0, 200.0)
    game.ground.refresh([0])
    assert (economy.gather(game, [0], scv[:1], [field]) == 0).all()
    assert (production.train(game, [0], [hall], [SCV]) == 0).all()
    assert (production.build(game, [0], scv[1:], [SUPPLY_DEPOT], [(36.0, 33.0)]) == 0).all()
    run(game, 600)
    assert world.minerals[0, 0] == 0.0  # player 1 got nothing
    collected = world.score_cumulative[0, 1, SC.collected_minerals]
    assert collected > 0 and world.minerals[0, 1] == 200 - 50 - 100 + collected
    assert len(of_type(game, SCV)) == 3 and (world.owner[0, of_type(game, SCV)] == 2).all()
    depot = of_type(game, SUPPLY_DEPOT)
    assert len(depot) == 1 and world.owner[0, depot[0]] == 2
    used, cap = production.food(world, 2)
    assert used[0] == 3 and cap[0] == 23
