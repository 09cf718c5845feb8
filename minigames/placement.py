"""The ground grids (pathable, buildable) of each game, and where a structure may be placed.

The map gives the terrain's grids (`MapScript.pathable`, `MapScript.buildable`: one cell per world
unit, row 0 at the top). Each environment keeps its own copy, [E, map height, map width], with the
footprints of its structures and resources taken out of both: `refresh` recomputes the copies of
environments whose structures or resources changed (a structure placed, finished or destroyed, a
field mined out) and bumps their `version` so the observer redraws their layers.

Footprints. A structure, resource or rock covers a rectangle of whole cells centred on it. The
game's footprints are squares of 2 (Supply Depot), 3 (Barracks, Refinery, geyser) and 5 (Command
Center) cells, and mineral fields are 2 x 1; they are not in the unit data, so the engine derives
them from the radius: a square of round(2 * radius - 0.5) cells (which gives exactly those sizes),
and 2 x 1 for units that contain minerals.

Placement (the game's rules as this engine reads them):
* a structure is centred on a cell centre when its side is odd and on a cell corner when it is
  even (the clicked point snaps to the nearest such place);
* every cell of its footprint must be buildable: inside the map's buildable terrain and not under
  another structure, a resource or a rock; otherwise the game answers CantFindPlacementLocation;
* mobile units never block a placement (they are pushed out of the footprint as the structure
  appears), a reading: the game moves friendly units aside;
* a town hall may not come within 3 cells of a resource's footprint: CantBuildTooCloseToResources
  (the game's rule; 3 cells is the gap between a standard base's town hall and its minerals);
* a Refinery goes on a Vespene Geyser that has none yet, at the geyser's centre; anywhere else the
  answer is CantBuildOnThat.
"""
import numpy as np
from s2clientprotocol import error_pb2

from minigames import movement
from minigames.units import TABLE
from minigames.world import nonzero

RESOURCE_GAP = 3  # cells between a town hall and a resource
OK = 0
CANT_PLACE = error_pb2.CantFindPlacementLocation
TOO_CLOSE_TO_RESOURCES = error_pb2.CantBuildTooCloseToResources
CANT_BUILD_ON_THAT = error_pb2.CantBuildOnThat


def _footprints():
    """[type, 2] (width, height) in cells of every unit type that covers ground (0 for others)."""
    size = np.zeros((TABLE.size, 2), np.int64)
    neutral = np.array([race == "Neutral" for race in TABLE.race])
    covers = (TABLE.is_structure | (neutral & (TABLE.speed == 0))) & movement.COLLIDES
    covers &= TABLE.known & ~TABLE.is_flying
    side = np.round(2 * TABLE.radius - 0.5).astype(np.int64)
    size[covers] = side[covers, None]
    minerals = covers & (TABLE.minerals_contained > 0)
    size[minerals] = (2, 1)
    return size


FOOTPRINT = _footprints()
HAS_FOOTPRINT = FOOTPRINT[:, 0] > 0
IS_RESOURCE = (TABLE.minerals_contained > 0) | (TABLE.vespene_contained > 0)


def snap(unit_type, point):
    """Centres [K, 2] where structures of `unit_type` [K] clicked at world `point` [K, 2] stand."""
    size = FOOTPRINT[unit_type].astype(np.float64)
    odd = size % 2 == 1
    return np.where(odd, np.floor(point) + 0.5, np.round(point))


def cells(unit_type, centre, margin=0):
    """Map cells (x, y) [K, cells] of each footprint, grown by `margin` cells on every side, with
    a [K, cells] mask of the cells that exist (footprints differ in size). y counts up from the
    map's bottom, as world coordinates do."""
    size = FOOTPRINT[unit_type] + 2 * margin
    largest = size.max(axis=0, initial=0)
    low = np.round(centre - size / 2.0).astype(np.int64)
    dx, dy = np.meshgrid(np.arange(largest[0]), np.arange(largest[1]), indexing="ij")
    dx, dy = dx.ravel(), dy.ravel()
    x = low[:, 0, None] + dx[None, :]
    y = low[:, 1, None] + dy[None, :]
    exists = (dx[None, :] < size[:, 0, None]) & (dy[None, :] < size[:, 1, None])
    return x, y, exists


