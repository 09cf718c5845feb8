"""Simple64's decoded terrain agrees with the map's layout: high mains with ramps, bases on ground.

The grids come from `minigames/maps/data/simple64_terrain.json` (written by
tools/decode_simple64.py from the map file); the facts checked here (start locations, resources,
playable area) are the map's `Objects` and `MapInfo`, independent of the terrain members.
"""
import itertools
import json

import numpy as np
import pytest

from minigames.maps import simple64_terrain as simple64
from tools import decode_simple64

WIDTH, HEIGHT = simple64.MAP_SIZE
NEIGHBOURS = [(dy, dx) for dy, dx in itertools.product((-1, 0, 1), repeat=2) if dy or dx]


def cell(x, y):
    """(row, column) of the cell holding world point (x, y); row 0 is the top of the map."""
    return HEIGHT - 1 - int(np.floor(y)), int(np.floor(x))


def seed(x, y):
    grid = np.zeros((HEIGHT, WIDTH), bool)
    grid[cell(x, y)] = True
    return grid


def footprint(x, y, size):
    """Cells under a size[0] x size[1] footprint centred at (x, y)."""
    width, height = size
    return [cell(x0 + 0.5, y0 + 0.5)
            for x0 in np.arange(x - width / 2, x + width / 2)
            for y0 in np.arange(y - height / 2, y + height / 2)]


def ring(cells):
    """Cells 8-adjacent to `cells` and not among them."""
    inside = set(cells)
    return {(r + dy, c + dx) for r, c in cells for dy, dx in NEIGHBOURS} - inside


def resources():
    for base, fields in simple64.MINERAL_FIELDS.items():
        for x, y, _ in fields:
            yield base, footprint(x, y, (2, 1))
        for x, y in simple64.GEYSERS[base]:
            yield base, footprint(x, y, (3, 3))


def test_grids_cover_the_map_and_stay_inside_the_playable_area():
    terrain = simple64.load()
    for grid in (terrain.pathable, terrain.buildable, terrain.height):
        assert grid.shape == (HEIGHT, WIDTH)
    x0, y0, x1, y1 = (int(v) for v in simple64.PLAYABLE)
    playable = np.zeros((HEIGHT, WIDTH), bool)
    playable[HEIGHT - y1:HEIGHT - y0, x0:x1] = True
    assert not (terrain.pathable & ~playable).any()
    assert not (terrain.buildable & ~terrain.pathable).any()
    rows, cols = np.nonzero(terrain.pathable)
    # The lowground reaches the playable area's south and north edges.
    assert (rows.min(), rows.max()) == (HEIGHT - y1, HEIGHT - 1 - y0)
    assert 0 < terrain.pathable.sum() < playable.sum()


def test_start_locations_are_on_high_buildable_ground():
    terrain = simple64.load()
    high = terrain.height[terrain.buildable].max()
    low = terrain.height[terrain.buildable].min()
    assert high > low
    for x, y in simple64.START_LOCATIONS:
        command_centre = footprint(x, y, (5, 5))
        assert all(terrain.buildable[c] for c in command_centre)
        assert all(terrain.height[c] == high for c in command_centre)
    # The other two bases are on the lowground.
    for base in ("top_right", "bottom_left"):
        for x, y in simple64.GEYSERS[base]:
            assert terrain.height[cell(x, y)] == low


def test_resources_stand_on_pathable_ground_next_to_buildable_ground():
    terrain = simple64.load()
    for base, cells in resources():
        assert all(terrain.pathable[c] for c in cells), base
        assert any(terrain.buildable[c] for c in ring(cells)), base
    for x, y in simple64.ROCKS:
        assert all(terrain.buildable[c] for c in footprint(x, y, (2, 2)))


def test_mains_are_the_high_ground_of_their_start_and_resources():
    terrain = simple64.load()
    mains = [simple64.reachable(terrain.buildable, seed(x, y))
             for x, y in simple64.START_LOCATIONS]
    assert not (mains[0] & mains[1]).any()
    high = terrain.height[terrain.buildable].max()
    for main, base in zip(mains, ("top_left_main", "bottom_right_main")):
        assert (terrain.height[main] == high).all()
        for resource_base, cells in resources():
            touches = any(main[c] for c in ring(cells))
            assert touches == (resource_base == base), (base, resource_base)
    assert ((mains[0] | mains[1]) == (terrain.buildable & (terrain.height == high))).all()


