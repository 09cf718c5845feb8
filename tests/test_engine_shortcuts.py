"""The engine's shortcuts for speed give what the plain computation gives.

Each test checks one shortcut against a direct computation written here: incremental vision against
vision redrawn from scratch, the units seen against the plain rule, vision drawn when read against
vision drawn every game loop, the unit under a clicked pixel against the drawn footprints, unit
layers drawn over the last ones against layers drawn afresh, spaced random points drawn in blocks
against drawing them one by one, a segment's samples checked at once against checking them one by
one, the store of distance fields at any size, a field's ways down from every cell against the
neighbours compared cell by cell, distance fields searched one way against fields searched both
ways, `world.compact` against the True slots of each row, the town halls' compacted slots kept
while their mask stays equal against compacting afresh, a worker's nearest town hall read from a
table of sole halls against the search, and per-type lookups kept between game loops against
looking them up afresh; and a unit's squeeze past a corner (read from tables) and its step to a
neighbouring cell against the points worked out by hand.
"""
import numpy as np
import pytest
from pysc2.lib import units
from scipy.sparse.csgraph import dijkstra

from bench.random_policy import RandomPolicy
import minigames
from minigames import combat, economy, geometry, movement, observe, pathing, vision
from minigames.units import TABLE
from minigames.world import KeptForLast, compact
from minigames.maps.base import MapScript, far_from
from tests.engine_helpers import empty_game, make_game, run

NEVER = 10 ** 9  # an end loop no test reaches


def random_actions(env, seed, steps):
    """(function ids, values) of random available functions with random arguments for every game
    of a BatchEnv, `steps` times (the engine benchmarks' random player)."""
    policy = RandomPolicy(env, np.random.default_rng(seed), pool=steps)
    for _ in range(steps):
        function_ids, indices = policy({"available_actions": env.core.available()})
        yield function_ids, env.index_to_values(indices)


def test_incremental_vision_equals_vision_redrawn_from_scratch():
    # A game given a saved state redraws every disc after turning all visible cells to seen;
    # the played game redraws only what changed. After every game loop both grids must agree.
    env = minigames.BatchEnv(map_name="FindAndDefeatZerglings", num_envs=4, seed=0)
    played, restored = env.core, make_game("FindAndDefeatZerglings", n=4)
    for step in random_actions(env, seed=0, steps=30):
        played.apply(*step)
        for _ in range(8):
            restored.set_state(played.get_state())
            played.advance(1, np.full(4, NEVER))
            restored.advance(1, np.full(4, NEVER))
            np.testing.assert_array_equal(played.vision.grid, restored.vision.grid)
    grid = played.vision.grid
    assert (grid == vision.SEEN).any() and (grid == vision.VISIBLE).any()


@pytest.mark.parametrize("map_name", ["FindAndDefeatZerglings", "Simple64"])
def test_vision_drawn_when_read_equals_vision_drawn_every_game_loop(map_name):
    # The discs of the visible cells are drawn when the grids are read. A game read after every
    # game loop and the same game read after every eighth must hold the same grids.
    envs = [minigames.BatchEnv(map_name=map_name, num_envs=4, seed=0) for _ in range(2)]
    for env in envs:
        env.reset()
    every_loop, every_step = envs[0].core, envs[1].core
    for step in random_actions(envs[1], seed=1, steps=25):  # the same actions in both
        every_loop.apply(*step)
        every_step.apply(*step)
        for _ in range(8):
            every_loop.advance(1, np.full(4, NEVER))
            drawn = every_loop.vision.grid.copy()  # (reading draws this loop's discs)
        every_step.advance(8, np.full(4, NEVER))
        np.testing.assert_array_equal(every_step.vision.grid, drawn)
    assert (drawn == vision.VISIBLE).any()
    assert (every_step.vision.version > 20).all()  # every game's grids changed many times


def test_units_seen_are_own_neutral_and_others_on_visible_cells():
    # `Vision.sees` looks up only the other players' units in the grids; every unit of every
    # slot must be as the plain rule says, for all games and for some of them.
    env = minigames.BatchEnv(map_name="Simple64", num_envs=4, seed=0)
    game, world = env.core, env.core.world
    # enemy marines in each player 1 base, which it sees
    world.spawn(np.arange(4), [units.Terran.Marine] * 4, 2, world.camera[:, 0] + [3.0, 3.0])
    hidden = seen_enemies = 0
    for step in random_actions(env, seed=3, steps=40):
        game.apply(*step)
        run(game, 8)
        row, col = game.vision.cell_of(world.pos)
        on_visible = game.vision.grid[np.arange(4)[:, None], 0, row, col] == vision.VISIBLE
        expected = world.alive & ((world.owner == 1) | (world.owner == 0) | on_visible)
        np.testing.assert_array_equal(game.vision.sees(1), expected)
        np.testing.assert_array_equal(game.vision.sees(1, [3, 1]), expected[[3, 1]])
        hidden += (world.alive & ~expected).sum()
        seen_enemies += (expected & (world.owner == 2)).sum()
    assert hidden > 0 and seen_enemies > 0, (hidden, seen_enemies)  # both cases were checked


