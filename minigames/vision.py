"""Vision: what each player sees, on a grid of one cell per world unit (as the game's own grids).

A cell is visible to a player while the centre of the cell is within the sight radius of one of
the player's living units, measured from the cell holding the unit's centre; a cell once visible
stays seen (fogged) afterwards. pysc2's `visibility_map` values follow: 0 hidden, 1 seen, 2 visible.

On maps without fog (every mini-game but FindAndDefeatZerglings) the script reveals the playable
area to the player (VisRevealArea): it is visible for good and the rest of the map is hidden.

Another player's units are seen where their centre's cell is visible; neutral units (resources,
beacons, shards) are always seen (the game shows resources as snapshots from the start).

Cost: a game's vision is redrawn only when one of its seeing units entered another cell, came or
went (a game where none did keeps its grid, which is what redrawing would give), and then by
turning the discs last drawn by the units that changed to seen and drawing every unit's disc
again, never by a pass over the grids. Both are drawn only when the grids are next read
(`grid`, `at_cells`), once for the game loops since then: a game loop's visible discs matter
only as the discs that later turn to seen (each unit's, at every cell it entered, is kept until
then), so the grids read are those of drawing them every game loop.
"""
import numba
import numpy as np

from minigames import geometry
from minigames.units import TABLE
from minigames.world import any_true, points

HIDDEN, SEEN, VISIBLE = 0, 1, 2
STALE = -2  # a `Vision._centre` no unit has: the game's grids are redrawn at the next update


def _disc_spans(radius, row_length):
    """The cells of a disc of `radius` (those whose centres' offsets (dr, dc) from its centre
    cell have dr^2 + dc^2 <= radius^2), in a grid of rows of `row_length` cells, as runs along
    rows: (flat offset of each run's first cell, its length)."""
    reach = int(np.ceil(radius))
    d = np.arange(-reach, reach + 1)
    inside = d[:, None] ** 2 + d[None, :] ** 2 <= radius * radius  # [dr, dc]
    half = inside.sum(axis=1) // 2  # (each row's run is symmetric about dc = 0)
    rows = inside.any(axis=1)
    return d[rows] * row_length - half[rows], 2 * half[rows] + 1


