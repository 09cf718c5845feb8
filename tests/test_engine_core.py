"""The engine's core on any map: transforms, orders, movement, selection, drawing, availability."""
import numpy as np
import pytest
from pysc2.env import sc2_env
from pysc2.lib import actions, features, point, units

import minigames
from bench.random_policy import RandomPolicy
from minigames import command_card, geometry
from minigames.world import MAX_ORDERS, Order, points
from tests.engine_helpers import action, empty_game, make_game, pixel_of, run, select

F = actions.FUNCTIONS
SCREEN = features.SCREEN_FEATURES
MARINE = units.Terran.Marine
SPEED = 0.140625  # marine, world units per game loop


def marine_game(pos=(25.0, 28.0), selected=True, **kwargs):
    """An empty MoveToBeacon game with one marine of player 1."""
    game = empty_game(**kwargs)
    slot = game.world.spawn([0], MARINE, 1, np.array([pos]))[0]
    if selected:
        select(game, 0, [slot])
    return game, slot


@pytest.mark.parametrize("size", [16, 32, 64, 84])
def test_transforms_match_pysc2_features(size):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=size, minimap=size), use_feature_units=True,
        raw_resolution=size)  # pysc2's minimap transform scales to the raw resolution
    reference = features.Features(aif, map_size=point.Point(64, 64))
    camera = np.array([33.0, 25.0])
    reference._update_camera(point.Point(*camera))
    screen = geometry.LayerTransform.screen((size, size), 24, 64)
    offset = screen.camera_offset(camera)
    minimap = geometry.LayerTransform.minimap((size, size), (64, 64))
    rng = np.random.default_rng(0)
    for world in rng.uniform(14, 50, size=(50, 2)):
        expected = reference._world_to_feature_screen_px.fwd_pt(point.Point(*world))
        assert tuple(np.floor(screen.to_pixels(world, offset))) == (expected.x, expected.y)
        expected = reference._world_to_minimap_px.fwd_pt(point.Point(*world))
        assert tuple(np.floor(minimap.to_pixels(world))) == (expected.x, expected.y)
    pixel = np.array([5.0, 7.0])
    back = reference._world_to_feature_screen_px.back_pt(point.Point(*pixel))
    assert np.allclose(screen.to_world(pixel, offset), (back.x, back.y))


def test_marine_speed_and_arrival():
    game, slot = marine_game()
    target = pixel_of(game, (35.0, 28.0))
    game.apply(*action(F.Move_screen.id, screen=target, queued=0))
    goal = game.world.order_point[0, slot, 0].copy()
    run(game, 8)
    assert np.allclose(game.world.pos[0, slot], (25.0 + 8 * SPEED, 28.0), atol=0.05)
    run(game, 200)
    assert np.allclose(game.world.pos[0, slot], goal) and game.world.order_count[0, slot] == 0


def test_queued_orders_run_in_turn_and_stop_clears():
    game, slot = marine_game()
    first, second = pixel_of(game, (30.0, 28.0)), pixel_of(game, (30.0, 22.0))
    game.apply(*action(F.Move_screen.id, screen=first, queued=0))
    game.apply(*action(F.Move_screen.id, screen=second, queued=1))
    assert game.world.order_count[0, slot] == 2
    run(game, 48)  # 6.75 units: past the first target, on to the second
    assert game.world.order_count[0, slot] == 1 and game.world.pos[0, slot, 1] < 28.0
    game.apply(*action(F.Stop_quick.id, queued=0))
    stopped = game.world.pos[0, slot].copy()
    run(game, 16)
    assert np.array_equal(game.world.pos[0, slot], stopped)
    assert game.world.order_count[0, slot] == 0