def test_unit_at_a_pixel_is_the_top_unit_of_the_drawn_footprints():
    game = empty_game("DefeatZerglingsAndBanelings", n=3, screen=64)
    rng = np.random.default_rng(3)
    for e in range(3):  # marines and zerglings heaped around the camera's centre
        game.world.spawn(np.full(12, e), [units.Terran.Marine] * 6 + [units.Zerg.Zergling] * 6,
                         [1] * 6 + [2] * 6, game.world.camera[e, 0] + rng.uniform(-1, 1, (12, 2)))
    observer, world, view = game.observers[0], game.world, game.screen
    rows = np.arange(3)
    visible, key = observer.visible_units(rows), observer.draw_priority(rows)
    expected = np.full((3, view.height, view.width), -1)
    best = np.full((3, view.height, view.width), -1)
    covering = np.zeros((3, view.height, view.width), np.int64)
    for e in rows:  # the footprints as drawn, the unit of highest priority on top
        slots = np.flatnonzero(visible[e])
        offset = view.camera_offset(world.camera[e, 0])
        unit, row, col = geometry.footprints(view.to_pixels(world.pos[e, slots], offset),
                                             view.radius_pixels(world.radius[e, slots]),
                                             view.width, view.height)
        for u, r, c in zip(unit, row, col):
            covering[e, r, c] += 1
            if key[e, slots[u]] > best[e, r, c]:
                best[e, r, c], expected[e, r, c] = key[e, slots[u]], slots[u]
    for y in range(view.height):
        for x in range(view.width):
            pixels = np.tile([x, y], (3, 1))
            np.testing.assert_array_equal(observer.unit_at(rows, pixels), expected[:, y, x])
    assert (covering >= 2).sum() > 20  # units overlap: which one is on top matters


@pytest.mark.parametrize("cheating_layers", [False, True])
def test_unit_layers_drawn_over_the_last_ones_equal_layers_drawn_afresh(cheating_layers):
    # The observer clears only the unit pixels of last time that no unit covers now (the others
    # are written over). After every step its layers must equal those of an observer that
    # draws the same game for the first time.
    game = make_game("Simple64", n=4, screen=64, allow_cheating_layers=cheating_layers)
    env = minigames.BatchEnv(map_name="Simple64", num_envs=4, seed=0)
    observer = game.observers[0]
    drawn_before, again, gone = None, 0, 0
    for step in random_actions(env, seed=2, steps=25):
        game.apply(*step)
        run(game, 8)
        batch = observer.observe()
        afresh = observe.Observer(game, 1).observe()
        for name in ("feature_screen", "feature_minimap"):
            np.testing.assert_array_equal(batch[name], afresh[name])
        drawn_now = observer._screen_drawn
        if drawn_before is not None:
            kept = np.isin(drawn_before, drawn_now)
            again, gone = again + kept.sum(), gone + (~kept).sum()
        drawn_before = drawn_now
    assert again > 1000 and gone > 100  # pixels were drawn again and pixels were left uncovered


def one_by_one(rng, rect, count, others, min_distance, spacing):
    """The plain loop `MapScript.spaced_points` must match: draw (x, y), keep it when it is far
    enough from `others` and from the points kept before it."""
    kept = []
    x0, y0, x1, y1 = rect
    while len(kept) < count:
        point = np.array([rng.uniform(x0, x1), rng.uniform(y0, y1)])
        if len(others) and np.min(np.hypot(*(others - point).T)) < min_distance:
            continue
        if not kept or np.min(np.hypot(*(np.array(kept) - point).T)) >= spacing:
            kept.append(point)
    return np.array(kept)


def test_spaced_points_drawn_in_blocks_match_drawing_one_by_one():
    rect = (10.0, 12.0, 54.0, 44.0)
    for seed in range(40):
        others = np.random.default_rng(100 + seed).uniform(10, 50, size=(seed % 4, 2))
        plain, blocked = np.random.default_rng(seed), np.random.default_rng(seed)
        expected = one_by_one(plain, rect, 25, others, 9.0, 5.0)
        points = MapScript.spaced_points(blocked, rect, 25, spacing=5.0,
                                         keep=lambda c: far_from(c, others, 9.0))
        np.testing.assert_array_equal(points, expected)
        assert blocked.random() == plain.random()  # the generator is left where the loop left it


