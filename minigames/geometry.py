"""World <-> feature-layer pixel transforms and unit footprints, vectorised over environments.

The transforms follow pysc2's `features.Features.init_camera` (pysc2_fidelity.md section 2.6):

* world -> world-top-left flips y: (x, map_height - y);
* feature screen: (world_tl - camera_tl) * screen / camera_width + screen / 2, where camera_tl is
  the camera centre in world-top-left coordinates (each environment has its own camera);
* feature minimap: world_tl * minimap / max(map width, map height);
* a pixel coordinate is the floor of the continuous one, and a pixel maps back to its centre.

A unit's footprint on a layer is every pixel whose centre lies within the unit's radius, plus the
pixel holding the unit's centre (so a unit smaller than a pixel is still drawn). The same footprint
decides what `select_point` hits, so what an agent clicks is what it sees.
"""
import functools

import numba
import numpy as np


class LayerTransform:
    """Continuous pixel coordinates of world points on one layer of size (width, height).

    `offset` is what is added after scaling: one (ox, oy) for the minimap, one per environment
    for the screen (it depends on the camera); arrays broadcast as [E, ..., 2].
    """

    def __init__(self, size, scale, map_height):
        self.width, self.height = int(size[0]), int(size[1])
        self.scale = np.asarray(scale, dtype=np.float64)  # pixels per world unit, (sx, sy)
        self.map_height = float(map_height)

    @classmethod
    def screen(cls, size, camera_width, map_height):
        return cls(size, np.asarray(size, dtype=np.float64) / camera_width, map_height)

    @classmethod
    def minimap(cls, size, map_size):
        return cls(size, np.asarray(size, dtype=np.float64) / max(map_size), map_size[1])

    def camera_offset(self, camera):
        """[..., 2] camera centres (world) -> the screen offsets that centre them."""
        camera = np.asarray(camera, np.float64)
        camera_tl = np.stack([camera[..., 0], self.map_height - camera[..., 1]], axis=-1)
        return np.array([self.width, self.height]) / 2.0 - camera_tl * self.scale

    def to_pixels(self, world_xy, offset=0.0):
        """World points [..., 2] -> continuous pixel coordinates [..., 2] (x right, y down)."""
        world_xy = np.asarray(world_xy, np.float64)
        world_tl = np.stack([world_xy[..., 0], self.map_height - world_xy[..., 1]], axis=-1)
        return world_tl * self.scale + offset

    def to_world(self, pixel_xy, offset=0.0):
        """Integer pixels [..., 2] -> world coordinates of the pixel centres."""
        world_tl = (np.floor(pixel_xy) + 0.5 - offset) / self.scale
        return np.stack([world_tl[..., 0], self.map_height - world_tl[..., 1]], axis=-1)

    def radius_pixels(self, world_radius):
        return np.asarray(world_radius) * self.scale[0]

    def pixel_centres(self, offset=0.0):
        """[..., height, width, 2] world coordinates of every pixel centre (offset [..., 2])."""
        cols, rows = np.meshgrid(np.arange(self.width), np.arange(self.height))
        pixels = np.stack([cols, rows], axis=-1).astype(np.float64)
        offset = np.asarray(offset, np.float64)
        return self.to_world(pixels, offset[..., None, None, :] if offset.ndim else offset)

    def pixel_centre_axes(self, offset=0.0):
        """(x [..., width], y [..., height]): the world x of each pixel column's centre and the
        world y of each pixel row's centre (offset [..., 2]). `pixel_centres` is their grid; this
        is the same arithmetic along one axis each, on far fewer numbers."""
        offset = np.asarray(offset, np.float64)
        ox, oy = (offset[..., 0, None], offset[..., 1, None]) if offset.ndim else (offset, offset)
        x = (np.arange(self.width, dtype=np.float64) + 0.5 - ox) / self.scale[0]
        y = self.map_height - (np.arange(self.height, dtype=np.float64) + 0.5 - oy) / self.scale[1]
        return x, y

    def pixel_centre_mask(self, world_rect, offset=0.0):
        """[..., height, width] bool: pixel centres inside the world rectangle (x0, y0, x1, y1)."""
        world = self.pixel_centres(offset)
        x0, y0, x1, y1 = world_rect
        return ((world[..., 0] >= x0) & (world[..., 0] <= x1)
                & (world[..., 1] >= y0) & (world[..., 1] <= y1))


