"""Ground paths over a map's pathable grid (one cell per world unit), for maps with cliffs.

A unit heads straight for its goal when the segment to it crosses only pathable cells (sampled
every PATH_SAMPLE world units). Otherwise it follows a distance field: the shortest distance from
every cell to the goal's cell over 8-connected steps (diagonal steps cost sqrt(2) and are allowed
between two blocked cells, as Simple64's narrow ramps need, the unit then passing exactly through
the cells' shared corner), computed once per goal cell by
Dijkstra's algorithm (scipy) and kept for later goals in the same cell. The unit steps towards the
centre of the neighbouring cell nearest to the goal. Structures do not block paths here; units
that meet them are pushed around them by separation (a reading: the game paths around structures).

A goal on an unpathable cell is replaced by the nearest pathable cell; a cell no path reaches
leaves the unit where it is.
"""
import numba
import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from minigames import geometry

PATH_SAMPLE = 0.25
CORNER_GAP = 0.05  # world units either side of a corner a unit squeezes through
MAX_FIELDS = 512  # distance fields kept (each is one float per cell)
_STEPS = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
STEPS = np.array(_STEPS)  # [8, (row step, column step)]
# A field's way down from a cell (`Pathing._ways_down`) besides a step index into STEPS: no
# neighbour is nearer the goal, so the unit heads for the goal itself (STAY), or no path reaches
# it and it stays where it is (STUCK).
NUM_STEPS = len(_STEPS)
STAY, STUCK = NUM_STEPS, NUM_STEPS + 1


