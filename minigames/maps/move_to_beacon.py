"""MoveToBeacon (pysc2_fidelity.md section 4.2).

* a Marine starts unselected at a uniformly random point of the playable area (22, 20)-(44, 36);
* a Beacon_Terran (neutral) is drawn uniformly in (23.5, 21.5)-(42.5, 34.5), outside the disc of
  radius 4 around (33, 28), again and again until it is at least 5 from the marine;
* every game loop, a marine within 1.25 of the beacon scores +1 and the beacon is drawn again;
* 1920 game loops (120 game seconds); the camera is locked at (33, 25).

The beacon is drawn on the feature layers as a disc of radius 1.25 (its reward circle; its model
radius is not in the map data) and cannot be selected (it is neutral).
"""
import numpy as np
from pysc2.lib import units

from minigames.maps.base import MapScript

BEACON = 317  # Beacon_Terran; not in pysc2.lib.units
BEACON_SPAWN = (23.5, 21.5, 42.5, 34.5)
BEACON_SPAWN_HOLE = ((33.0, 28.0), 4.0)
BEACON_MIN_DISTANCE = 5.0
BEACON_RADIUS = 1.25
MARINE = int(units.Terran.Marine)  # an int: numpy compares it faster than an IntEnum


class MoveToBeacon(MapScript):
    name = "MoveToBeacon"
    max_units = 2

    def start(self, game, rows):
        marines, facings, beacons = [], [], []
        for e in rows:
            rng = game.rngs[e]
            x0, y0, x1, y1 = self.playable
            marines.append((rng.uniform(x0, x1), rng.uniform(y0, y1)))
            facings.append(rng.uniform(0.0, 2 * np.pi))
            beacons.append(draw_beacon(rng, marines[-1]))
        slots = game.world.spawn(rows, MARINE, 1, np.array(marines))
        game.world.facing[rows, slots] = facings
        game.world.spawn(rows, BEACON, 0, np.array(beacons))

    def tick(self, game, running):
        world = game.world
        marine = world.alive & (world.unit_type == MARINE)
        beacon = world.alive & (world.unit_type == BEACON)
        marine_pos = np.where(marine[..., None], world.pos, 0.0).sum(axis=1)
        beacon_slot = beacon.argmax(axis=1)
        beacon_pos = world.pos[np.arange(game.num_envs), beacon_slot]
        delta = marine_pos - beacon_pos
        reached = (running & marine.any(axis=1) & beacon.any(axis=1)
                   & (np.sum(delta * delta, axis=1) <= BEACON_RADIUS ** 2))
        for e in np.flatnonzero(reached):
            world.score[e] += 1
            world.pos[e, beacon_slot[e]] = draw_beacon(game.rngs[e], marine_pos[e])


def draw_beacon(rng, marine):
    (hx, hy), hole = BEACON_SPAWN_HOLE
    x0, y0, x1, y1 = BEACON_SPAWN
    while True:
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        if (x - hx) ** 2 + (y - hy) ** 2 < hole * hole:
            continue
        if (x - marine[0]) ** 2 + (y - marine[1]) ** 2 >= BEACON_MIN_DISTANCE ** 2:
            return x, y
