"""FindAndDefeatZerglings (pysc2_fidelity.md section 4.4).

* The playable area (10, 12)-(54, 44) is wider than the screen: the camera moves (it starts at
  (32, 25)) and there is fog of war.
* 3 marines start selected at distance 1 from the centre (32, 28), at angles 210, 330 and 90 degrees.
* 25 zerglings (player 2): one at a distance drawn from 8 to 9 from the centre, one in the ring of
  radii 7.5 to 9.5 around it, the rest in (11, 13)-(53, 43) outside the disc of radius 10.5; each at
  least 5 from every zergling before it. They stand until they see a marine or are shot.
* +1 per zergling killed, -1 per marine lost. When all 25 are dead, 25 new ones appear anywhere in
  the playable area, at least 9 from every marine and 5 from each other.
* 2880 game loops (180 game seconds), or until every marine is dead.
"""
import numpy as np
from pysc2.lib import units

from minigames.maps.base import MapScript, far_from

# ints: numpy compares them faster than IntEnums
MARINE = int(units.Terran.Marine)
ZERGLING = int(units.Zerg.Zergling)
CENTRE = np.array([32.0, 28.0])
MARINE_ANGLES = np.radians([210.0, 330.0, 90.0])
ZERGLINGS = 25
OUTER_REGION = (11.0, 13.0, 53.0, 43.0)
INNER_HOLE = 10.5
SPACING = 5.0
RESPAWN_DISTANCE = 9.0


class FindAndDefeatZerglings(MapScript):
    name = "FindAndDefeatZerglings"
    playable = (10.0, 12.0, 54.0, 44.0)
    camera = (32.0, 25.0)
    camera_locked = False
    fog = True
    episode_loops = 2880
    max_units = 3 + ZERGLINGS

    def start(self, game, rows):
        world = game.world
        offsets = np.stack([np.cos(MARINE_ANGLES), np.sin(MARINE_ANGLES)], axis=-1)
        env = np.repeat(rows, 3)
        slots = world.spawn(env, MARINE, 1, np.tile(CENTRE + offsets, (len(rows), 1)))
        world.selected[env, 0, slots] = True
        lings = [self._first_zerglings(game.rngs[e]) for e in rows]
        world.spawn(np.repeat(rows, ZERGLINGS), ZERGLING, 2, np.concatenate(lings))

    def _first_zerglings(self, rng):
        angle = rng.uniform(0, 2 * np.pi)
        points = [CENTRE + rng.uniform(8.0, 9.0) * np.array([np.cos(angle), np.sin(angle)])]
        while len(points) < 2:
            angle, radius = rng.uniform(0, 2 * np.pi), rng.uniform(7.5, 9.5)
            point = CENTRE + radius * np.array([np.cos(angle), np.sin(angle)])
            if np.min(np.hypot(*(np.array(points) - point).T)) >= SPACING:
                points.append(point)
        outer = self.spaced_points(
            rng, OUTER_REGION, ZERGLINGS - len(points), spacing=SPACING, placed=points,
            keep=lambda candidates: np.hypot(*(candidates - CENTRE).T) >= INNER_HOLE)
        return np.concatenate([points, outer])

    def tick(self, game, running):
        world = game.world
        world.score += np.where(running, self.deaths(game, 2, [ZERGLING])
                                - self.deaths(game, 1, [MARINE]), 0)
        cleared = running & (self.count(game, 2) == 0)
        if not cleared.any():  # (most loops: then the marines need no counting)
            return
        for e in np.flatnonzero(cleared & (self.count(game, 1, MARINE) > 0)):
            marines = world.pos[e, world.alive[e] & (world.unit_type[e] == MARINE)]
            points = self.spaced_points(
                game.rngs[e], self.playable, ZERGLINGS, spacing=SPACING,
                keep=lambda candidates: far_from(candidates, marines, RESPAWN_DISTANCE))
            world.spawn(np.full(ZERGLINGS, e), ZERGLING, 2, points)

    def ended(self, game):
        return self.count(game, 1, MARINE) == 0