class Pathing:
    """Paths over one pathable grid [rows, cols], row 0 at the top (world y = rows)."""

    def __init__(self, pathable):
        self.pathable = np.asarray(pathable, bool)
        self.rows, self.cols = self.pathable.shape
        self._graph = self._build_graph()
        # Distance fields [max_fields, rows, cols] (allocated when first needed), found by goal
        # cell: the store entry of each cell's field (-1: none kept), and the goal cell and the
        # last read of each entry (the entry read least recently is replaced first).
        self._max_fields = MAX_FIELDS
        self._store = None
        # [max_fields, rows * cols] int8: each field's way down from every cell (`_ways_down`),
        # worked out with the field.
        self._way_down = None
        self._field_of_cell = np.full(self.rows * self.cols, -1, np.int64)
        self._cell_of_field = np.full(self._max_fields, -1, np.int64)
        self._last_read = np.full(self._max_fields, -1, np.int64)
        self._reads = 0
        # [rows * cols]: the pathable cell nearest to each cell (flat index row * cols + col).
        _, (open_row, open_col) = ndimage.distance_transform_edt(~self.pathable,
                                                                 return_indices=True)
        self._open_cell = open_row.ravel() * self.cols + open_col.ravel()
        # [rows * cols * 8]: does the step STEPS[s] from cell c (at c * 8 + s) go diagonally past
        # a blocked cell, one or both of the two cells beside it (`_follow_fields`; by flat index, a
        # row -1 or column -1 wraps as pathable[-1, col] and pathable[row, -1] would, a row past
        # the last to row 0).
        row, col = np.divmod(np.arange(self.rows * self.cols)[:, None], self.cols)
        dr, dc = STEPS[:, 0], STEPS[:, 1]
        open_cells = self.pathable.ravel()
        beside_open = (open_cells.take((row + dr) * self.cols + col, mode="wrap")
                       & open_cells[row * self.cols + (col + dc) % self.cols])
        self._squeezes = ((dr != 0) & (dc != 0) & ~beside_open).ravel()
        self._squeeze_inside, self._squeeze_through = self._squeeze_points(row, col)
        # [rows * cols, 8]: the flat index of the cell one step STEPS[s] from each cell, clipped
        # to the grid (the neighbours `_ways_down` compares).
        self._neighbour = (np.minimum(np.maximum(row + dr, 0), self.rows - 1) * self.cols
                           + np.minimum(np.maximum(col + dc, 0), self.cols - 1))
        # The cells that are pathable or next to one (flat indices) and their neighbours: on the
        # field of a pathable goal (`waypoints` asks for no other), any other cell and its
        # neighbours are unreachable (no step leads to an unpathable cell), so a unit there is
        # stuck; only these cells need comparing.
        self._near_open = (open_cells | open_cells[self._neighbour].any(axis=1)).nonzero()[0]
        self._near_open_neighbour = self._neighbour[self._near_open]

    def _squeeze_points(self, row, col):
        """[rows * cols * 8] complex x + iy, at c * 8 + s as `_squeezes`: the points a unit that
        squeezes past a corner by step STEPS[s] from cell c (row, col [rows * cols, 1]) heads
        for, first the one just inside its own cell, then the one just inside the next cell."""
        dr, dc = STEPS[:, 0], STEPS[:, 1]
        # x and y apart: the corner lies half a cell from the cell's centre towards (dc, -dr)
        # (rows count down).
        toward_x, toward_y = dc.astype(np.float64), (-dr).astype(np.float64)
        corner_x = (col + 0.5) + 0.5 * toward_x
        corner_y = (self.rows - row - 0.5) + 0.5 * toward_y
        inside = np.empty(corner_x.shape, np.complex128)
        inside.real = corner_x - CORNER_GAP * toward_x
        inside.imag = corner_y - CORNER_GAP * toward_y
        through = np.empty(corner_x.shape, np.complex128)
        through.real = corner_x + CORNER_GAP * toward_x
        through.imag = corner_y + CORNER_GAP * toward_y
        return inside.ravel(), through.ravel()

    def _build_graph(self):
        """The 8-connected steps between pathable cells as a sparse matrix of their lengths; each
        step is in it both ways (every step of _STEPS has its reverse there too)."""
        rows, cols = self.rows, self.cols
        index = np.arange(rows * cols).reshape(rows, cols)
        sources, targets, costs = [], [], []
        for dr, dc in _STEPS:
            r0, r1 = max(0, -dr), rows - max(0, dr)
            c0, c1 = max(0, -dc), cols - max(0, dc)
            ok = self.pathable[r0:r1, c0:c1] & self.pathable[r0 + dr:r1 + dr, c0 + dc:c1 + dc]
            sources.append(index[r0:r1, c0:c1][ok])
            targets.append(index[r0 + dr:r1 + dr, c0 + dc:c1 + dc][ok])
            costs.append(np.full(ok.sum(), np.hypot(dr, dc)))
        return csr_matrix((np.concatenate(costs),
                           (np.concatenate(sources), np.concatenate(targets))),
                          shape=(rows * cols, rows * cols))

    def nearest_pathable(self, pos):
        """World points [K, 2] on unpathable cells moved to the nearest pathable cell's centre."""
        return self._pathable_points(pos)[0]

    def _pathable_points(self, pos):
        """(`nearest_pathable(pos)`, the flat indices of their cells: a moved point's cell is the
        pathable cell whose centre it is)."""
        return _to_pathable(np.array(pos, np.float64), self.pathable, self._open_cell)

    def field_indices(self, cells):
        """Indices in `_store` of the shortest distances (in cells; inf where unreachable) to the
        goal cells `cells` [K] (flat indices row * cols + col, at most max_fields distinct ones),
        each computed on first use."""
        if self._store is None:
            self._store = np.empty((self._max_fields, self.rows, self.cols))
            self._way_down = np.empty((self._max_fields, self.rows * self.cols), np.int8)
        self._reads += 1
        index = self._field_of_cell[cells]
        self._last_read[index[index >= 0]] = self._reads  # (these are not replaced below)
        for missing in np.flatnonzero(index < 0):  # new goal cells: a few per game
            cell = int(cells[missing])
            if self._field_of_cell[cell] < 0:  # (else computed for another unit just now)
                entry = int(self._last_read.argmin())
                if self._cell_of_field[entry] >= 0:
                    self._field_of_cell[self._cell_of_field[entry]] = -1
                # (directed: the graph holds every step both ways, so the directed search gives
                # the undirected distances bit for bit, about twice as fast: scipy's undirected
                # search makes a transposed copy of the graph on every call)
                self._store[entry] = dijkstra(self._graph, directed=True,
                                              indices=cell).reshape(self.rows, self.cols)
                self._way_down[entry] = self._ways_down(self._store[entry].ravel())
                self._field_of_cell[cell], self._cell_of_field[entry] = entry, cell
                self._last_read[entry] = self._reads
            index[missing] = self._field_of_cell[cell]
        return index

    def _ways_down(self, field):
        """[rows * cols] int8: where a unit in each cell heads on the distance field `field`
        [rows * cols] of a pathable goal: the index into STEPS of its neighbour nearest the goal
        (the first of equals), when that is nearer than its own cell; else STAY, or STUCK when
        no path reaches its cell (the field is inf there), as every cell away from open ground
        (`_near_open`)."""
        ways = np.full(field.size, STUCK, np.int8)
        near_open = self._near_open
        ahead = field[self._near_open_neighbour]  # [cells near open ground, 8]
        best = ahead.argmin(axis=1)
        here = field[near_open]
        better = np.take_along_axis(ahead, best[:, None], axis=1)[:, 0] < here
        ways[near_open] = np.where(better, best, np.where(np.isfinite(here), STAY, STUCK))
        return ways

    def _goal_chunks(self, cells):
        """Groups of units (index arrays into `cells` [K], their goal cells) whose goals number
        at most max_fields: one group of all when there are no more units than that."""
        if len(cells) <= self._max_fields:
            return [slice(None)]
        goals, unit_goal = np.unique(cells, return_inverse=True)
        chunk = unit_goal // self._max_fields
        return [np.flatnonzero(chunk == c) for c in range(-(-len(goals) // self._max_fields))]

    def clear_line(self, start, goal):
        """[K] bool: the segment from start to goal [K, 2] crosses only pathable cells (sampled
        every PATH_SAMPLE world units: each segment gets as many samples as its own length
        needs)."""
        return _clear_lines(np.ascontiguousarray(start, np.float64),
                            np.ascontiguousarray(goal, np.float64), self.pathable)

    def waypoints(self, start, goal):
        """Where units at `start` [K, 2] should head this loop on their way to `goal` [K, 2]:
        the goal itself when the way is clear, else the next cell on a shortest path."""
        start = np.ascontiguousarray(start, np.float64)
        goal, goal_cells = self._pathable_points(goal)
        clear = self.clear_line(start, goal)
        waypoint = goal  # (a fresh array)
        detour = (~clear).nonzero()[0]
        if detour.size == 0:
            return waypoint
        goal_cells = goal_cells[detour]
        # Each unit's way down its goal's field (one field per goal cell, a few per loop), read
        # in chunks of units whose goals' fields are all in the store at once.
        for units in self._goal_chunks(goal_cells):
            _follow_fields(start, waypoint, detour[units], self.field_indices(goal_cells[units]),
                           self._way_down, self._neighbour, self._squeezes,
                           self._squeeze_inside, self._squeeze_through, self.rows, self.cols)
        return waypoint


@numba.njit(cache=True)
def _to_pathable(pos, pathable, open_cell):
    """`Pathing._pathable_points`, moving `pos` [K, 2] in place."""
    rows, cols = pathable.shape
    cell = np.empty(len(pos), np.int64)
    for k in range(len(pos)):
        row, col = geometry.cell_of_point(pos[k, 0], pos[k, 1], rows, cols)
        cell[k] = row * cols + col
        if not pathable[row, col]:
            cell[k] = open_cell[cell[k]]
            row, col = divmod(cell[k], cols)
            pos[k, 0], pos[k, 1] = col + 0.5, rows - row - 0.5
    return pos, cell


@numba.njit(cache=True)
def _clear_lines(start, goal, pathable):
    """`Pathing.clear_line`: sample j of a segment's n lies at start + delta * j / (n - 1)."""
    rows, cols = pathable.shape
    clear = np.ones(len(start), np.bool_)
    for k in range(len(start)):
        dx, dy = goal[k, 0] - start[k, 0], goal[k, 1] - start[k, 1]
        samples = np.int64(np.ceil(np.hypot(dx, dy) / PATH_SAMPLE)) + 1
        last = np.float64(max(samples - 1, 1))
        for j in range(samples):
            t = j / last
            x, y = dx * t + start[k, 0], dy * t + start[k, 1]
            row, col = geometry.cell_of_point(x, y, rows, cols)
            if not pathable[row, col]:
                clear[k] = False
                break
    return clear


@numba.njit(cache=True)
def _follow_fields(start, waypoint, units, field, way_down, neighbour, squeezes, squeeze_inside,
                   squeeze_through, rows, cols):
    """Waypoints [K, 2] of units `units` (indices into start and waypoint) whose goal's distance
    field is `field` (entries of the store): the centre of the neighbouring cell on the way down
    the field; past a corner between blocked cells, a point just inside the unit's own cell and
    then one just inside the next (`Pathing._squeeze_points`); the goal itself (left in
    `waypoint`) when no neighbour is nearer; the unit's own position when no path reaches it."""
    for i in range(len(units)):
        k = units[i]
        row, col = geometry.cell_of_point(start[k, 0], start[k, 1], rows, cols)
        cell = row * cols + col
        way = way_down[field[i], cell]
        if way == STUCK:
            waypoint[k, 0], waypoint[k, 1] = start[k, 0], start[k, 1]
        elif way != STAY:
            squeeze = cell * NUM_STEPS + way
            if squeezes[squeeze]:
                inside = squeeze_inside[squeeze]
                off_x, off_y = start[k, 0] - inside.real, start[k, 1] - inside.imag
                target = squeeze_through[squeeze] if np.hypot(off_x, off_y) < 1e-6 else inside
                waypoint[k, 0], waypoint[k, 1] = target.real, target.imag
            else:
                next_row, next_col = divmod(neighbour[cell, way], cols)
                waypoint[k, 0], waypoint[k, 1] = next_col + 0.5, rows - next_row - 0.5
