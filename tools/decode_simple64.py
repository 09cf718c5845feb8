"""Decode Simple64's terrain from its map file into `minigames/maps/data/simple64_terrain.json`.

    python -m tools.decode_simple64 --map_path path/to/Simple64.SC2Map [--png /tmp/simple64.png]

The map file (59,199 bytes, in the public repository prashanm/StarCraft-II-causal-explanations) is
an MPQ archive, read with mpyq. Blizzard does not document its members; the layouts below were
worked out from this file's bytes, with other public readers' notes as hints, and every one is
checked against something independent before a grid is written (the tool stops with one line
naming the member otherwise). All integers are little-endian; cells are listed row by row from
the south edge (y = 0) up, west to east.

* `MapInfo`: magic 'IpaM'; map width and height (cells) as uint32 at bytes 16 and 20; from byte 42
  two NUL-terminated names (lighting, tileset), then the playable bounds as four uint32 (left,
  bottom, right, top). Checked: 88 x 96, bounds (12, 12, 76, 76), tileset ShakurasTemple.
* `t3SyncCliffLevel`: 'CLIF', version, width, height (uint32), 16 zero bytes, then one uint16 per
  cell: 64 per cliff level (0, 128 and 192 here: levels 0, 2 and 3), a ramp cell holds a value
  between two levels. Checked: the in-between cells form two groups, one at each ramp of
  `t3Terrain.xml`'s `rampList` (centres (41, 23) and (47, 65)), each between the whole levels that
  ramp joins (`lo` 2, `hi` 3); the start locations are on the highest level.
* `t3CellFlags`: 'LFCT', version, 16 zero bytes, width, height (uint32), then one byte per cell;
  bit 0 marks the cliff cells (the cliff walls, unpathable). Bit 1 is set on every cell of this
  map and is not used. Checked: both cells of every whole-level step between 4-neighbours are
  cliff cells, and every cliff cell is next to a change of level.
* `t3SyncHeightMap`: 'SMAP', version, width + 1, height + 1 (vertices, uint32), 48 more header
  bytes, then per vertex an int16 height in 1/256 world units and a uint16 this tool does not use.
  Checked: equal (within 0.05) to the render height map `t3HeightMap` (per vertex three uint16:
  an offset read as int16, a height, and a third field; world height = (height + offset) x
  `quantizeScale` of `t3Terrain.xml`) on every vertex not touching a cliff cell.
* `Objects` (XML): the start locations, mineral fields, geysers and rocks; checked to be exactly
  the constants of `minigames.maps.simple64_terrain`.
* `Minimap.tga` (64 x 64, the playable area): drawn next to the grids in the `--png` picture.

The grids and the readings that make them are stated in `minigames/maps/simple64_terrain.py`.
"""
import hashlib
import io
import os
import re
import struct

import mpyq
import numpy as np
from absl import app, flags
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from PIL import Image

from minigames.files import write_atomically, write_json
from minigames.maps import simple64_terrain as layout

FLAGS = flags.FLAGS
flags.DEFINE_string("map_path", None, "Simple64.SC2Map to decode.")
flags.DEFINE_string("output", layout.DATA_PATH, "Where to write the grids (JSON).")
flags.DEFINE_string("png", None, "If set, also draw the grids and the map's minimap here.")

SOURCE_REPOSITORY = "prashanm/StarCraft-II-causal-explanations"
SOURCE_COMMIT = "6e6ab49b5530a4941caa3034d96f7ed3dfab0d79"
SOURCE_PATH = "Simple64.SC2Map"
LEVEL = 64                  # t3SyncCliffLevel units per cliff level
CLIFF_BIT = 0x01            # t3CellFlags
HEIGHT_UNIT = 256.0         # t3SyncHeightMap heights per world unit


class DecodeError(Exception):
    """The map file is not laid out as this tool reads Simple64, or a check failed."""


def main(argv):
    del argv
    if FLAGS.map_path is None or not os.path.isfile(FLAGS.map_path):
        raise SystemExit(f"decode_simple64: no map file at {FLAGS.map_path!r}; pass --map_path "
                         f"path/to/Simple64.SC2Map (from {SOURCE_REPOSITORY})")
    try:
        decoded = decode(FLAGS.map_path)
    except DecodeError as error:
        raise SystemExit(f"decode_simple64: {error}")
    write_json(FLAGS.output, terrain_json(decoded, FLAGS.map_path))
    if FLAGS.png:
        draw(decoded, FLAGS.png)