def clear_one_by_one(path, start, goal):
    """The plain loop `Pathing.clear_line` must match for one segment: every sample's cell,
    clipped to the grid, is pathable."""
    delta = goal - start
    samples = int(np.ceil(np.hypot(*delta) / pathing.PATH_SAMPLE)) + 1
    for j in range(samples):
        t = j / max(samples - 1, 1)
        row, col = geometry.cell_of_xy(np.float64(start[0] + delta[0] * t),
                                       np.float64(start[1] + delta[1] * t), path.rows, path.cols)
        if not path.pathable[row, col]:
            return False
    return True


def test_clear_line_equals_checking_each_sample():
    # Samples are clipped to the grid only when some segment's end lies near or past its edges:
    # batches well inside it and batches with ends outside must both match the plain loop.
    rng = np.random.default_rng(5)
    terrain = rng.random((24, 20)) < 0.9
    path = pathing.Pathing(terrain)
    for low, high in ((1.0, 19.0), (-3.0, 27.0), (0.0, 20.0)):
        start = rng.uniform(low, high, size=(300, 2))
        goal = start + rng.normal(0, 3, size=(300, 2)) * (rng.random((300, 1)) < 0.9)
        if low > 0:
            goal = np.clip(goal, low, high)
        if low == 0:  # ends on the grid's edges and cell borders
            start, goal = np.round(start), np.round(goal)
        clear = path.clear_line(start, goal)
        np.testing.assert_array_equal(clear, [clear_one_by_one(path, s, g)
                                              for s, g in zip(start, goal)])
        assert 30 < clear.sum() < 270  # both outcomes are checked


def test_waypoints_do_not_depend_on_the_size_of_the_field_store(monkeypatch):
    terrain = np.ones((20, 30), bool)
    terrain[5:15, 10] = False  # a wall to walk around
    rng = np.random.default_rng(0)
    start = rng.uniform([1, 1], [9, 19], size=(40, 2))
    goal = rng.uniform([11, 1], [29, 19], size=(40, 2))
    expected = pathing.Pathing(terrain).waypoints(start, goal)
    monkeypatch.setattr(pathing, "MAX_FIELDS", 3)  # fewer fields than goals: read in chunks
    small = pathing.Pathing(terrain)
    np.testing.assert_array_equal(small.waypoints(start, goal), expected)
    assert (small._cell_of_field >= 0).sum() == 3


def test_ways_down_a_field_equal_the_nearest_neighbour_worked_out_cell_by_cell():
    terrain = np.ones((12, 16), bool)
    terrain[2:10, 7] = False  # a wall to walk around
    terrain[0, :3] = terrain[11, 13:] = False
    terrain[8:, :4] = False  # a block whose inner cells lie away from open ground
    # pathable cell (5, 14) cut off from the rest
    terrain[4:7, 13] = terrain[4:7, 15] = terrain[4, 14] = terrain[6, 14] = False
    paths = pathing.Pathing(terrain)
    rows, cols = terrain.shape
    for goal in (0 * cols + 5, 6 * cols + 2, 5 * cols + 14):  # (pathable, as waypoints asks)
        field = dijkstra(paths._graph, directed=True, indices=goal)
        ways = paths._ways_down(field)
        for row in range(rows):
            for col in range(cols):
                ahead = [field[min(max(row + dr, 0), rows - 1) * cols
                               + min(max(col + dc, 0), cols - 1)] for dr, dc in pathing.STEPS]
                here = field[row * cols + col]
                expected = (int(np.argmin(ahead)) if min(ahead) < here
                            else pathing.STAY if np.isfinite(here) else pathing.STUCK)
                assert ways[row * cols + col] == expected, (goal, row, col)


def test_a_squeeze_heads_just_inside_its_cell_then_just_inside_the_next():
    # Pathable cells (2, 0), (1, 1), (0, 2) only: the step up and right from (2, 0) passes the
    # corner between two blocked cells, (1, 0) and (2, 1), at world point (1, 1).
    paths = pathing.Pathing(np.eye(3, dtype=bool)[::-1])
    gap = pathing.CORNER_GAP
    start = np.array([[0.5, 0.5], [1 - gap, 1 - gap]])
    goal = np.array([[2.9, 2.1]] * 2)  # in cell (0, 2), behind blocked cell (1, 2) from both
    assert not paths.clear_line(start, goal).any()
    np.testing.assert_allclose(paths.waypoints(start, goal), [[1 - gap, 1 - gap],
                                                              [1 + gap, 1 + gap]])


def test_a_unit_whose_way_is_blocked_heads_for_a_neighbouring_cells_centre():
    terrain = np.ones((20, 30), bool)
    terrain[5:15, 10] = False  # a wall between start and goal
    waypoint = pathing.Pathing(terrain).waypoints(np.array([[3.5, 10.5]]),
                                                  np.array([[20.5, 10.5]]))
    assert waypoint.tolist() in ([[4.5, 11.5]], [[4.5, 9.5]])  # a diagonal step past no corner


