"""MoveToBeacon's rules and rendering, checked on the vectorised core (pysc2_fidelity.md 2.6, 4.2)."""
import numpy as np
import pytest
from pysc2.env import sc2_env
from pysc2.lib import actions, features, point

from minigames import geometry
from minigames import move_to_beacon as mtb

FUNCTIONS = actions.FUNCTIONS
SCREEN = features.SCREEN_FEATURES
ARG = mtb.ARG


def make_core(n=1, screen=32, minimap=32, **kwargs):
    return mtb.MoveToBeaconCore(n, (screen, screen), (minimap, minimap),
                                seeds=list(range(n)), **kwargs)


def selected_marine_core(beacon=(40.0, 34.0), **kwargs):
    """One game with the marine selected at (25, 28) and the beacon placed out of its way."""
    core = make_core(**kwargs)
    core.marine[0] = (25.0, 28.0)
    core.beacon[0] = beacon
    core.selected[0] = True
    return core


def pixel_of(core, world_xy):
    """The screen pixel (x, y) holding a world point."""
    return np.floor(core.screen.to_pixels(np.array(world_xy)))


def action(function, **values):
    """One [13, 2] argument row for the core."""
    args = np.zeros((13, 2), np.int64)
    for name, value in values.items():
        args[ARG[name]] = value if np.ndim(value) else (value, 0)
    return np.array([function]), args[None]


@pytest.mark.parametrize("size", [16, 32, 64, 84])
def test_transforms_match_pysc2_features(size):
    aif = sc2_env.AgentInterfaceFormat(
        feature_dimensions=sc2_env.Dimensions(screen=size, minimap=size), use_feature_units=True,
        raw_resolution=size)  # pysc2's minimap transform scales to the raw resolution
    reference = features.Features(aif, map_size=point.Point(64, 64))
    reference._update_camera(point.Point(*mtb.CAMERA_CENTER))
    screen = geometry.LayerTransform.screen((size, size), mtb.CAMERA_CENTER, 24, 64)
    minimap = geometry.LayerTransform.minimap((size, size), (64, 64))
    rng = np.random.default_rng(0)
    for world in rng.uniform(14, 50, size=(50, 2)):
        expected = reference._world_to_feature_screen_px.fwd_pt(point.Point(*world))
        assert tuple(np.floor(screen.to_pixels(world))) == (expected.x, expected.y)
        expected = reference._world_to_minimap_px.fwd_pt(point.Point(*world))
        assert tuple(np.floor(minimap.to_pixels(world))) == (expected.x, expected.y)
    pixel = np.array([5.0, 7.0])
    back = reference._world_to_feature_screen_px.back_pt(point.Point(*pixel))
    assert np.allclose(screen.to_world(pixel), (back.x, back.y))


def test_start_state_follows_the_map():
    core = make_core(n=500)
    x0, y0, x1, y1 = mtb.PLAYABLE
    assert np.all((core.marine >= (x0, y0)) & (core.marine <= (x1, y1)))
    assert not core.selected.any()
    assert np.all(core.game_loop == 0) and np.all(core.score == 0)
    check_beacons(core)


def check_beacons(core):
    x0, y0, x1, y1 = mtb.BEACON_SPAWN
    (hx, hy), hole = mtb.BEACON_SPAWN_HOLE
    b = core.beacon
    assert np.all((b >= (x0, y0)) & (b <= (x1, y1)))
    assert np.all(np.hypot(b[:, 0] - hx, b[:, 1] - hy) >= hole)
    assert np.all(np.hypot(*(b - core.marine).T) >= mtb.BEACON_MIN_DISTANCE)


def test_reaching_the_beacon_scores_and_respawns_it():
    core = make_core(n=200)
    core.marine[:] = core.beacon + (1.2, 0.0)  # inside the 1.25 circle
    core.advance(1, np.full(200, 1920))
    assert np.all(core.score == 1)
    check_beacons(core)
    core.marine[:] = core.beacon + (1.3, 0.0)  # just outside
    core.advance(1, np.full(200, 1920))
    assert np.all(core.score == 1)


