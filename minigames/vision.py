"""Vision: what each player sees, on a grid of one cell per world unit (as the game's own grids).

A cell is visible to a player while the centre of the cell is within the sight radius of one of
the player's living units, measured from the cell holding the unit's centre; a cell once visible
stays seen (fogged) afterwards. pysc2's `visibility_map` values follow: 0 hidden, 1 seen, 2 visible.

On maps without fog (every mini-game but FindAndDefeatZerglings) the script reveals the playable
area to the player (VisRevealArea): it is visible for good and the rest of the map is hidden.

Another player's units are seen where their centre's cell is visible; neutral units (resources,
beacons, shards) are always seen (the game shows resources as snapshots from the start).
"""
import numpy as np

from minigames.units import TABLE

HIDDEN, SEEN, VISIBLE = 0, 1, 2


def _disc_offsets(radius, row_length):
    """Flat offsets, in a grid of rows of `row_length` cells, of the cells of a disc."""
    reach = int(np.ceil(radius))
    d = np.arange(-reach, reach + 1)
    dr, dc = np.meshgrid(d, d, indexing="ij")
    inside = dr * dr + dc * dc <= radius * radius
    return dr[inside] * row_length + dc[inside]


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
        self.grid = self._padded[:, :, margin:margin + height, margin:margin + width]
        revealed = game.map.region_grid(game.map.playable)
        self._revealed = np.where(revealed, VISIBLE, HIDDEN).astype(np.uint8)
        self._offsets = {}

    def reset(self, rows):
        self.grid[rows] = HIDDEN if self.game.map.fog else self._revealed

    def cell_of(self, pos):
        """[..., 2] world positions -> ([...] row, [...] col) of their cells."""
        height, width = self.shape
        col = np.clip(np.floor(pos[..., 0]).astype(np.int64), 0, width - 1)
        row = np.clip(np.floor(height - pos[..., 1]).astype(np.int64), 0, height - 1)
        return row, col

    def update(self):
        """Recompute what the agent players see now (maps with fog only; a map's own scripted
        opponent needs no vision)."""
        if not self.game.map.fog:
            return
        world = self.game.world
        players = self.game.map.players
        seeing = self._padded[:, :players]  # the map's agent players (a view)
        np.minimum(seeing, SEEN, out=seeing)  # visible cells become seen
        env, slot = np.nonzero(world.alive & (world.owner > 0) & (world.owner <= players))
        if env.size == 0:
            return
        player = world.owner[env, slot].astype(np.int64) - 1
        row, col = self.cell_of(world.pos[env, slot])
        _, _, padded_height, padded_width = self._padded.shape
        centre = (((env * 2 + player) * padded_height + row + self._margin) * padded_width
                  + col + self._margin)
        sight = TABLE.sight[world.unit_type[env, slot]]
        flat = self._padded.reshape(-1)
        for radius in np.unique(sight):
            if radius not in self._offsets:
                self._offsets[radius] = _disc_offsets(radius, padded_width)
            centres = np.unique(centre[sight == radius])  # units sharing a cell see alike
            flat[(centres[:, None] + self._offsets[radius][None, :]).ravel()] = VISIBLE

    def sees(self, player):
        """[E, U] bool: units `player` sees now."""
        world = self.game.world
        if not self.game.map.fog:
            return world.alive.copy()
        row, col = self.cell_of(world.pos)
        env = np.arange(self.game.num_envs)[:, None]
        visible = self.grid[env, player - 1, row, col] == VISIBLE
        return world.alive & ((world.owner == player) | (world.owner == 0) | visible)
