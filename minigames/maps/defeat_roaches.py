"""DefeatRoaches and DefeatZerglingsAndBanelings (pysc2_fidelity.md sections 4.5 and 4.6).

Both maps: the playable area is (22, 20)-(44, 36) with a spawn region on each side, left
(23.97, 25.06)-(27.98, 31.05) and right (38.02, 25.04)-(42.04, 31.08). A side is drawn 50/50; the
marines line up vertically at a random point P_m of one region, at P_m + (0, k) for k = 0, +1, -1,
+2, -2, ..., and the enemy wave stands at a random point P_r of the other. The marines start
selected. When the whole wave is dead, the surviving marines are re-created where the next line
is drawn, with their hit points (as new units), reinforcements join them, a new wave spawns on the
other side by the same rule, and all marines are selected. The game ends after 1920 game loops or
when every marine is dead.

* DefeatRoaches: 9 marines; 4 roaches at P_r + (0, +0.5 / +1.5 / -0.5 / -1.5); +10 per roach killed,
  -1 per marine lost; 5 marines join each new wave.
* DefeatZerglingsAndBanelings: 9 marines; 6 zerglings and 4 banelings all at P_r (the engine's
  separation spreads them); +5 per zergling or baneling death (an exploding baneling counts), -1 per
  marine lost; 4 marines join each new wave.

The enemies have no orders: they stand until a marine comes within their sight, or shoots them.
"""
import numpy as np
from pysc2.lib import units

from minigames.maps.base import MapScript

MARINE = int(units.Terran.Marine)  # ints: numpy compares them faster than IntEnums
LEFT_SPAWN = (23.97, 25.06, 27.98, 31.05)
RIGHT_SPAWN = (38.02, 25.04, 42.04, 31.08)
START_MARINES = 9
MAX_MARINES = 40  # slots: survivors plus reinforcements over the waves of one game


def line_offsets(count):
    """k = 0, +1, -1, +2, -2, ... for a vertical line of `count` units."""
    k = np.arange(count)
    return np.where(k % 2 == 1, (k + 1) // 2, -(k // 2)).astype(np.float64)


class WaveMap(MapScript):
    """The rules both maps share; subclasses give the wave, rewards and reinforcements."""

    wave = ()               # (unit type, (dx, dy) from P_r) per enemy
    kill_reward = 0         # per enemy death
    reinforcements = 0      # marines added for each new wave

    def __init__(self):
        super().__init__()
        # The wave as arrays, built once (numpy converts lists of IntEnums slowly).
        self.wave_types = np.array([unit_type for unit_type, _ in self.wave], np.int32)
        self.wave_offsets = np.array([offset for _, offset in self.wave], np.float64)

    @property
    def max_units(self):
        return MAX_MARINES + len(self.wave)

    def start(self, game, rows):
        self._spawn(game, rows, [np.zeros(0)] * len(rows), START_MARINES)

    def _spawn(self, game, rows, survivors_health, new_marines):
        """Line up the marines (survivors with their hit points, then new ones) and a wave."""
        world = game.world
        envs, marines, health, enemies, types = [], [], [], [], []
        for e, kept in zip(rows, survivors_health):
            rng = game.rngs[e]
            left = rng.random() < 0.5
            marine_region, enemy_region = (LEFT_SPAWN, RIGHT_SPAWN) if left else \
                (RIGHT_SPAWN, LEFT_SPAWN)
            count = min(len(kept) + new_marines, MAX_MARINES)
            p_m = self.uniform_points(rng, marine_region, 1)[0]
            p_r = self.uniform_points(rng, enemy_region, 1)[0]
            marines.append(p_m + np.stack([np.zeros(count), line_offsets(count)], axis=-1))
            health.append(np.concatenate([kept, np.full(count - len(kept), np.nan)])[:count])
            envs.append(np.full(count, e))
            enemies.append(p_r + self.wave_offsets)
            types.append(self.wave_types)
        env = np.concatenate(envs)
        slots = world.spawn(env, MARINE, 1, np.concatenate(marines))
        kept = np.concatenate(health)
        survivor = ~np.isnan(kept)
        world.health[env[survivor], slots[survivor]] = kept[survivor]
        world.selected[env, 0, slots] = True
        world.spawn(np.repeat(rows, len(self.wave)), np.concatenate(types), 2,
                    np.concatenate(enemies))

    def tick(self, game, running):
        world = game.world
        killed = self.deaths(game, 2)
        lost = self.deaths(game, 1, [MARINE])
        world.score += np.where(running, self.kill_reward * killed - lost, 0)
        cleared = running & (self.count(game, 2) == 0)
        if not cleared.any():  # (most loops: then the marines need no counting)
            return
        rows = np.flatnonzero(cleared & (self.count(game, 1, MARINE) > 0))
        if rows.size == 0:
            return
        survivors = []
        for e in rows:
            slots = np.flatnonzero(world.alive[e] & (world.unit_type[e] == MARINE))
            survivors.append(world.health[e, slots].copy())
            world.remove(np.full(len(slots), e), slots)
        self._spawn(game, rows, survivors, self.reinforcements)

    def ended(self, game):
        return self.count(game, 1, MARINE) == 0


class DefeatRoaches(WaveMap):
    name = "DefeatRoaches"
    wave = tuple((units.Zerg.Roach, (0.0, dy)) for dy in (0.5, 1.5, -0.5, -1.5))
    kill_reward = 10
    reinforcements = 5


class DefeatZerglingsAndBanelings(WaveMap):
    name = "DefeatZerglingsAndBanelings"
    wave = tuple([(units.Zerg.Zergling, (0.0, 0.0))] * 6 + [(units.Zerg.Baneling, (0.0, 0.0))] * 4)
    kill_reward = 5
    reinforcements = 4