def test_flat_ground_changes_height_only_across_ramps():
    """A step between two 8-adjacent flat (buildable) cells never changes the height: the mains
    meet the lowground only through ramp cells (pathable, not buildable)."""
    terrain = simple64.load()
    flat = terrain.buildable
    padded_flat = np.pad(flat, 1)
    padded_height = np.pad(terrain.height, 1)
    for dy, dx in NEIGHBOURS:
        other_flat = padded_flat[1 + dy:1 + dy + HEIGHT, 1 + dx:1 + dx + WIDTH]
        other_height = padded_height[1 + dy:1 + dy + HEIGHT, 1 + dx:1 + dx + WIDTH]
        assert not (flat & other_flat & (terrain.height != other_height)).any(), (dy, dx)


def test_each_main_reaches_the_rest_of_the_map_through_one_ramp():
    terrain = simple64.load()
    ramp = terrain.pathable & ~terrain.buildable
    starts = [seed(x, y) for x, y in simple64.START_LOCATIONS]
    # With the ramps, one start walks to the other.
    assert (simple64.reachable(terrain.pathable, starts[0]) & starts[1]).any()
    # Without them each main is an island: what it reaches is its own flat high ground.
    islands = [simple64.reachable(terrain.pathable & ~ramp, start) for start in starts]
    high = terrain.height[terrain.buildable].max()
    for island in islands:
        assert (terrain.height[island] == high).all()
    # The ramp cells form two ramps, each between one main and the lowground.
    lowground = terrain.buildable & ~islands[0] & ~islands[1]
    touched = []
    for one in simple64.components(ramp):
        near = simple64.neighbours(one) & terrain.buildable
        touched.append((bool((near & islands[0]).any()), bool((near & islands[1]).any()),
                        bool((near & lowground).any())))
    assert sorted(touched) == [(False, True, True), (True, False, True)]


def test_json_names_its_source():
    with open(simple64.DATA_PATH) as f:
        source = json.load(f)["source"]
    assert source["repository"] == decode_simple64.SOURCE_REPOSITORY
    assert source["path"] == "Simple64.SC2Map" and source["bytes"] == 59199
    assert len(source["sha256"]) == 64


def test_components_split_a_mask_into_its_8_connected_groups():
    mask = np.array([[1, 0, 0, 1],
                     [0, 1, 0, 1],
                     [0, 0, 0, 0]], bool)
    groups = simple64.components(mask)
    assert sorted(g.sum() for g in groups) == [2, 2]
    assert (sum(g.astype(int) for g in groups) == mask).all()


def test_reachable_steps_to_the_eight_neighbours_within_the_mask():
    mask = np.array([[1, 0, 0],
                     [0, 1, 0],
                     [0, 0, 0],
                     [1, 1, 1]], bool)
    start = np.zeros_like(mask)
    start[0, 0] = True
    expected = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 0]], bool)
    assert (simple64.reachable(mask, start) == expected).all()


@pytest.mark.parametrize("world, value", [(-200.0, 0), (200.0, 255), (7.5, 132), (10.0, 134),
                                          (12.0, 135), (0.0, 128)])
def test_height_map_encoding(world, value):
    # (h + 200) / 400 * 255, rounded (half to even): 7.5 -> 132.28, 10 -> 133.875,
    # 12 -> 135.15, 0 -> 127.5.
    assert decode_simple64.height_map_value(np.array(world)) == value


def test_reading_a_member_checks_its_magic_and_size():
    header = b"CLIF" + np.array([100, 2, 3, 0, 0, 0, 0], "<u4").tobytes()
    cells = np.arange(6, dtype="<u2").tobytes()
    grid = decode_simple64.read_cells(header + cells, b"CLIF", 2, 3, size_at=8, data_at=32,
                                      dtype="<u2")
    assert grid.tolist() == [[0, 1], [2, 3], [4, 5]]
    with pytest.raises(decode_simple64.DecodeError, match="not a 3 x 2 grid"):
        decode_simple64.read_cells(header + cells, b"CLIF", 3, 2, size_at=8, data_at=32,
                                   dtype="<u2")
    with pytest.raises(decode_simple64.DecodeError, match="shorter"):
        decode_simple64.read_cells(header + cells[:-2], b"CLIF", 2, 3, size_at=8, data_at=32,
                                   dtype="<u2")
