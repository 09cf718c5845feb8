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
      in the order of the discs (callers must not rely on the order).
    """
    return _footprint_pixels(np.ascontiguousarray(centre, np.float64),
                             np.ascontiguousarray(radius, np.float64), width, height)


@numba.njit(cache=True)
def _footprint_pixels(centre, radius, width, height):
    """`footprints`: a disc covers the pixels within `reach` of its centre's pixel (none beyond
    ceil(radius); a disc of radius under half a pixel covers no other pixel's centre, each being
    at least half a pixel away along x or y) whose centres it holds, and its centre's pixel."""
    reach = np.zeros(len(radius), np.int64)
    for k in range(len(radius)):
        if radius[k] >= 0.5:
            reach[k] = np.int64(np.ceil(radius[k]))
    size = np.sum((2 * reach + 1) ** 2)
    unit, row, col = np.empty(size, np.int64), np.empty(size, np.int64), np.empty(size, np.int64)
    count = 0
    for k in range(len(radius)):
        base_x, base_y = np.int64(np.floor(centre[k, 0])), np.int64(np.floor(centre[k, 1]))
        for y in range(max(base_y - reach[k], 0), min(base_y + reach[k] + 1, height)):
            dy = y + 0.5 - centre[k, 1]
            for x in range(max(base_x - reach[k], 0), min(base_x + reach[k] + 1, width)):
                dx = x + 0.5 - centre[k, 0]
                if dx * dx + dy * dy <= radius[k] * radius[k] or (x == base_x and y == base_y):
                    unit[count], row[count], col[count] = k, y, x
                    count += 1
    return unit[:count], row[:count], col[:count]


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