def decode(map_path):
    """Read and check the members; the grids (row 0 at the top) and the facts for the JSON."""
    archive = mpyq.MPQArchive(map_path)
    width, height = read_map_info(member(archive, "MapInfo"))
    cliff_level = read_cells(member(archive, "t3SyncCliffLevel"), b"CLIF", width, height,
                             size_at=8, data_at=32, dtype="<u2")
    cell_flags = read_cells(member(archive, "t3CellFlags"), b"LFCT", width, height,
                            size_at=24, data_at=32, dtype="u1")
    vertices = read_cells(member(archive, "t3SyncHeightMap"), b"SMAP", width + 1, height + 1,
                          size_at=8, data_at=64, dtype=[("height", "<i2"), ("unused", "<u2")])
    vertex_height = vertices["height"] / HEIGHT_UNIT
    cliff = (cell_flags & CLIFF_BIT) != 0
    ramp = cliff_level % LEVEL != 0
    terrain = member(archive, "t3Terrain.xml").decode("utf-8")
    check_ramps(cliff_level, terrain)
    check_cliffs(cliff_level, cliff)
    check_render_heights(archive, terrain, vertex_height, cliff)
    check_objects(member(archive, "Objects").decode("utf-8"), cliff_level)

    x0, y0, x1, y1 = (int(v) for v in layout.PLAYABLE)
    playable = np.zeros((height, width), bool)
    playable[y0:y1, x0:x1] = True
    pathable = playable & ~cliff & (cliff_level >= LEVEL)
    buildable = pathable & ~ramp
    # Level 0 is the floor under the map; calling it unpathable must close no route.
    floor = playable & ~cliff & (cliff_level == 0)
    if (layout.reachable(floor | pathable, floor) & pathable).any():
        raise DecodeError("cliff level 0 touches walkable ground; it cannot be read as unpathable")
    cell_height = (vertex_height[:-1, :-1] + vertex_height[1:, :-1]
                   + vertex_height[:-1, 1:] + vertex_height[1:, 1:]) / 4
    flat = playable & ~cliff & ~ramp
    levels = {int(level): round(float(np.median(cell_height[flat & (cliff_level == level)])), 3)
              for level in np.unique(cliff_level[flat])}
    return {
        "pathable": pathable[::-1], "buildable": buildable[::-1],
        "height": height_map_value(cell_height)[::-1],
        "height_levels": {str(level // LEVEL): value for level, value in levels.items()},
        "walled_in_floor_cells": int(floor.sum()),
        "minimap": read_minimap(archive),
    }


def member(archive, name):
    data = archive.read_file(name)
    if data is None:
        raise DecodeError(f"the archive has no member {name!r}; is it Simple64.SC2Map?")
    return data


def read_map_info(data):
    if data[:4] != b"IpaM":
        raise DecodeError("MapInfo does not start with 'IpaM'")
    width, height = struct.unpack_from("<2I", data, 16)
    lighting, tileset, _ = data[42:].split(b"\0", 2)
    bounds = struct.unpack_from("<4I", data, 42 + len(lighting) + len(tileset) + 2)
    if ((width, height) != layout.MAP_SIZE or bounds != tuple(int(v) for v in layout.PLAYABLE)
            or tileset != b"ShakurasTemple"):
        raise DecodeError(f"MapInfo holds size {(width, height)}, bounds {bounds} and tileset "
                          f"{tileset!r}, not Simple64's {layout.MAP_SIZE}, {layout.PLAYABLE} and "
                          f"ShakurasTemple")
    return width, height


def read_cells(data, magic, width, height, size_at, data_at, dtype):
    """A [height, width] array (row 0 = south) after checking the member's magic and size."""
    dtype = np.dtype(dtype)
    if data[:4] != magic or struct.unpack_from("<2I", data, size_at) != (width, height):
        raise DecodeError(f"member {magic.decode()} is not a {width} x {height} grid")
    if len(data) < data_at + width * height * dtype.itemsize:
        raise DecodeError(f"member {magic.decode()} is shorter than its grid")
    return np.frombuffer(data, dtype, width * height, data_at).reshape(height, width)


def check_ramps(cliff_level, terrain):
    """The in-between cliff levels form one group at each ramp of t3Terrain.xml's rampList, and
    the whole levels around each group are the ramp's `lo` and `hi`."""
    listed = [(float(x), float(y), {int(lo), int(hi)}) for hi, lo, x, y in re.findall(
        r'<ramp [^>]*hi="(\d+)" lo="(\d+)"[^>]* mid="[^"]*c=\(([-\d.e+]+), ([-\d.e+]+)\)',
        terrain)]
    ramp = cliff_level % LEVEL != 0
    found = []
    for group in layout.components(ramp):
        y, x = np.argwhere(group).mean(axis=0) + 0.5
        around = layout.neighbours(group) & ~ramp
        found.append((round(float(x), 1), round(float(y), 1),
                      {int(v) for v in np.unique(cliff_level[around]) // LEVEL}))
    matched = len(found) == len(listed) == 2 and all(
        any(np.hypot(x - lx, y - ly) <= 2 and levels == listed_levels
            for lx, ly, listed_levels in listed) for x, y, levels in found)
    if not matched:
        raise DecodeError(f"t3SyncCliffLevel has ramps (x, y, levels around) {found}, not "
                          f"t3Terrain.xml's {listed}")


def check_cliffs(cliff_level, cliff):
    """Cliff cells are where the level changes: every whole-level step between 4-neighbours has
    cliff cells on both sides, and every cliff cell is next to a change of level."""
    whole = np.where(cliff_level % LEVEL == 0, cliff_level.astype(np.int64) // LEVEL, -1)
    changes = np.zeros_like(cliff)
    for axis in (0, 1):
        a, b = np.moveaxis(whole, axis, 0)[:-1], np.moveaxis(whole, axis, 0)[1:]
        ca, cb = np.moveaxis(cliff, axis, 0)[:-1], np.moveaxis(cliff, axis, 0)[1:]
        if ((a >= 0) & (b >= 0) & (a != b) & ~(ca & cb)).any():
            raise DecodeError("t3CellFlags bit 0 misses cells where t3SyncCliffLevel steps a level")
        levels = np.moveaxis(cliff_level, axis, 0)
        change = np.moveaxis(changes, axis, 0)
        change[:-1] |= levels[:-1] != levels[1:]
        change[1:] |= levels[:-1] != levels[1:]
    if (cliff & ~(changes | layout.neighbours(changes))).any():
        raise DecodeError("t3CellFlags bit 0 marks cells away from any change of cliff level")


def check_render_heights(archive, terrain, vertex_height, cliff):
    """The render height map agrees with the synchronised one away from the cliff walls."""
    scale = float(re.search(r'quantizeScale="([^"]+)"', terrain).group(1))
    rows, cols = vertex_height.shape
    render = read_cells(member(archive, "t3HeightMap"), b"HMAP", cols, rows, size_at=8,
                        data_at=32, dtype=[("offset", "<i2"), ("height", "<u2"), ("extra", "<u2")])
    render_height = (render["height"].astype(np.int64) + render["offset"]) * scale
    touches_cliff = np.zeros_like(vertex_height, bool)
    for dy in (0, 1):
        for dx in (0, 1):
            touches_cliff[dy:dy + cliff.shape[0], dx:dx + cliff.shape[1]] |= cliff
    if touches_cliff.all():
        raise DecodeError("every vertex touches a cliff cell; t3CellFlags is misread")
    worst = np.abs(render_height - vertex_height)[~touches_cliff].max()
    if worst > 0.05:
        raise DecodeError(f"t3SyncHeightMap and t3HeightMap differ by {worst:.3f} off the cliffs")


def check_objects(objects, cliff_level):
    """Objects holds exactly the layout's units and start locations, the starts on top."""
    units = sorted((kind, float(x), float(y)) for x, y, kind in re.findall(
        r'Position="([-\d.]+),([-\d.]+),[^"]*"[^>]*UnitType="(\w+)"', objects))
    expected = sorted(
        [(kind, x, y) for fields in layout.MINERAL_FIELDS.values() for x, y, kind in fields]
        + [("VespeneGeyser", x, y) for geysers in layout.GEYSERS.values() for x, y in geysers]
        + [("UnbuildableRocksDestructible", x, y) for x, y in layout.ROCKS])
    starts = sorted((float(x), float(y)) for x, y in re.findall(
        r'Position="([-\d.]+),([-\d.]+),[^"]*"[^>]*Type="StartLoc"', objects))
    if units != expected or starts != sorted(layout.START_LOCATIONS):
        raise DecodeError("Objects does not hold the units and start locations of "
                          "minigames.maps.simple64_terrain")
    if any(cliff_level[int(y), int(x)] != cliff_level.max() for x, y in starts):
        raise DecodeError("a start location is not on the highest cliff level")


def height_map_value(world_height):
    """pysc2's height_map encoding (proto comment): world [-200, 200] to [0, 255], rounded."""
    return np.clip(np.rint((world_height + 200.0) / 400.0 * 255.0), 0, 255).astype(np.int32)


def read_minimap(archive):
    return np.array(Image.open(io.BytesIO(member(archive, "Minimap.tga"))).convert("RGB"))


def terrain_json(decoded, map_path):
    with open(map_path, "rb") as f:
        data = f.read()
    values = sorted(int(v) for v in np.unique(decoded["height"]))
    symbols = "0123456789abcdefghijklmnopqrstuvwxyz"
    if len(values) > len(symbols):
        raise DecodeError(f"{len(values)} height values do not fit one character each")
    legend = dict(zip(values, symbols))
    return {
        "source": {"repository": SOURCE_REPOSITORY, "commit": SOURCE_COMMIT, "path": SOURCE_PATH,
                   "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                   "decoded_by": "tools/decode_simple64.py"},
        "map_size": list(layout.MAP_SIZE),
        "playable": list(layout.PLAYABLE),
        "layout": "each grid is 96 strings of 88 characters; row 0 is the top of the map "
                  "(world y 95 to 96), column c is world x c to c + 1",
        "notes": {
            "pathable": "'1' where the cell is inside the playable area, not a cliff cell "
                        "(t3CellFlags bit 0) and above cliff level 0 (t3SyncCliffLevel; level 0 "
                        f"is the floor under the map, {decoded['walled_in_floor_cells']} cells "
                        "inside the playable area, all walled in by cliff cells)",
            "buildable": "'1' where pathable and not a ramp (a cliff level between two whole "
                         "levels)",
            "height": "pysc2 height_map value (world [-200, 200] to [0, 255], rounded) of the "
                      "mean of the cell's four corner heights in t3SyncHeightMap (int16 / 256 "
                      "world units); each character stands for height_legend[character]",
            "height_levels": "world height of the flat cells of each cliff level",
        },
        "height_levels": decoded["height_levels"],
        "pathable": bool_rows(decoded["pathable"]),
        "buildable": bool_rows(decoded["buildable"]),
        "height_legend": {symbol: value for value, symbol in legend.items()},
        "height": ["".join(legend[int(v)] for v in row) for row in decoded["height"]],
    }


def bool_rows(grid):
    return ["".join("1" if v else "0" for v in row) for row in grid]


def draw(decoded, path):
    """The three grids and the map's own minimap, with the layout's units, in a 2 x 2 grid."""
    figure = Figure(figsize=(14, 15))
    axes = figure.subplots(2, 2).ravel()
    width, height = layout.MAP_SIZE
    x0, y0, x1, y1 = layout.PLAYABLE
    panels = (("pathable", decoded["pathable"], "gray"),
              ("buildable", decoded["buildable"], "gray"),
              ("height (pysc2 height_map)", decoded["height"], "viridis"))
    for ax, (title, grid, colours) in zip(axes, panels):
        image = ax.imshow(grid, cmap=colours, extent=(0, width, 0, height), origin="upper",
                          interpolation="nearest")
        if title.startswith("height"):
            inside = decoded["pathable"]
            image.set_clim(decoded["height"][inside].min() - 1, decoded["height"][inside].max())
            figure.colorbar(image, ax=ax, fraction=0.046)
        ax.set_title(title)
    axes[3].imshow(decoded["minimap"], extent=(x0, x1, y0, y1), origin="upper")
    axes[3].set_title("Minimap.tga (playable area)")
    fields = np.array([f[:2] for base in layout.MINERAL_FIELDS.values() for f in base])
    geysers = np.array([g for base in layout.GEYSERS.values() for g in base])
    for ax in axes:
        ax.set_xlim(0, width)
        ax.set_ylim(0, height)
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="red", lw=0.8))
        ax.scatter(*fields.T, s=8, c="deepskyblue", marker="s")
        ax.scatter(*geysers.T, s=30, c="lime", marker="o")
        ax.scatter(*np.array(layout.ROCKS).T, s=30, c="red", marker="x")
        ax.scatter(*np.array(layout.START_LOCATIONS).T, s=80, c="orange", marker="*")
    figure.tight_layout()
    write_atomically(path, lambda temporary: figure.savefig(temporary, dpi=72))


if __name__ == "__main__":
    app.run(main)
