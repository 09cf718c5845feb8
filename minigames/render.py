"""RGB pictures of the screen for people: what the camera shows, at 10 pixels per world unit."""
import numpy as np
from PIL import Image

from minigames import move_to_beacon as mtb
from minigames.files import write_atomically

PIXELS_PER_UNIT = 10
_OUTSIDE = (20, 20, 28)
_GROUND = (78, 74, 64)
_BEACON = (60, 200, 90)
_MARINE = (70, 130, 235)
_SELECTION = (120, 255, 120)


def screen_rgb(core, row, camera_width=24.0):
    """[H, W, 3] uint8 picture of environment `row` of a MoveToBeaconCore."""
    size = int(camera_width * PIXELS_PER_UNIT)
    left = mtb.CAMERA_CENTER[0] - camera_width / 2
    top = mtb.CAMERA_CENTER[1] + camera_width / 2
    # World coordinates of every picture pixel's centre.
    x = left + (np.arange(size) + 0.5) / PIXELS_PER_UNIT
    y = top - (np.arange(size) + 0.5) / PIXELS_PER_UNIT
    wx, wy = np.meshgrid(x, y)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = _OUTSIDE
    x0, y0, x1, y1 = mtb.PLAYABLE
    image[(wx >= x0) & (wx <= x1) & (wy >= y0) & (wy <= y1)] = _GROUND

    def distance(centre):
        return np.hypot(wx - centre[0], wy - centre[1])

    beacon = distance(core.beacon[row])
    image[beacon <= mtb.BEACON_RADIUS] = _BEACON
    image[np.abs(beacon - mtb.BEACON_RADIUS) <= 0.08] = (200, 255, 200)
    marine = distance(core.marine[row])
    if core.selected[row]:
        image[np.abs(marine - mtb.MARINE_RADIUS - 0.15) <= 0.07] = _SELECTION
    image[marine <= mtb.MARINE_RADIUS] = _MARINE
    return image


def write_gif(frames, path, fps=8):
    """Write RGB frames as an animated GIF (written to a temporary file, then renamed)."""
    pictures = [Image.fromarray(frame) for frame in frames]
    write_atomically(path, lambda temporary: pictures[0].save(
        temporary, format="GIF", save_all=True, append_images=pictures[1:],
        duration=int(1000 / fps), loop=0))