def test_patrol_goes_back_and_forth():
    game, slot = marine_game()
    game.apply(*action(F.Patrol_screen.id, screen=pixel_of(game, (30.0, 28.0)), queued=0))
    xs = []
    for _ in range(80):
        run(game, 1)
        xs.append(game.world.pos[0, slot, 0])
    far = int(np.argmax(xs))
    assert xs[far] > 29.5 and min(xs[far:]) < 25.3  # reached the far end and came back
    assert game.world.order_count[0, slot] == 1


def test_commands_outside_the_playable_area_go_to_its_edge():
    game, slot = marine_game()
    game.apply(*action(F.Move_minimap.id, minimap=(0, 0), queued=0))
    x0, y0, x1, y1 = game.map.playable
    r = game.world.radius[0, slot]
    assert np.allclose(game.world.order_point[0, slot, 0], (x0 + r, y1 - r))  # top-left corner


def test_hold_position_is_an_order_and_commands_need_a_selection():
    game, slot = marine_game()
    game.apply(*action(F.Move_screen.id, screen=(2, 2), queued=0))
    game.apply(*action(F.HoldPosition_quick.id, queued=0))
    assert game.world.order_count[0, slot] == 1
    assert game.world.order_kind[0, slot, 0] == Order.HOLD
    before = game.world.pos[0, slot].copy()
    run(game, 16)
    assert np.array_equal(game.world.pos[0, slot], before)
    select(game, 0, [])
    run(game, 1)
    game.apply(*action(F.Move_screen.id, screen=(2, 2), queued=0))
    assert game.world.order_kind[0, slot, 0] == Order.HOLD  # nobody took the command
    run(game, 1)
    assert game.observe()["last_actions_count"][0] == 0  # and it is not reported


def test_select_point_rect_and_control_groups():
    game, slot = marine_game(selected=False)
    world = game.world
    marine_pixel = pixel_of(game, world.pos[0, slot])
    empty_pixel = pixel_of(game, (40.0, 34.0))
    game.apply(*action(F.select_point.id, select_point_act=0, screen=marine_pixel))
    assert world.selected[0, 0, slot]
    game.apply(*action(F.select_control_group.id, control_group_act=1, control_group_id=3))
    game.apply(*action(F.select_point.id, select_point_act=0, screen=empty_pixel))
    assert not world.selected[0, 0, slot]
    game.apply(*action(F.select_control_group.id, control_group_act=0, control_group_id=3))
    assert world.selected[0, 0, slot]
    game.apply(*action(F.select_point.id, select_point_act=1, screen=marine_pixel))
    assert not world.selected[0, 0, slot]  # toggle
    game.apply(*action(F.select_rect.id, select_add=0, screen=marine_pixel - 2,
                       screen2=marine_pixel + 2))
    assert world.selected[0, 0, slot]
    game.apply(*action(F.select_rect.id, select_add=1, screen=empty_pixel, screen2=empty_pixel))
    assert world.selected[0, 0, slot]  # add keeps the marine
    batch = game.observe()
    assert batch["control_groups"][0, 3].tolist() == [MARINE, 1]


def test_select_rect_prefers_units_and_select_unit_edits_the_panel():
    game = empty_game()
    world = game.world
    slots = world.spawn([0, 0, 0], [MARINE, MARINE, units.Terran.SupplyDepot], 1,
                        np.array([[25.0, 28.0], [27.0, 28.0], [30.0, 28.0]]))
    game.apply(*action(F.select_rect.id, select_add=0, screen=pixel_of(game, (23.0, 31.0)),
                       screen2=pixel_of(game, (33.0, 25.0))))
    assert world.selected[0, 0, slots].tolist() == [True, True, False]
    assert game.observe()["multi_select_count"][0] == 2
    assert F.select_unit.id in np.flatnonzero(game.available()[0])
    game.apply(*action(F.select_unit.id, select_unit_act=1, select_unit_id=0))  # deselect row 0
    assert world.selected[0, 0, slots].tolist() == [False, True, False]


