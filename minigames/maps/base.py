"""What every map script provides: its geometry, its units at the start, its rules each game loop.

A map is a small script over the engine's core (`minigames.game.Game`): `start` spawns the units
of new games, `tick` runs after the systems every game loop (scores, respawns, waves) and `ended`
says which games are over. Everything else (movement, combat, the interface, observations) is
the core's and is the same on every map.
"""
import numpy as np

from minigames.units import TABLE
from minigames.world import any_true


class MapScript:
    """Defaults shared by the SC2LE mini-games (pysc2_fidelity.md section 4.1)."""

    name = None
    map_size = (64, 64)          # world units (width, height)
    playable = (22.0, 20.0, 44.0, 36.0)  # region 1 of the map: x0, y0, x1, y1
    camera = (33.0, 25.0)        # where the camera starts (centre of region 1, 3 units south)
    camera_locked = True         # move_camera is accepted but the camera stays (a stated reading)
    fog = False                  # False: region 1 is revealed to player 1 (VisRevealArea)
    episode_loops = 1920         # the map's timer
    max_units = 32               # unit slots per environment
    step_mul = 8
    height = 132                 # height_map value of the flat ground (height 7.5)
    players = 1                  # agent players; player 2, when present, is the map's

    def __init__(self):
        self.functions = TABLE.functions  # [type, function]: command cards (a map may reduce them)

    def pathable(self):
        """[map height, map width] bool grid, row 0 at the top (world y = map height)."""
        return self.region_grid(self.playable)

    def buildable(self):
        return self.region_grid(self.playable)

    def height_grid(self):
        """[map height, map width] height_map values (flat ground inside the playable area)."""
        return np.where(self.region_grid(self.playable), self.height, 0).astype(np.int32)

    def region_grid(self, rect):
        width, height = self.map_size
        x = np.arange(width) + 0.5
        y = height - (np.arange(height) + 0.5)
        x0, y0, x1, y1 = rect
        return ((x[None, :] >= x0) & (x[None, :] <= x1)
                & (y[:, None] >= y0) & (y[:, None] <= y1))

    def start(self, game, rows):
        """Spawn the first units of new games in environments `rows` (the world is empty)."""
        raise NotImplementedError

    def tick(self, game, running):
        """Scoring and the map's triggers, after the systems of one game loop."""

    def ended(self, game):
        """[E] bool: games the map's triggers have ended (besides its timer)."""
        return np.zeros(game.num_envs, bool)

    def outcome(self, game):
        """[E, 2] each player's result, pysc2's +1 win, -1 loss, 0 tie (or not over). Mini-games
        are scored, never won: always 0."""
        return np.zeros((game.num_envs, 2), np.int64)

    # Helpers for scripts.
    @staticmethod
    def uniform_points(rng, rect, count):
        x0, y0, x1, y1 = rect
        return np.stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)], axis=-1)

    @staticmethod
    def points_away_from(rng, rect, count, others, min_distance):
        """`count` uniform points of `rect`, each drawn again until it is at least `min_distance`
        from every point of `others` [K, 2]."""
        return MapScript.spaced_points(rng, rect, count, keep=lambda points: far_from(
            points, others, min_distance))

    @staticmethod
    def spaced_points(rng, rect, count, keep=None, spacing=None, placed=()):
        """`count` uniform points of `rect` drawn one after another (x, then y), each kept when
        `keep(points [K, 2]) -> [K] bool` allows it and it is at least `spacing` from the points
        of `placed` and those kept before it (else drawn again).

        Candidates are drawn in blocks, and the generator is then wound back to just after the
        last candidate looked at, so it is left as the one-by-one loop would leave it and the
        games are the same."""
        x0, y0, x1, y1 = rect
        kept = []
        while len(kept) < count:
            state = rng.bit_generator.state
            block = rng.uniform((x0, y0), (x1, y1), size=(4 * count, 2))
            allowed = np.ones(len(block), bool) if keep is None else keep(block)
            if spacing is not None:
                allowed &= far_from(block, np.reshape(list(placed) + kept, (-1, 2)), spacing)
            x, y = block[:, 0].copy(), block[:, 1].copy()
            used = 0
            while len(kept) < count and used < len(block):
                # The next allowed candidate from `used` on (argmax: the first True, if any).
                used += int(allowed[used:].argmax())
                if not allowed[used]:
                    used = len(block)
                    break
                kept.append(block[used])
                used += 1
                if spacing is not None:  # far_from(block, kept point) for the candidates after it
                    rest = slice(used, None)
                    allowed[rest] &= np.hypot(x[rest] - x[used - 1], y[rest] - y[used - 1]) \
                        >= spacing
            rng.bit_generator.state = state
            rng.bit_generator.advance(2 * used)  # one 64-bit draw per coordinate
        return np.array(kept)

    @staticmethod
    def count(game, owner, unit_type=None):
        """[E] number of living units of an owner (and type)."""
        mask = game.world.alive & (game.world.owner == owner)
        if unit_type is not None:
            mask &= game.world.unit_type == unit_type
        return mask.sum(axis=1)

    @staticmethod
    def deaths(game, owner, unit_types=None):
        """[E] units of `owner` (of `unit_types`) that died in this game loop."""
        world = game.world
        if not any_true(world.died):
            return np.zeros(game.num_envs, np.int64)
        mask = world.died & (world.died_owner == owner)
        if unit_types is not None:  # a comparison per type is cheaper than a table lookup
            of_types = world.died_type == unit_types[0]
            for unit_type in unit_types[1:]:
                of_types |= world.died_type == unit_type
            mask &= of_types
        return mask.sum(axis=1)


def far_from(points, others, min_distance):
    """[K] bool: points [K, 2] at least `min_distance` from every point of `others` [M, 2]."""
    if len(others) == 0:
        return np.ones(len(points), bool)
    distance = np.hypot(points[:, None, 0] - others[None, :, 0],
                        points[:, None, 1] - others[None, :, 1])
    return distance.min(axis=1) >= min_distance
