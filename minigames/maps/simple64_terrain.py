"""Simple64's terrain and layout: three [96, 88] grids decoded from the map file, and its units.

Source: `Simple64.SC2Map` of the public repository prashanm/StarCraft-II-causal-explanations
(59,199 bytes; size, SHA-256 and commit are recorded in the JSON). `tools/decode_simple64.py` reads
it and writes `data/simple64_terrain.json`; the map file itself is not part of this project.

Grids are [map height, map width] = [96, 88], one cell per world unit, row 0 at the top (world
y = 96), like `MapScript.pathable()`: cell [row, col] covers world x in [col, col + 1) and y in
[95 - row, 96 - row). What each grid is, and the readings chosen (the formats are undocumented; the
decoding was worked out from the bytes and cross-checked, see the tool's docstring):

* `pathable`: inside the playable area (x, y in [12, 76)), not a cliff cell (`t3CellFlags` bit 0),
  and above cliff level 0 (`t3SyncCliffLevel`). Level 0 is the floor under the map (around it,
  in the corners beside the mains and in the slit at the centre; height 0); all 688 of its
  non-cliff cells inside the playable area are walled in by cliff cells, so calling them
  unpathable closes no route. Units are not part of the grids: minerals, geysers and the rocks
  stand on pathable ground. 2,512 cells are pathable.
* `buildable`: pathable and not a ramp (a ramp cell has a cliff level between two whole levels):
  2,502 cells, 952 on the two mains (cliff level 3) and 1,550 on the lowground (level 2). The two
  ramps are the other 10 pathable cells, 5 each.
* `height`: pysc2's `height_map` value of the terrain height at the cell centre (the mean of the
  cell's four corners in `t3SyncHeightMap`, in world units), encoded as the proto comment states:
  world [-200, 200] to [0, 255], rounded to the nearest integer. Lowground is 10.0 high (134),
  the mains 12.0 (135), the floor under the map 0.0 (127 or 128); outside the playable area the
  grid keeps the terrain's height. That encoding is pysc2_fidelity.md's (section 2.3) and is
  unverified against a running game: pysc2's own `colors.height_map` palette calls 60/255 "the
  mode height", far from what terrain 0 to 12 high gives under it, so the world heights of the
  levels are recorded in the JSON (`height_levels`) for a re-encoding.

At cell resolution each ramp is a diagonal band whose cells touch only at corners in places (the
game paths on a finer grid): walking it takes 8-connected steps between two cliff cells.

The layout constants below are the map's `Objects` (engine_data.md section 3); the decoding tool
checks that the map file holds exactly these.
"""
import dataclasses
import json
import os

import numpy as np

MAP_SIZE = (88, 96)                   # world units (width, height)
PLAYABLE = (12.0, 12.0, 76.0, 76.0)   # MapInfo bounds: x0, y0, x1, y1
# The map's "Start Location 002" (top-left) and "Start Location 001" (bottom-right).
START_LOCATIONS = ((28.5, 60.5), (59.5, 27.5))

# (x, y, unit type) of the 8 fields and (x, y) of the 2 geysers of each base. The two mains sit
# next to the start locations on the high ground; the other two bases are on the lowground.
MINERAL_FIELDS = {
    "top_left_main": (
        (22.0, 62.5, "MineralField"), (27.0, 66.5, "MineralField"),
        (22.0, 60.5, "MineralField"), (23.0, 65.5, "MineralField"),
        (28.0, 67.5, "MineralField750"), (21.0, 61.5, "MineralField750"),
        (24.0, 66.5, "MineralField750"), (22.0, 64.5, "MineralField750")),
    "bottom_right_main": (
        (66.0, 27.5, "MineralField"), (66.0, 25.5, "MineralField"),
        (65.0, 22.5, "MineralField"), (61.0, 21.5, "MineralField"),
        (67.0, 26.5, "MineralField750"), (60.0, 20.5, "MineralField750"),
        (66.0, 23.5, "MineralField750"), (64.0, 21.5, "MineralField750")),
    "top_right": (
        (66.0, 71.5, "MineralField"), (70.0, 67.5, "MineralField"),
        (62.0, 70.5, "MineralField"), (69.0, 64.5, "MineralField"),
        (69.0, 68.5, "MineralField750"), (67.0, 70.5, "MineralField750"),
        (63.0, 71.5, "MineralField750"), (70.0, 65.5, "MineralField750")),
    "bottom_left": (
        (26.0, 17.5, "MineralField"), (19.0, 23.5, "MineralField"),
        (18.0, 20.5, "MineralField"), (22.0, 16.5, "MineralField"),
        (19.0, 19.5, "MineralField750"), (25.0, 16.5, "MineralField750"),
        (21.0, 17.5, "MineralField750"), (18.0, 22.5, "MineralField750")),
}
GEYSERS = {
    "top_left_main": ((31.5, 67.5), (21.5, 57.5)),
    "bottom_right_main": ((66.5, 30.5), (56.5, 20.5)),
    "top_right": ((69.5, 61.5), (58.5, 71.5)),
    "bottom_left": ((18.5, 26.5), (29.5, 16.5)),
}
# UnbuildableRocksDestructible, one below each ramp on the lowground.
ROCKS = ((48.0, 69.0), (40.0, 19.0))

DATA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                         "simple64_terrain.json")


@dataclasses.dataclass(frozen=True)
class Terrain:
    pathable: np.ndarray   # [96, 88] bool
    buildable: np.ndarray  # [96, 88] bool
    height: np.ndarray     # [96, 88] int32, pysc2 height_map values


def load(path=DATA_PATH):
    """The three grids of `data/simple64_terrain.json` as numpy arrays."""
    with open(path) as f:
        data = json.load(f)
    return Terrain(pathable=bool_grid(data["pathable"]),
                   buildable=bool_grid(data["buildable"]),
                   height=legend_grid(data["height"], data["height_legend"]))


def bool_grid(rows):
    """Rows of '1' (true) and '0' (false) characters."""
    return np.array([[char == "1" for char in row] for row in rows], dtype=bool)


def legend_grid(rows, legend):
    """Rows of characters, each standing for the integer `legend[character]`."""
    return np.array([[legend[char] for char in row] for row in rows], dtype=np.int32)


def reachable(mask, seeds):
    """Cells of `mask` joined to a cell of `seeds` by steps to any of the 8 neighbours within
    `mask` (both [rows, cols] bool grids)."""
    region = seeds & mask
    while True:
        grown = (region | neighbours(region)) & mask
        if (grown == region).all():
            return region
        region = grown


def components(mask):
    """The 8-connected groups of cells of `mask`, each as a bool grid."""
    groups = []
    remaining = mask.copy()
    while remaining.any():
        seed = np.zeros_like(mask)
        seed[tuple(np.argwhere(remaining)[0])] = True
        group = reachable(mask, seed)
        groups.append(group)
        remaining &= ~group
    return groups


def neighbours(mask):
    """Cells 8-adjacent to a cell of `mask` (a [rows, cols] bool grid)."""
    padded = np.pad(mask, 1)
    rows, cols = mask.shape
    out = np.zeros_like(mask)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if (dy, dx) != (1, 1):
                out |= padded[dy:dy + rows, dx:dx + cols]
    return out
