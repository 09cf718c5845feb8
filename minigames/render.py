"""RGB pictures of the game for people.

`screen_rgb` is what the camera shows, at 10 pixels per world unit. `frame_rgb` is what a GIF
shows, laid out as pysc2's own renderer lays out its window: the screen on the left with the score
and game loop written over its top-left corner and, on maps whose playable area is larger than
the camera's view (FindAndDefeatZerglings, Simple64), a minimap at the bottom of a panel on the
right (the whole map, the units the player sees, the camera's view as a white frame).
"""
import numpy as np
from PIL import Image, ImageDraw

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


def has_minimap(game):
    """True when the playable area does not fit in the camera's view."""
    x0, y0, x1, y1 = game.map.playable
    return max(x1 - x0, y1 - y0) > game.view.camera_width


def minimap_rgb(game, row, size, player=1):
    """[size, size, 3] uint8 picture of the whole map: the pathable ground, the units `player`
    sees (as squares of 3 pixels) and the camera's view (a white frame)."""
    world = game.world
    width, height = world.map_size
    scale = size / max(width, height)
    image = np.empty((size, size, 3), np.uint8)
    image[:] = _OUTSIDE
    pathable = game.map.pathable()  # [map height, map width], row 0 at y = 0
    rows, columns = pathable.shape
    cells_y = np.minimum(((size - 0.5 - np.arange(size)) / scale).astype(int), rows - 1)
    cells_x = np.minimum(((np.arange(size) + 0.5) / scale).astype(int), columns - 1)
    image[pathable[cells_y][:, cells_x]] = _GROUND

    def pixel(x, y):
        return int(np.clip(x * scale, 0, size - 1)), int(np.clip(size - y * scale, 0, size - 1))

    seen = np.flatnonzero(game.observers[player - 1].visible_units([row])[0])
    for slot in seen:
        owner = world.owner[row, slot]
        if owner == NEUTRAL:
            colour = _NEUTRAL.get(int(world.unit_type[row, slot]), _RESOURCE)
        else:
            colour = _OWN if owner == player else _ENEMY
        column, line = pixel(*world.pos[row, slot, :2])
        image[max(line - 1, 0):line + 2, max(column - 1, 0):column + 2] = colour
    half = game.view.camera_width / 2
    camera = world.camera[row, player - 1]
    left, top = pixel(camera[0] - half, camera[1] + half)
    right, bottom = pixel(camera[0] + half, camera[1] - half)
    image[top:bottom + 1, [left, right]] = 255
    image[[top, bottom], left:right + 1] = 255
    return image


def frame_rgb(game, row, player=1):
    """[H, W, 3] uint8: the screen with the score and game loop written on it, and the minimap
    beside it on maps that have one (see the module docstring)."""
    screen = screen_rgb(game, row, player)
    if has_minimap(game):
        size = screen.shape[0] // 2
        panel = np.empty((screen.shape[0], size, 3), np.uint8)
        panel[:] = _OUTSIDE
        panel[-size:] = minimap_rgb(game, row, size, player)
        screen = np.concatenate([screen, panel], axis=1)
    picture = Image.fromarray(screen)
    text = f"score {int(game.world.score[row])}   game loop {int(game.world.game_loop[row])}"
    draw = ImageDraw.Draw(picture)
    _, _, right, bottom = draw.textbbox((4, 3), text)
    draw.rectangle((0, 0, right + 4, bottom + 3), fill=(0, 0, 0))
    draw.text((4, 3), text, fill=(255, 255, 255))
    return np.asarray(picture)


def write_gif(frames, path, fps=8):
    """Write RGB frames as an animated GIF (written to a temporary file, then renamed)."""
    pictures = [Image.fromarray(frame) for frame in frames]
    write_atomically(path, lambda temporary: pictures[0].save(
        temporary, format="GIF", save_all=True, append_images=pictures[1:],
        duration=int(1000 / fps), loop=0))