def cell_of(pos, height, width):
    """World positions [..., 2] -> ([...] row, [...] col) of their cells in a grid of one cell per
    world unit, row 0 at the top (world y = height), clipped to the grid."""
    return cell_of_xy(pos[..., 0], pos[..., 1], height, width)


def cell_of_xy(x, y, height, width):
    """`cell_of` of positions given as x [...] and y [...]."""
    # Truncation, then clipping at 0, is flooring then clipping (and cheaper).
    col = np.minimum(np.maximum(x.astype(np.int64), 0), width - 1)
    row = np.minimum(np.maximum((height - y).astype(np.int64), 0), height - 1)
    return row, col


@numba.njit(cache=True)
def cell_of_point(x, y, height, width):
    """`cell_of_xy` of one point (x, y), for compiled loops."""
    return (min(max(np.int64(height - y), 0), height - 1),
            min(max(np.int64(x), 0), width - 1))


def footprints(centre, radius, width, height):
    """Pixels covered by discs, one per unit.

    Args:
      centre: [K, 2] continuous pixel coordinates of the unit centres.
      radius: [K] radii in pixels.
      width, height: the layer's size; pixels outside it are dropped.

    Returns:
      (unit, row, col) index arrays: pixel (row, col) is covered by unit `unit` (an index into K),
      grouped by the discs' sizes (callers must not rely on the order).
    """
    parts = []
    # Pixels within `reach` of the centre's pixel are looked at. A disc of radius under half a
    # pixel covers no other pixel's centre (each is at least half a pixel away along x or y), so
    # it needs only its own pixel (minimap discs mostly are that small).
    reach = np.where(radius < 0.5, 0, np.ceil(radius)).astype(np.int64)
    base = np.floor(centre).astype(np.int64)
    # A unit whose square of looked-at pixels lies off the layer covers none of its pixels (the
    # bounds test at the end would drop them all): it is left out (reach -1) before any disc work.
    on_layer = ((base[:, 0] + reach >= 0) & (base[:, 0] - reach < width)
                & (base[:, 1] + reach >= 0) & (base[:, 1] - reach < height))
    reach = np.where(on_layer, reach, -1)
    # x and y apart, contiguous (gathers from them are faster than indexing [K, 2] arrays)
    base_x, base_y = base[:, 0].copy(), base[:, 1].copy()
    centre_x, centre_y = centre[:, 0].copy(), centre[:, 1].copy()
    for r in np.unique(reach).tolist():
        if r < 0:
            continue
        units = (reach == r).nonzero()[0]
        offsets, own_pixel = _square(r)
        cols = base_x[units][:, None, None] + offsets[None, None, :]  # [k, 1, 2r+1]
        rows = base_y[units][:, None, None] + offsets[None, :, None]  # [k, 2r+1, 1]
        dx = cols + 0.5 - centre_x[units][:, None, None]
        dy = rows + 0.5 - centre_y[units][:, None, None]
        rr = radius[units, None, None]
        inside = (dx * dx + dy * dy <= rr * rr) | own_pixel
        # (k, row_i, col_i) of the covered pixels from flat indices (faster than np.nonzero's
        # three index arrays and gathers by them)
        side = 2 * r + 1
        k, pixel = np.divmod(inside.ravel().nonzero()[0], side * side)
        row_i, col_i = np.divmod(pixel, side)
        unit = units[k]
        parts.append((unit, base_y[unit] + offsets[row_i], base_x[unit] + offsets[col_i]))
    if not parts:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    unit, row, col = (np.concatenate(p) for p in zip(*parts))
    # The pixels off the layer are dropped, once for the discs of every size (cheaper than a
    # bounds test on each size's squares).
    on = (row >= 0) & (row < height) & (col >= 0) & (col < width)
    if np.count_nonzero(on) < on.size:
        unit, row, col = unit[on], row[on], col[on]
    return unit, row, col