def test_select_army_and_idle_workers():
    game = empty_game()
    world = game.world
    marine, scv_a, scv_b = world.spawn([0, 0, 0], [MARINE, units.Terran.SCV, units.Terran.SCV], 1,
                                       np.array([[25.0, 28.0], [27.0, 28.0], [29.0, 28.0]]))
    available = np.flatnonzero(game.available()[0])
    assert F.select_army.id in available and F.select_idle_worker.id in available
    game.apply(*action(F.select_army.id, select_add=0))
    assert world.selected[0, 0, [marine, scv_a, scv_b]].tolist() == [True, False, False]
    game.apply(*action(F.select_idle_worker.id, select_worker=0))
    first = world.selected[0, 0, [scv_a, scv_b]].tolist()
    game.apply(*action(F.select_idle_worker.id, select_worker=0))
    second = world.selected[0, 0, [scv_a, scv_b]].tolist()
    assert sorted([first, second]) == [[False, True], [True, False]]  # cycles through them
    game.apply(*action(F.select_idle_worker.id, select_worker=2))
    assert world.selected[0, 0, [marine, scv_a, scv_b]].tolist() == [False, True, True]


def test_available_actions_follow_selection():
    game = make_game(n=2)
    marine = (game.world.unit_type[1] == MARINE).argmax()
    select(game, 1, [marine])
    mask = game.available()
    assert np.flatnonzero(mask[0]).tolist() == [0, 1, 2, 3, 4, 7]
    assert np.flatnonzero(mask[1]).tolist() == [0, 1, 2, 3, 4, 7, 12, 13, 274, 331, 332, 333,
                                                334, 451, 452, 453]


def test_units_push_apart_and_a_group_stops_as_a_clump():
    game = empty_game()
    world = game.world
    block = np.array([[x, y] for x in (26.0, 30.0) for y in (24.0, 28.0, 32.0)])
    slots = world.spawn(np.zeros(6, int), MARINE, 1, block)
    select(game, 0, slots)
    # A point inside the group's box: every marine goes to the point itself.
    game.apply(*action(F.Move_screen.id, screen=pixel_of(game, (28.0, 28.0)), queued=0))
    run(game, 200)
    pos = world.pos[0, slots]
    distance = np.hypot(*(pos[:, None] - pos[None, :]).T)
    assert distance[~np.eye(6, dtype=bool)].min() >= 0.7  # no two marines overlap much
    assert np.all(np.hypot(*(pos - (28.0, 28.0)).T) < 2.0)  # all arrived near the point
    assert np.all(world.order_count[0, slots] == 0)  # and stopped


def test_overlapping_units_part_by_half_the_overlap_each():
    # Marines of radius 0.375 half a unit apart overlap by 0.25: after one game loop each has
    # moved 0.125 away from the other, the still one (not awake) pushed by the awake one.
    game = empty_game()
    world = game.world
    awake, still = world.spawn([0, 0], MARINE, 1, np.array([[30.0, 28.0], [30.5, 28.0]]))
    world.awake[0, still] = False
    run(game, 1)
    assert world.pos[0, awake].tolist() == [29.875, 28.0]
    assert world.pos[0, still].tolist() == [30.625, 28.0]
    assert world.awake[0, [awake, still]].all()


def test_a_unit_overlapping_a_structure_is_pushed_out_by_the_whole_overlap():
    game = empty_game()
    world = game.world
    reach = 1.25 + 0.375  # a Supply Depot's radius and a marine's
    depot = world.spawn([0], units.Terran.SupplyDepot, 1, np.array([[30.0, 28.0]]))[0]
    marine = world.spawn([0], MARINE, 1, np.array([[30.0 + reach - 0.25, 28.0]]))[0]
    run(game, 1)
    assert world.pos[0, depot].tolist() == [30.0, 28.0]
    assert world.pos[0, marine].tolist() == [30.0 + reach, 28.0]


