"""MoveToBeacon's rules and drawing (pysc2_fidelity.md 4.2)."""
import numpy as np
import pytest
from pysc2.lib import features

from minigames.maps import move_to_beacon as mtb
from tests.engine_helpers import make_game, pixel_of, run

SCREEN = features.SCREEN_FEATURES


def marine_and_beacon(game):
    world = game.world
    marine = (world.unit_type == mtb.MARINE) & world.alive
    beacon = (world.unit_type == mtb.BEACON) & world.alive
    return world.pos[marine], world.pos[beacon]


def test_start_state_follows_the_map():
    game = make_game(n=200)
    marine, beacon = marine_and_beacon(game)
    x0, y0, x1, y1 = game.map.playable
    assert np.all((marine >= (x0, y0)) & (marine <= (x1, y1)))
    assert not game.world.selected.any()
    assert np.all(game.game_loop == 0) and np.all(game.score == 0)
    bx0, by0, bx1, by1 = mtb.BEACON_SPAWN
    (hx, hy), hole = mtb.BEACON_SPAWN_HOLE
    assert np.all((beacon >= (bx0, by0)) & (beacon <= (bx1, by1)))
    assert np.all(np.hypot(*(beacon - (hx, hy)).T) >= hole)
    assert np.all(np.hypot(*(beacon - marine).T) >= mtb.BEACON_MIN_DISTANCE)


def test_reaching_the_beacon_scores_and_respawns_it():
    game = make_game(n=200)
    world = game.world
    marine = (world.unit_type == mtb.MARINE) & world.alive
    _, beacon = marine_and_beacon(game)
    world.pos[marine] = beacon + (1.2, 0.0)  # inside the 1.25 circle
    run(game, 1)
    assert np.all(game.score == 1)
    marine_pos, new_beacon = marine_and_beacon(game)
    assert np.all(np.hypot(*(new_beacon - marine_pos).T) >= mtb.BEACON_MIN_DISTANCE)
    # Just outside, on the side away from the edge of the playable area.
    world.pos[marine] = new_beacon + np.where(new_beacon[:, :1] < 33.0, 1.3, -1.3) * [1.0, 0.0]
    run(game, 1)
    assert np.all(game.score == 1)


@pytest.mark.parametrize("size", [16, 32, 64, 84])
def test_rendering_of_marine_and_beacon(size):
    game = make_game(screen=size, minimap=64)
    batch = game.observe()
    screen = batch["feature_screen"][0]
    marine, beacon_pos = marine_and_beacon(game)
    x, y = pixel_of(game, marine[0])
    assert screen[SCREEN.player_relative.index, y, x] == 1
    assert screen[SCREEN.unit_type.index, y, x] == mtb.MARINE
    assert screen[SCREEN.unit_hit_points.index, y, x] == 45
    beacon = screen[SCREEN.player_relative.index] == 3
    rows, cols = np.nonzero(beacon)
    offset = game.screen.camera_offset(game.world.camera[0, 0])
    centre = game.screen.to_pixels(beacon_pos[0], offset)
    assert abs(cols.mean() + 0.5 - centre[0]) < 0.75 and abs(rows.mean() + 0.5 - centre[1]) < 0.75
    radius = game.screen.radius_pixels(mtb.BEACON_RADIUS)
    assert abs(beacon.sum() - np.pi * radius ** 2) <= 2 * np.pi * radius + 1
    assert np.all(screen[SCREEN.unit_type.index][beacon & (screen[SCREEN.player_id.index] == 16)]
                  == mtb.BEACON)
    # The playable area is pathable; the bottom of the screen (world y < 20) is not.
    assert screen[SCREEN.pathable.index, size // 2, size // 2] == 1
    assert screen[SCREEN.pathable.index, size - 1, size // 2] == 0
    minimap = batch["feature_minimap"][0]
    assert minimap[features.MINIMAP_FEATURES.camera.index].sum() == 24 * 24
    mx, my = np.floor(game.minimap.to_pixels(marine[0])).astype(int)
    assert minimap[features.MINIMAP_FEATURES.player_relative.index, my, mx] == 1


def test_same_seed_same_games():
    a, b = make_game(n=3), make_game(n=3)
    for _ in range(5):
        a.reset([0, 1, 2])
        b.reset([0, 1, 2])
        assert np.array_equal(a.world.pos, b.world.pos)


def test_the_marine_moves_in_the_state_it_restores():
    game = make_game(n=2)
    state = game.get_state()
    run(game, 5)
    game.reset([0, 1])
    after_reset = game.world.pos.copy()
    game.set_state(state)
    game.reset([0, 1])
    assert np.array_equal(game.world.pos, after_reset)