class Ground:
    """Per-environment pathable and buildable grids (and the cells too close to resources for a
    town hall), [E, map height, map width] bool, kept in step with the world's footprints."""

    def __init__(self, game):
        self.game = game
        n = game.num_envs
        self.base_pathable = game.map.pathable()
        self.base_buildable = game.map.buildable()
        self.height, self.width = self.base_pathable.shape
        self.pathable = np.broadcast_to(self.base_pathable, (n,) + self.base_pathable.shape).copy()
        self.buildable = np.broadcast_to(self.base_buildable, self.pathable.shape).copy()
        self.near_resources = np.zeros(self.pathable.shape, bool)
        self.version = np.zeros(n, np.int64)  # increases whenever an environment's grids change
        self.dirty = np.zeros(n, bool)  # footprints changed: refresh at the end of the loop

    def _inside(self, x, y):
        return (x >= 0) & (x < self.width) & (y >= 0) & (y < self.height)

    def refresh(self, rows=None):
        """Recompute the grids of environments `rows` (default: the dirty ones)."""
        rows = np.flatnonzero(self.dirty) if rows is None else np.asarray(rows, np.int64)
        self.dirty[rows] = False
        if rows.size == 0:
            return
        world = self.game.world
        self.pathable[rows] = self.base_pathable
        self.buildable[rows] = self.base_buildable
        self.near_resources[rows] = False
        self.version[rows] += 1
        r, slot = nonzero(world.alive[rows] & HAS_FOOTPRINT[world.unit_type[rows]])
        if r.size == 0:  # no structures or resources: the base grids are the grids
            return
        env = rows[r]
        unit_type = world.unit_type[env, slot]
        for covered, margin, grids in ((np.ones(len(env), bool), 0,
                                        (self.pathable, self.buildable)),
                                       (IS_RESOURCE[unit_type], RESOURCE_GAP, ())):
            x, y, exists = cells(unit_type[covered], world.pos[env[covered], slot[covered]],
                                 margin)
            exists &= self._inside(x, y)
            e = np.broadcast_to(env[covered, None], x.shape)[exists]
            row, col = self.height - 1 - y[exists], x[exists]
            for grid in grids:
                grid[e, row, col] = False
            if margin:
                self.near_resources[e, row, col] = True

    def placement_error(self, env, unit_type, centre):
        """[K] ActionResult code (OK = 0) of placing structures of `unit_type` at `centre` (already
        snapped) in environments `env`; refineries are checked by `refinery_error`."""
        x, y, exists = cells(unit_type, centre)
        inside = self._inside(x, y)
        row, col = np.clip(self.height - 1 - y, 0, self.height - 1), np.clip(x, 0,
                                                                             self.width - 1)
        e = np.broadcast_to(env[:, None], x.shape)
        free = self.buildable[e, row, col] & inside
        blocked = (exists & ~free).any(axis=1)
        near = (exists & self.near_resources[e, row, col] & inside).any(axis=1)
        near &= TABLE.is_townhall[unit_type]
        return np.where(blocked, CANT_PLACE, np.where(near, TOO_CLOSE_TO_RESOURCES, OK))


def refinery_error(world, env, geyser):
    """[K] ActionResult code of building a refinery on the unit in slot `geyser` (-1: none)."""
    safe = np.maximum(geyser, 0)
    is_geyser = ((geyser >= 0) & world.alive[env, safe]
                 & (TABLE.vespene_contained[world.unit_type[env, safe]] > 0)
                 & ~TABLE.is_structure[world.unit_type[env, safe]])
    taken = np.zeros(len(env), bool)
    if env.size:
        on = world.alive[env] & (world.geyser[env] == safe[:, None]) & (
            world.geyser_tag[env] == world.tag[env, safe][:, None])
        taken = on.any(axis=1)
    return np.where(is_geyser & ~taken, OK, CANT_BUILD_ON_THAT)