class Vision:
    """Visibility grids [E, 2 players, map height, map width] of one game.

    The grids are the inside of padded ones, with a margin as wide as the longest sight, so a
    unit's disc of sight is written with one flat index per cell and no bounds checks.
    """

    def __init__(self, game):
        self.game = game
        width, height = (int(v) for v in game.map.map_size)
        self.shape = (height, width)
        n = game.num_envs
        self._margin = margin = int(np.ceil(TABLE.sight.max()))
        self._padded = np.zeros((n, 2, height + 2 * margin, width + 2 * margin), np.uint8)
        self._grid = self._padded[:, :, margin:margin + height, margin:margin + width]
        revealed = game.map.region_grid(game.map.playable)
        self._revealed = np.where(revealed, VISIBLE, HIDDEN).astype(np.uint8)
        # Each sight of the unit table as runs of cells in the padded grids (`_disc_spans`):
        # the sights in order, and [sights, most runs] offsets and lengths (length 0: none).
        self._sights = np.unique(TABLE.sight)
        spans = [_disc_spans(radius, self._padded.shape[-1]) for radius in self._sights]
        most = max(len(start) for start, _ in spans)
        self._span_start = np.zeros((len(spans), most), np.int64)
        self._span_length = np.zeros((len(spans), most), np.int64)
        for i, (start, length) in enumerate(spans):
            self._span_start[i, :len(start)], self._span_length[i, :len(length)] = start, length
        # [E, U] what each slot's unit drew at the last update: its disc's centre (a flat index
        # into the padded grids) and sight, -1 for slots that drew nothing; STALE forces a redraw.
        self._centre = np.full((n, game.world.max_units), STALE)
        self._sight = np.zeros((n, game.world.max_units))
        self._restored = False
        self.version = np.zeros(n, np.int64)  # [E] counts the changes of each game's grids
        self._undrawn = np.zeros(n, bool)  # [E] games whose visible discs are still to draw
        # The discs (centres, sights) that turned to seen since the grids were last read, drawn
        # when they are next read (`_draw_visible`).
        self._seen_centres, self._seen_sights = [], []
        # What depends on the slots' owners only, kept while they stay the same: the owners, which
        # slots an agent player owns, and the flat index of cell (0, 0) of each slot's grid.
        self._owner = self._agents = self._corner = None

    @property
    def grid(self):
        """[E, 2 players, height, width] the visibility grids (a view; writes go through)."""
        self._draw_visible()
        return self._grid

    def reset(self, rows):
        self.grid[rows] = HIDDEN if self.game.map.fog else self._revealed
        self._centre[rows] = STALE
        self.version[rows] += 1

    def restore(self, grid):
        """Set the grids (a saved state's)."""
        self.grid[...] = grid
        self._centre[:] = STALE
        self._restored = True
        self.version += 1

    def cell_index(self, row, col):
        """Cells (row, col) of the map -> their flat indices within one padded grid (for
        `at_cells`)."""
        return (row + self._margin) * self._padded.shape[-1] + col + self._margin

    def at_cells(self, rows, player, cell_index):
        """grid[rows, player - 1] at cells given by `cell_index` [R, ...] of environments `rows`
        [R] (gathered from the padded grids by one flat index: faster than by four index arrays).
        """
        self._draw_visible()
        _, players, padded_height, padded_width = self._padded.shape
        start = (rows * players + player - 1) * (padded_height * padded_width)
        start = start.reshape((-1,) + (1,) * (cell_index.ndim - 1))
        return self._padded.ravel()[start + cell_index]

    def cell_of(self, pos):
        """[..., 2] world positions -> ([...] row, [...] col) of their cells."""
        return geometry.cell_of(pos, *self.shape)

    def update(self):
        """Recompute what the agent players see now (maps with fog only; a map's own scripted
        opponent needs no vision)."""
        if not self.game.map.fog:
            return
        world = self.game.world
        players = self.game.map.players
        _, _, padded_height, padded_width = self._padded.shape
        if self._owner is None or any_true(self._owner != world.owner):
            self._owner = world.owner.copy()
            self._agents = (world.owner > 0) & (world.owner <= players)
            env_player = np.arange(world.num_envs)[:, None] * 2 + world.owner.astype(np.int64) - 1
            self._corner = (env_player * padded_height + self._margin) * padded_width \
                + self._margin
        # (per_type gives the same array while no unit type changed: then every unit that still
        # sees has the sight it drew with, and only centres can have changed)
        sight = world.per_type(TABLE.sight)
        centre = np.empty(world.alive.shape, np.int64)
        changed = np.empty(world.alive.shape, bool)
        _centres(world.pos.reshape(-1, 2), world.alive.ravel(), self._agents.ravel(),
                 self._corner.ravel(), padded_width, self.shape, self._centre.ravel(),
                 sight.ravel(), self._sight.ravel(), sight is not self._sight, centre.ravel(),
                 changed.ravel())
        redraw = changed.any(axis=1).nonzero()[0]
        if redraw.size == 0:
            return
        if self._restored:  # a saved grid: its visible cells are not this engine's last discs
            agents = self._padded[:, :players]  # the map's agent players (a view)
            np.minimum(agents, SEEN, out=agents)
            self._restored = False
        else:  # visible cells become seen: the cells of the discs drawn last by units that
            # changed (the discs of the others are drawn again), when the grids are next read
            self._seen_centres.append(self._centre[changed])
            self._seen_sights.append(self._sight[changed])
        # (the games not redrawn have the same centres, and the same sights wherever a unit
        # sees: the whole arrays can be taken, a unit that does not see draws nothing)
        self._centre, self._sight = centre, sight
        self._undrawn[redraw] = True
        self.version[redraw] += 1

    def _draw_visible(self):
        """Turn the discs that `update` found changed to seen, then draw the discs of every
        seeing unit of the games that changed since the grids were last read. (Nothing reads
        the grids in between, and every disc turned to seen is written the same value, so one
        draw of them all at the read gives the grids that a draw at every update gives.)"""
        if self._seen_centres:
            centres, sights = np.concatenate(self._seen_centres), np.concatenate(self._seen_sights)
            self._seen_centres, self._seen_sights = [], []
            self._draw(centres, sights, SEEN)
        if not any_true(self._undrawn):
            return
        rows = self._undrawn.nonzero()[0]
        self._undrawn[:] = False
        self._draw(self._centre[rows], self._sight[rows], VISIBLE)

    def _draw(self, centre, sight, value):
        """Set the cells of the discs of sight around `centre` (flat indices into the padded
        grids; -1 and STALE: none) to `value`."""
        _fill_discs(self._padded.reshape(-1), np.ravel(centre),
                    np.searchsorted(self._sights, np.ravel(sight)), self._span_start,
                    self._span_length, value)

    def sees(self, player, rows=None):
        """[E, U] bool: units `player` sees now ([R, U] of environments `rows` only, when
        given: the same rows, computed for those games alone)."""
        world = self.game.world
        alive, owner, pos = world.alive, world.owner, world.pos
        if rows is None:
            rows = np.arange(self.game.num_envs)
        else:
            rows = np.asarray(rows, np.int64)
            alive, owner, pos = alive[rows], owner[rows], pos[rows]
        if not self.game.map.fog:
            return alive.copy()
        seen = alive & ((owner == player) | (owner == 0))
        # Only the other units are looked up in the grids (a few of the slots), by flat index
        # row * U + slot; positions as x + iy (`world.points`).
        other = (alive & ~seen).ravel().nonzero()[0]
        at = points(pos)[other]
        cell = self.cell_index(*geometry.cell_of_xy(at.real, at.imag, *self.shape))
        seen.ravel()[other] = self.at_cells(rows[other // alive.shape[1]], player,
                                            cell) == VISIBLE
        return seen


@numba.njit(cache=True)
def _centres(pos, alive, agents, corner, padded_width, shape, last_centre, sight, last_sight,
             new_sights, centre, changed):
    """`Vision.update` on flat arrays (env * U + slot): each slot's disc centre, a flat index
    into the padded grids (-1: the slot does not see), into `centre`; whether it differs from
    the last (`last_centre`, and `last_sight` where the unit sees, if `new_sights`) into
    `changed`."""
    for i in range(alive.size):
        centre[i] = -1
        if alive[i] and agents[i]:
            row, col = geometry.cell_of_point(pos[i, 0], pos[i, 1], shape[0], shape[1])
            centre[i] = corner[i] + row * padded_width + col
        changed[i] = (centre[i] != last_centre[i]
                      or new_sights and centre[i] >= 0 and sight[i] != last_sight[i])


@numba.njit(cache=True)
def _fill_discs(flat, centre, sight_index, span_start, span_length, value):
    """Cells of the discs around `centre` (-1, STALE: none) of sights `sight_index` (rows of the
    span tables) in the padded grids `flat` = value."""
    for i in range(centre.size):
        if centre[i] < 0:
            continue
        for start, length in zip(span_start[sight_index[i]], span_length[sight_index[i]]):
            first = centre[i] + start
            flat[first:first + length] = value