class KeptFootprints:
    """`footprints` of units known by a lasting index (a slot, by flat index env * U + slot),
    keeping each unit's pixels for the next call: a disc's pixels depend on its centre and
    radius alone, so the units whose centre and radius are those of the last call (most of a
    game's units between two observations: fields, structures, units that stood still) get the
    pixels they got then, and only the others are worked out again."""

    def __init__(self, slots, width, height):
        self.width, self.height = width, height
        # Each slot's disc at the last call, its centre as x + iy (NaN: none drawn), and the
        # pixels drawn then: (slot, row, col).
        self._centre = np.full(slots, complex(np.nan, np.nan))
        self._radius = np.zeros(slots)
        self._drawn = (np.zeros(0, np.int64),) * 3

    def __call__(self, slot, centre, radius):
        """(slot, row, col) of the pixels covered by the discs of units `slot` [K] (centres [K, 2]
        in continuous pixel coordinates, radii [K] in pixels): what `footprints` gives, with
        the unit's slot instead of its index into K, in another order (read-only arrays)."""
        centre = np.ascontiguousarray(centre, np.float64)
        at = centre.reshape(-1).view(np.complex128)  # (x, y) as x + iy: one comparison for both
        same = (self._centre[slot] == at) & (self._radius[slot] == radius)
        kept = np.zeros(len(self._centre), bool)
        kept[slot[same]] = True
        last_slot, last_row, last_col = self._drawn
        keep = kept[last_slot]
        new = (~same).nonzero()[0]
        unit, row, col = footprints(centre[new], radius[new], self.width, self.height)
        self._drawn = (np.concatenate([last_slot[keep], slot[new][unit]]),
                       np.concatenate([last_row[keep], row]),
                       np.concatenate([last_col[keep], col]))
        for kept_pixels in self._drawn:  # (read-only: they are kept for the next call)
            kept_pixels.setflags(write=False)
        self._centre[:] = complex(np.nan, np.nan)
        self._centre[slot] = at
        self._radius[slot] = radius
        return self._drawn


@functools.lru_cache(maxsize=None)
def _square(reach):
    """The square of pixels within `reach` of a unit's pixel: ([2 reach + 1] offsets along an
    axis, [side, side] bool: the unit's own pixel, which its footprint always covers)."""
    offsets = np.arange(-reach, reach + 1)
    own_pixel = (offsets[:, None] == 0) & (offsets[None, :] == 0)
    offsets.setflags(write=False)
    own_pixel.setflags(write=False)
    return offsets, own_pixel


def hits_footprint(centre, radius, pixel):
    """[...] bool: does integer pixel (x, y) belong to the disc's footprint (see `footprints`)?"""
    pixel = np.floor(pixel)
    # x and y apart: numpy reduces over a last axis of 2 slowly
    dx = pixel[..., 0] + 0.5 - centre[..., 0]
    dy = pixel[..., 1] + 0.5 - centre[..., 1]
    return ((dx * dx + dy * dy <= radius * radius)
            | ((pixel[..., 0] == np.floor(centre[..., 0]))
               & (pixel[..., 1] == np.floor(centre[..., 1]))))


def disc_meets_box(centre, radius, corner_a, corner_b):
    """[...] bool: does the disc touch the pixel box spanned by two integer corners (inclusive)?"""
    low = np.minimum(np.floor(corner_a), np.floor(corner_b))
    high = np.maximum(np.floor(corner_a), np.floor(corner_b)) + 1.0
    d = centre - np.clip(centre, low, high)
    return np.sum(d * d, axis=-1) <= radius * radius