def test_a_unit_sees_the_cells_whose_centres_lie_within_its_sight_of_its_cell():
    game = empty_game("FindAndDefeatZerglings")  # a map with fog of war
    game.world.spawn([0], MARINE, 1, np.array([[30.5, 20.5]]))  # in cell (row 43, col 30)
    run(game, 1)
    rows, cols = np.mgrid[:64, :64]
    sight = 9.0  # a marine's
    disc = (rows - 43) ** 2 + (cols - 30) ** 2 <= sight ** 2
    np.testing.assert_array_equal(game.vision.grid[0, 0] == 2, disc)  # 2: visible


def test_a_group_sent_beyond_its_box_keeps_its_formation():
    game = empty_game()
    world = game.world
    slots = world.spawn(np.zeros(3, int), MARINE, 1,
                        np.array([[25.0, 24.0], [25.0, 28.0], [25.0, 32.0]]))
    select(game, 0, slots)
    game.apply(*action(F.Move_screen.id, screen=pixel_of(game, (38.0, 28.0)), queued=0))
    run(game, 200)
    centre = pixel_of(game, (38.0, 28.0))  # the pixel's centre is the group's destination
    target = game.screen.to_world(centre.astype(float), game.screen.camera_offset(
        world.camera[0, 0]))
    assert np.allclose(world.pos[0, slots], target + [[0, -4], [0, 0], [0, 4]], atol=0.01)


@pytest.mark.parametrize("function,kind", [(F.Attack_screen, Order.ATTACK),
                                           (F.Smart_screen, Order.MOVE),
                                           (F.Move_screen, Order.MOVE)])
def test_screen_commands_give_orders_shown_in_feature_units(function, kind):
    game, slot = marine_game(use_feature_units=True)
    game.apply(*action(function.id, screen=pixel_of(game, (35.0, 28.0)), queued=0))
    assert game.world.order_kind[0, slot, 0] == kind
    run(game, 8)
    assert game.world.pos[0, slot, 0] > 25.5
    batch = game.observe()
    row = batch["feature_units"][0, 0]
    fu = features.FeatureUnit
    assert row[fu.unit_type] == MARINE and row[fu.order_length] == 1
    ability = (F.Attack_Attack_screen if kind == Order.ATTACK else F.Move_Move_screen).ability_id
    assert row[fu.order_id_0] == actions.RAW_ABILITY_ID_TO_FUNC_ID[ability]


def test_camera_moves_only_on_maps_that_allow_it():
    game, _ = marine_game()
    before = game.world.camera[0, 0].copy()
    game.apply(*action(F.move_camera.id, minimap=(5, 5)))
    assert np.array_equal(game.world.camera[0, 0], before)  # MoveToBeacon locks the camera
    game.map.camera_locked = False
    game.apply(*action(F.move_camera.id, minimap=(12, 12)))  # world (25, 39): 2 units per pixel
    assert np.allclose(game.world.camera[0, 0], (25.0, 36.0))  # clamped into the playable area


@pytest.mark.parametrize("map_name", ["DefeatZerglingsAndBanelings", "CollectMineralsAndGas"])
def test_queue_entries_past_the_order_count_are_none(map_name):
    """world.current_order reads the queue's first entry: every system that changes orders
    (commands, queued or not, arrivals, harvest cycles, deaths) must leave the entries past
    order_count, and those of empty slots, at Order.NONE."""
    env = minigames.BatchEnv(map_name=map_name, num_envs=4, screen_size=32, minimap_size=32,
                             seed=0)
    policy = RandomPolicy(env, np.random.default_rng(0), pool=100)
    batch = env.reset()
    world = env.core.world
    orders = set()
    for _ in range(100):
        batch, _, _ = env.step(*policy(batch))
        count = np.where(world.alive, world.order_count, 0)
        past_count = np.arange(world.order_kind.shape[2]) >= count[:, :, None]
        assert not world.order_kind[past_count].any()
        orders.update(np.unique(world.order_kind[:, :, 0]).tolist())
    assert len(orders) >= 3  # the random actions gave several kinds of orders


