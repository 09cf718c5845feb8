"""Simple64: a two-player Terran melee game on the 88 x 96 map (engine_data.md section 3).

* Terrain: the pathable, buildable and height grids decoded from the map file
  (`simple64_terrain.py`): two mains on high ground, each reached by one ramp, and two lowground
  bases; units walk around cliffs (`minigames.pathing`).
* Each player starts at one of the two start locations, (28.5, 60.5) or (59.5, 27.5), drawn 50/50
  for player 1 every game: a Command Center on the start location, 12 SCVs in an arc in front of
  it towards its mineral line, 50 minerals (supply 12 of 15). The camera starts on the player's
  Command Center. Melee starts are not in the map data; these are the usual melee values (a
  stated reading).
* Resources: every base's 4 MineralField (1,800 minerals), 4 MineralField750 (900) and 2
  VespeneGeyser (2,250 gas), the two rocks; all neutral.
* Fog of war for both players.
* The game ends when a player has no structure left (the other wins) or after 28,800 game loops
  (pysc2's 30-minute limit for melee maps; a tie).
"""
import numpy as np
from pysc2.lib import units

from minigames.maps import simple64_terrain as terrain
from minigames.maps.base import MapScript
from minigames.units import TABLE
from minigames.world import OWNERS, owner_key

COMMAND_CENTER = int(units.Terran.CommandCenter)  # ints: numpy compares them faster than IntEnums
SCV = int(units.Terran.SCV)
START_WORKERS = 12
START_MINERALS = 50
_FIELD_TYPES = {"MineralField": units.Neutral.MineralField,
                "MineralField750": units.Neutral.MineralField750}
_MAIN_OF_START = ("top_left_main", "bottom_right_main")


class Simple64(MapScript):
    name = "Simple64"
    map_size = terrain.MAP_SIZE
    playable = terrain.PLAYABLE
    camera = terrain.START_LOCATIONS[0]
    camera_locked = False
    fog = True
    episode_loops = 28800
    max_units = 256
    players = 2

    def __init__(self):
        super().__init__()
        self.terrain = terrain.load()

    def pathable(self):
        return self.terrain.pathable.copy()

    def buildable(self):
        return self.terrain.buildable.copy()

    def height_grid(self):
        return self.terrain.height.copy()

    def start(self, game, rows):
        world = game.world
        # Player 1's start location, drawn per game; player 2 takes the other.
        first = np.array([int(game.rngs[e].random() < 0.5) for e in rows])
        for player in (1, 2):
            location = np.where(player == 1, first, 1 - first)
            centre = np.array(terrain.START_LOCATIONS)[location]
            world.spawn(rows, COMMAND_CENTER, player, centre)
            world.camera[rows, player - 1] = centre
            main = [_MAIN_OF_START[k] for k in location]
            fields = np.array([np.mean([f[:2] for f in terrain.MINERAL_FIELDS[m]], axis=0)
                               for m in main])
            world.spawn(np.repeat(rows, START_WORKERS), SCV, player,
                        worker_arc(centre, fields).reshape(-1, 2))
            world.minerals[rows, player - 1] = START_MINERALS
        for fields in terrain.MINERAL_FIELDS.values():
            world.spawn(np.repeat(rows, len(fields)),
                        np.tile([_FIELD_TYPES[kind] for _, _, kind in fields], len(rows)), 0,
                        np.tile([(x, y) for x, y, _ in fields], (len(rows), 1)))
        geysers = [g for pair in terrain.GEYSERS.values() for g in pair]
        world.spawn(np.repeat(rows, len(geysers)), units.Neutral.VespeneGeyser, 0,
                    np.tile(geysers, (len(rows), 1)))
        world.spawn(np.repeat(rows, len(terrain.ROCKS)), units.Neutral.UnbuildableRocksDestructible,
                    0, np.tile(terrain.ROCKS, (len(rows), 1)))

    def ended(self, game):
        lost = self.lost(game)
        return lost[:, 0] | lost[:, 1]

    def outcome(self, game):
        """[E, 2] +1 win, -1 loss, 0 tie (or not over) for players 1 and 2."""
        lost = self.lost(game)
        return np.where(lost, -1, np.where(lost[:, ::-1], 1, 0))

    @staticmethod
    def lost(game):
        """[E, 2] bool: players 1 and 2 have no structure left."""
        world = game.world
        # (one pass for both players, every game loop: each structure marks (env, owner))
        structure = (world.alive & world.per_type(TABLE.is_structure)).ravel().nonzero()[0]
        has = np.zeros((world.num_envs, OWNERS), bool)  # owners 0 (neutral), 1, 2
        has.ravel()[owner_key(structure, world.owner)] = True
        return ~has[:, 1:]


def worker_arc(centre, towards, count=START_WORKERS, distance=3.75):
    """[K, count, 2] positions on an arc in front of each Command Center centre [K, 2], facing the
    point `towards` [K, 2] (its mineral line), 0.75 apart."""
    heading = np.arctan2(towards[:, 1] - centre[:, 1], towards[:, 0] - centre[:, 0])
    spread = 0.75 / distance * (np.arange(count) - (count - 1) / 2)
    angle = heading[:, None] + spread[None, :]
    return centre[:, None, :] + distance * np.stack([np.cos(angle), np.sin(angle)], axis=-1)
