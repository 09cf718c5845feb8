"""World <-> feature-layer pixel transforms and unit footprints, vectorised over environments.

The transforms follow pysc2's `features.Features.init_camera` (pysc2_fidelity.md section 2.6):

* world -> world-top-left flips y: (x, map_height - y);
* feature screen: (world_tl - camera_tl) * screen / camera_width + screen / 2;
* feature minimap: world_tl * minimap / max(map width, map height);
* a pixel coordinate is the floor of the continuous one, and a pixel maps back to its centre.

A unit's footprint on a layer is every pixel whose centre lies within the unit's radius, plus the
pixel holding the unit's centre (so a unit smaller than a pixel is still drawn). The same footprint
decides what `select_point` hits, so what an agent clicks is what it sees.
"""
import numpy as np


class LayerTransform:
    """Continuous pixel coordinates of world points on one feature layer of size (width, height)."""

    def __init__(self, size, scale, offset, map_height):
        self.width, self.height = int(size[0]), int(size[1])
        self.scale = np.asarray(scale, dtype=np.float64)  # pixels per world unit, (sx, sy)
        self.offset = np.asarray(offset, dtype=np.float64)  # added after scaling, (ox, oy)
        self.map_height = float(map_height)

    @classmethod
    def screen(cls, size, camera_center, camera_width, map_height):
        scale = np.asarray(size, dtype=np.float64) / camera_width
        camera_tl = np.array([camera_center[0], map_height - camera_center[1]])
        return cls(size, scale, np.asarray(size) / 2.0 - camera_tl * scale, map_height)

    @classmethod
    def minimap(cls, size, map_size):
        scale = np.asarray(size, dtype=np.float64) / max(map_size)
        return cls(size, scale, (0.0, 0.0), map_size[1])

    def to_pixels(self, world_xy):
        """World points [..., 2] -> continuous pixel coordinates [..., 2] (x right, y down)."""
        world_tl = np.stack([world_xy[..., 0], self.map_height - world_xy[..., 1]], axis=-1)
        return world_tl * self.scale + self.offset

    def to_world(self, pixel_xy):
        """Integer pixels [..., 2] -> world coordinates of the pixel centres."""
        world_tl = (np.floor(pixel_xy) + 0.5 - self.offset) / self.scale
        return np.stack([world_tl[..., 0], self.map_height - world_tl[..., 1]], axis=-1)

    def radius_pixels(self, world_radius):
        return world_radius * self.scale[0]

    def pixel_centre_mask(self, world_rect):
        """[height, width] bool: pixel centres inside the world rectangle (x0, y0, x1, y1)."""
        cols = np.arange(self.width)
        rows = np.arange(self.height)
        world = self.to_world(np.stack(np.meshgrid(cols, rows), axis=-1))
        x0, y0, x1, y1 = world_rect
        return ((world[..., 0] >= x0) & (world[..., 0] <= x1)
                & (world[..., 1] >= y0) & (world[..., 1] <= y1))


def footprint(transform, world_xy, world_radius):
    """Pixels covered by one disc per environment.

    Args:
      transform: the layer's LayerTransform.
      world_xy: [N, 2] unit centres in world units.
      world_radius: the unit radius in world units (one value for all N).

    Returns:
      (env, row, col) index arrays of the covered, in-bounds pixels.
    """
    centre = transform.to_pixels(world_xy)
    radius = transform.radius_pixels(world_radius)
    reach = int(np.ceil(radius))
    offsets = np.arange(-reach, reach + 1)
    base = np.floor(centre).astype(np.int64)
    cols = base[:, 0, None, None] + offsets[None, None, :]  # [N, 1, K]
    rows = base[:, 1, None, None] + offsets[None, :, None]  # [N, K, 1]
    dx = cols + 0.5 - centre[:, 0, None, None]
    dy = rows + 0.5 - centre[:, 1, None, None]
    inside = dx * dx + dy * dy <= radius * radius
    inside = inside | ((offsets[None, :, None] == 0) & (offsets[None, None, :] == 0))
    inside &= (cols >= 0) & (cols < transform.width) & (rows >= 0) & (rows < transform.height)
    env, row_i, col_i = np.nonzero(inside)
    return env, rows[env, row_i, 0], cols[env, 0, col_i]


def hits_footprint(transform, world_xy, world_radius, pixel_xy):
    """[N] bool: does integer pixel (x, y) belong to the disc's footprint (see `footprint`)?"""
    centre = transform.to_pixels(world_xy)
    radius = transform.radius_pixels(world_radius)
    pixel = np.floor(pixel_xy)
    d = pixel + 0.5 - centre
    return (np.sum(d * d, axis=-1) <= radius * radius) | np.all(pixel == np.floor(centre), axis=-1)


def disc_meets_box(transform, world_xy, world_radius, corner_a, corner_b):
    """[N] bool: does the disc touch the pixel box spanned by two integer corners (inclusive)?"""
    centre = transform.to_pixels(world_xy)
    radius = transform.radius_pixels(world_radius)
    low = np.minimum(np.floor(corner_a), np.floor(corner_b))
    high = np.maximum(np.floor(corner_a), np.floor(corner_b)) + 1.0
    nearest = np.clip(centre, low, high)
    d = centre - nearest
    return np.sum(d * d, axis=-1) <= radius * radius