def test_distance_fields_searched_one_way_equal_fields_searched_both_ways():
    game = minigames.game.Game("Simple64", 1)
    graph = game.pathing._graph
    assert (graph != graph.T).nnz == 0  # every step is there both ways
    cells = np.flatnonzero(game.pathing.pathable.ravel())[::50]
    entries = game.pathing.field_indices(cells)
    fields = game.pathing._store[entries]
    for cell, field in zip(cells, fields):
        undirected = dijkstra(graph, directed=False, indices=int(cell))
        assert field.tobytes() == undirected.reshape(field.shape).tobytes()


def test_compact_gathers_the_true_slots_of_each_row_in_order():
    rng = np.random.default_rng(0)
    for density in (0.0, 0.02, 0.3, 1.0):
        mask = rng.random((7, 40)) < density
        mask[2] = False  # a row without any
        slots, valid = compact(mask)
        width = max(int(mask.sum(axis=1).max()), 0)
        assert slots.shape == valid.shape == (7, width) and slots.dtype == np.int64
        for row in range(7):
            true_slots = np.flatnonzero(mask[row])
            np.testing.assert_array_equal(slots[row, :true_slots.size], true_slots)
            np.testing.assert_array_equal(slots[row, true_slots.size:], 0)
            np.testing.assert_array_equal(valid[row], np.arange(width) < true_slots.size)


def test_compact_kept_for_the_last_mask_follows_every_change_of_the_mask():
    rng = np.random.default_rng(1)
    masks = [rng.random((5, 30)) < 0.2 for _ in range(3)]
    kept = KeptForLast(compact)
    # equal masks in a row, changed ones, one of another shape, and the first one again
    for mask in [masks[0], masks[0], masks[1], masks[2], masks[2][:, :20], masks[0]]:
        for got, expected in zip(kept(mask.copy()), compact(mask)):
            np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError):  # kept results are shared: nobody may write into them
        kept(masks[0])[0][0, 0] = 1


def test_nearest_town_hall_read_from_the_sole_halls_equals_the_search(monkeypatch):
    # While no player has two town halls in a game, a worker's nearest hall is read from a
    # table kept for the last halls and owners: it must be the hall the distance search finds,
    # after every change of the halls or their owners too.
    env = minigames.BatchEnv(map_name="Simple64", num_envs=3, seed=0)
    world = env.core.world
    workers = np.flatnonzero(world.alive & TABLE.is_worker[world.unit_type])
    halls = world.alive & TABLE.is_townhall[world.unit_type]

    def check(table_used):
        mask = halls & world.alive
        assert (economy._sole_town_halls(mask, world.owner) is not None) == table_used
        kept = economy._nearest_town_hall(world, workers, workers // world.max_units)
        with monkeypatch.context() as search_only:
            search_only.setattr(economy, "_sole_town_halls", lambda mask, owner: None)
            searched = economy._nearest_town_hall(world, workers, workers // world.max_units)
        np.testing.assert_array_equal(kept, searched)
        return kept

    assert (check(table_used=True) >= 0).all()
    second = np.flatnonzero(halls[1] & (world.owner[1] == 2))[0]
    world.owner[1, second] = 1  # player 1 has both halls of game 1
    check(table_used=False)
    world.owner[1, second] = 2
    check(table_used=True)
    world.alive[2, np.flatnonzero(halls[2] & (world.owner[2] == 1))] = False
    assert (check(table_used=True) == -1).sum() == (workers // world.max_units == 2).sum() / 2


def test_per_type_lookups_follow_spawns_and_restored_states():
    # Waves of DefeatZerglingsAndBanelings re-create marines and spawn zerglings and banelings in
    # freed slots, and a restored state brings back the types of its time: after every game loop
    # the kept lookups must equal the tables looked up afresh.
    env = minigames.BatchEnv(map_name="DefeatZerglingsAndBanelings", num_envs=4, seed=0)
    game, world = env.core, env.core.world
    tables = (combat.FIGHTER, combat.MORTAL, movement.SOLID, TABLE.sight)

    def check():
        for table in tables:
            np.testing.assert_array_equal(world.per_type(table), table[world.unit_type])

    saved, first_types = game.get_state(), world.unit_type.copy()
    for step in random_actions(env, seed=1, steps=60):
        game.apply(*step)
        for _ in range(8):
            game.advance(1, np.full(4, NEVER))
            check()
    assert (world.unit_type != first_types).any()  # slots changed type: the check had work
    game.set_state(saved)
    check()
    with pytest.raises(ValueError):  # kept lookups are shared: nobody may write into them
        world.per_type(combat.MORTAL)[0, 0] = False