def test_a_full_queue_drops_extra_orders_and_moves_up():
    game, slot = marine_game()
    world = game.world
    for k in range(MAX_ORDERS + 1):
        world.give_orders(np.array([0]), np.array([slot]), Order.MOVE,
                          np.array([[30.0, 20.0 + k]]), queued=True)
    assert world.order_count[0, slot] == MAX_ORDERS
    world.finish_order(np.array([0]), np.array([slot]))
    assert world.order_count[0, slot] == MAX_ORDERS - 1
    assert world.order_kind[0, slot, -1] == Order.NONE
    assert world.order_point[0, slot, 0, 1] == 21.0


def test_points_view_writes_through_and_refuses_copies():
    pos = np.zeros((2, 3, 2))
    points(pos)[[1, 4]] = points(np.array([[1.0, 2.0], [3.0, 4.0]]))
    assert pos[0, 1].tolist() == [1.0, 2.0] and pos[1, 1].tolist() == [3.0, 4.0]
    assert np.count_nonzero(pos) == 4
    with pytest.raises(ValueError, match="contiguous"):
        points(pos[:, :2])


def test_footprints_are_the_pixels_whose_centre_the_disc_holds():
    rng = np.random.default_rng(5)
    centre = rng.uniform(-2.0, 12.0, (300, 2))
    radius = np.concatenate([rng.uniform(0.0, 0.5, 150), rng.uniform(0.5, 3.0, 150)])
    unit, row, col = geometry.footprints(centre, radius, 10, 10)
    drawn = np.zeros((300, 10, 10), bool)
    drawn[unit, row, col] = True
    assert drawn.sum() == len(unit)  # each pixel of a disc once
    cols, rows = np.meshgrid(np.arange(10), np.arange(10))
    pixels = np.stack([cols, rows], axis=-1)[None]  # [1, 10, 10, 2] (x, y)
    expected = geometry.hits_footprint(centre[:, None, None, :], radius[:, None, None], pixels)
    np.testing.assert_array_equal(drawn, expected)
    assert drawn[:150].sum(axis=(1, 2)).max() == 1 and drawn[150:].sum(axis=(1, 2)).max() > 1


def _same(a, b):
    """Nested dicts, lists and arrays of two `get_state`s hold equal values."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return np.array_equal(a, b)


def test_a_batch_of_actions_changes_each_game_as_its_action_alone_would():
    """Interface.apply looks up the clicked units and the commands' points for all games at once,
    and carries out the economy's commands one handler at a time (every Build_* together): each
    game's action must change its game exactly as the same action taken with every other game
    doing nothing. Random available actions on Simple64 (with minerals to spare, so that builds
    and trainings go ahead), compared state by state."""
    n = 16
    batched = minigames.BatchEnv(map_name="Simple64", num_envs=n, screen_size=32,
                                 minimap_size=32, seed=3)
    alone = minigames.BatchEnv(map_name="Simple64", num_envs=n, screen_size=32, minimap_size=32,
                               seed=3)
    policy = RandomPolicy(batched, np.random.default_rng(0))
    batch = batched.reset()
    alone.reset()
    shared = 0  # steps where two or more games' commands share a handler (Build_*, ...)
    for _ in range(100):
        function_ids, arg_indices = policy(batch)
        values = batched.index_to_values(arg_indices)
        batched.core.world.minerals[:] = 10_000
        before = batched.get_state()
        alone.set_state(before)
        batched.core.apply(function_ids, values)
        for e in range(n):
            alone.core.apply(np.where(np.arange(n) == e, function_ids, F.no_op.id), values)
        assert _same(batched.core.get_state(), alone.core.get_state())
        handler = command_card._HANDLER_INDEX[command_card.GENERAL[function_ids]]
        shared += np.bincount(handler[handler >= 0], minlength=1).max() >= 2
        batched.set_state(before)
        batch, _, _ = batched.step(function_ids, arg_indices)
    assert shared >= 20, shared