def test_marine_speed_and_arrival():
    core = selected_marine_core(beacon=(40.0, 22.0))
    target_pixel = pixel_of(core, (40.0, 28.0))
    core.apply(*action(FUNCTIONS.Move_screen.id, screen=target_pixel, queued=0))
    target = core.order_target[0, 0].copy()
    core.advance(8, np.array([1920]))
    assert np.allclose(core.marine[0], (25.0 + 8 * mtb.MARINE_SPEED, 28.0), atol=0.05)
    core.advance(200, np.array([1920]))
    assert np.allclose(core.marine[0], target) and core.order_count[0] == 0


def test_queued_orders_run_in_turn_and_stop_clears():
    core = selected_marine_core()
    first = pixel_of(core, (30.0, 28.0))
    second = pixel_of(core, (30.0, 22.0))
    core.apply(*action(FUNCTIONS.Move_screen.id, screen=first, queued=0))
    core.apply(*action(FUNCTIONS.Move_screen.id, screen=second, queued=1))
    assert core.order_count[0] == 2
    core.advance(48, np.array([1920]))  # 6.75 units: past the first target, on to the second
    assert core.order_count[0] == 1
    assert core.marine[0, 1] < 28.0
    core.apply(*action(FUNCTIONS.Stop_quick.id, queued=0))
    stopped = core.marine[0].copy()
    core.advance(16, np.array([1920]))
    assert np.array_equal(core.marine[0], stopped) and core.order_count[0] == 0


def test_patrol_goes_back_and_forth():
    core = selected_marine_core()
    end = pixel_of(core, (28.0, 28.0))
    core.apply(*action(FUNCTIONS.Patrol_screen.id, screen=end, queued=0))
    xs = []
    for _ in range(120):
        core.advance(1, np.array([1920]))
        xs.append(core.marine[0, 0])
    assert max(xs) > 27.5 and xs[-1] < max(xs)  # reached the far end and came back
    assert core.order_count[0] == 1


def test_move_minimap_and_targets_are_kept_inside_the_playable_area():
    core = make_core()
    core.selected[0] = True
    core.apply(*action(FUNCTIONS.Move_minimap.id, minimap=(0, 0), queued=0))
    x0, y0, x1, y1 = mtb.PLAYABLE
    r = mtb.MARINE_RADIUS
    assert np.allclose(core.order_target[0, 0], (x0 + r, y1 - r))  # top-left corner of the map


def test_select_point_rect_and_control_groups():
    core = make_core()
    marine_pixel = np.floor(core.screen.to_pixels(core.marine))[0]
    empty_pixel = np.floor(core.screen.to_pixels(core.beacon))[0]
    core.apply(*action(FUNCTIONS.select_point.id, select_point_act=0, screen=marine_pixel))
    assert core.selected[0]
    core.apply(*action(FUNCTIONS.select_control_group.id, control_group_act=1, control_group_id=3))
    core.apply(*action(FUNCTIONS.select_point.id, select_point_act=0, screen=empty_pixel))
    assert not core.selected[0]
    core.apply(*action(FUNCTIONS.select_control_group.id, control_group_act=0, control_group_id=3))
    assert core.selected[0]
    core.apply(*action(FUNCTIONS.select_point.id, select_point_act=1, screen=marine_pixel))
    assert not core.selected[0]  # toggle
    core.apply(*action(FUNCTIONS.select_rect.id, select_add=0, screen=marine_pixel - 2,
                       screen2=marine_pixel + 2))
    assert core.selected[0]
    core.apply(*action(FUNCTIONS.select_rect.id, select_add=1, screen=empty_pixel,
                       screen2=empty_pixel))
    assert core.selected[0]  # add keeps the marine
    batch = core.observe()
    assert batch["control_groups"][0, 3].tolist() == [48, 1]


