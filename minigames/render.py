"""RGB pictures of the screen for people: what the camera shows, at 10 pixels per world unit."""
import numpy as np
from PIL import Image

from minigames.files import write_atomically
from minigames.units import TABLE
from minigames.world import NEUTRAL

PIXELS_PER_UNIT = 10
_OUTSIDE = (20, 20, 28)
_GROUND = (78, 74, 64)
_OWN = (70, 130, 235)
_ENEMY = (220, 70, 60)
_NEUTRAL = {317: (60, 200, 90), 1680: (80, 220, 240)}  # beacon, mineral shard
_RESOURCE = (90, 200, 230)
_SELECTION = (120, 255, 120)


def screen_rgb(game, row, player=1):
    """[H, W, 3] uint8 picture of what `player`'s camera shows in environment `row` of a Game."""
    world = game.world
    width = game.view.camera_width
    size = int(width * PIXELS_PER_UNIT)
    camera = world.camera[row, player - 1]
    x = camera[0] - width / 2 + (np.arange(size) + 0.5) / PIXELS_PER_UNIT
    y = camera[1] + width / 2 - (np.arange(size) + 0.5) / PIXELS_PER_UNIT
    wx, wy = np.meshgrid(x, y)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = _OUTSIDE
    x0, y0, x1, y1 = game.map.playable
    image[(wx >= x0) & (wx <= x1) & (wy >= y0) & (wy <= y1)] = _GROUND
    seen = game.observers[player - 1].visible_units([row])[0]
    slots = np.flatnonzero(seen)
    # Neutral units first, then structures, then units: later ones are drawn on top.
    slots = slots[np.argsort(game.observers[player - 1].draw_priority([row])[0, slots])]
    for slot in slots:  # a picture for people, not the simulation's hot path
        distance = np.hypot(wx - world.pos[row, slot, 0], wy - world.pos[row, slot, 1])
        radius = world.radius[row, slot]
        owner = world.owner[row, slot]
        if owner == NEUTRAL:
            colour = _NEUTRAL.get(int(world.unit_type[row, slot]), _RESOURCE)
        else:
            colour = _OWN if owner == player else _ENEMY
        if world.selected[row, player - 1, slot]:
            image[np.abs(distance - radius - 0.15) <= 0.07] = _SELECTION
        image[distance <= radius] = colour
        if not TABLE.is_structure[world.unit_type[row, slot]] and owner != NEUTRAL:
            ratio = world.health[row, slot] / max(TABLE.max_health[world.unit_type[row, slot]], 1)
            image[(distance <= radius * 0.45) & (ratio < 0.5)] = (250, 200, 60)
    return image


def write_gif(frames, path, fps=8):
    """Write RGB frames as an animated GIF (written to a temporary file, then renamed)."""
    pictures = [Image.fromarray(frame) for frame in frames]
    write_atomically(path, lambda temporary: pictures[0].save(
        temporary, format="GIF", save_all=True, append_images=pictures[1:],
        duration=int(1000 / fps), loop=0))