@pytest.mark.parametrize("size", [16, 32, 64, 84])
def test_rendering_of_marine_and_beacon(size):
    core = make_core(screen=size, minimap=64)
    batch = core.observe()
    screen = batch["feature_screen"][0]
    marine_pixel = np.floor(core.screen.to_pixels(core.marine))[0].astype(int)
    assert screen[SCREEN.player_relative.index, marine_pixel[1], marine_pixel[0]] == 1
    assert screen[SCREEN.unit_type.index, marine_pixel[1], marine_pixel[0]] == 48
    beacon = screen[SCREEN.player_relative.index] == 3
    rows, cols = np.nonzero(beacon)
    centre = core.screen.to_pixels(core.beacon)[0]
    assert abs(cols.mean() + 0.5 - centre[0]) < 0.75 and abs(rows.mean() + 0.5 - centre[1]) < 0.75
    radius = core.screen.radius_pixels(mtb.BEACON_RADIUS)
    assert abs(beacon.sum() - np.pi * radius ** 2) <= 2 * np.pi * radius + 1
    assert np.all(screen[SCREEN.unit_type.index][beacon & (screen[SCREEN.player_id.index] == 16)]
                  == 317)
    # The playable area is pathable; the bottom of the screen (world y < 20) is not.
    assert screen[SCREEN.pathable.index, size // 2, size // 2] == 1
    assert screen[SCREEN.pathable.index, size - 1, size // 2] == 0
    minimap = batch["feature_minimap"][0]
    assert minimap[features.MINIMAP_FEATURES.camera.index].sum() == 24 * 24
    marine_mini = np.floor(core.minimap.to_pixels(core.marine))[0].astype(int)
    assert minimap[features.MINIMAP_FEATURES.player_relative.index,
                   marine_mini[1], marine_mini[0]] == 1


def test_available_actions_follow_selection():
    core = make_core(n=2)
    core.selected[1] = True
    mask = core.available()
    assert np.flatnonzero(mask[0]).tolist() == [0, 1, 2, 3, 4, 7]
    assert np.flatnonzero(mask[1]).tolist() == sorted(mtb.IDLE_FUNCTIONS + mtb.MARINE_FUNCTIONS)


def test_same_seed_same_games():
    a, b = make_core(n=3), make_core(n=3)
    for _ in range(5):
        a.reset([0, 1, 2])
        b.reset([0, 1, 2])
        assert np.array_equal(a.marine, b.marine) and np.array_equal(a.beacon, b.beacon)


@pytest.mark.parametrize("function,kind", [(FUNCTIONS.Attack_screen, mtb.ATTACK),
                                           (FUNCTIONS.Smart_screen, mtb.MOVE),
                                           (FUNCTIONS.Move_screen, mtb.MOVE)])
def test_screen_commands_give_orders_shown_in_feature_units(function, kind):
    core = selected_marine_core(use_feature_units=True)
    target = pixel_of(core, (35.0, 28.0))
    core.apply(*action(function.id, screen=target, queued=0))
    assert core.order_kind[0, 0] == kind
    core.advance(8, np.array([1920]))
    assert core.marine[0, 0] > 25.5
    marine_row = core.observe()["feature_units"][0, 0]
    assert marine_row[features.FeatureUnit.unit_type] == 48
    assert marine_row[features.FeatureUnit.order_length] == 1
    ability = (FUNCTIONS.Attack_Attack_screen if kind == mtb.ATTACK
               else FUNCTIONS.Move_Move_screen).ability_id
    assert marine_row[features.FeatureUnit.order_id_0] == actions.RAW_ABILITY_ID_TO_FUNC_ID[ability]


def test_hold_position_clears_orders_and_commands_need_a_selection():
    core = make_core()
    core.selected[0] = True
    core.apply(*action(FUNCTIONS.Move_screen.id, screen=(2, 2), queued=0))
    core.apply(*action(FUNCTIONS.HoldPosition_quick.id, queued=0))
    assert core.order_count[0] == 0
    core.selected[0] = False
    core.apply(*action(FUNCTIONS.Move_screen.id, screen=(2, 2), queued=0))
    assert core.order_count[0] == 0 and core.last_action[0] == -1
