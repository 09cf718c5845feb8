"""CollectMineralShards (pysc2_fidelity.md section 4.3).

* 2 marines start unselected at random points of the playable area (22, 20)-(44, 36);
* 20 mineral shards (NaturalMinerals, neutral) lie at random points of (23, 21)-(43, 35), each at
  least 2 from the closest marine; when none is left, 20 new ones are drawn by the same rule;
* a marine picks up a shard by touching it: +100 minerals, and the curriculum score (minerals / 100)
  rises by 1;
* 1920 game loops; the camera is locked at (33, 25).

"Touching" is this engine's reading of the Liberty mod's pick-up: the marine's disc meets the
shard's (centres within 0.375 + 0.5). With it pysc2's RandomAgent scores 14 (SC2LE: 17); the
shard's radius is not in any published data.
"""
import numpy as np
from pysc2.lib import units

from minigames.maps.base import MapScript
from minigames.units import TABLE
from minigames.world import compact, gather, nonzero

MARINE = int(units.Terran.Marine)  # ints: numpy compares them faster than IntEnums
SHARD = 1680  # NaturalMinerals; not in pysc2.lib.units
SHARD_AREA = (23.0, 21.0, 43.0, 35.0)
SHARD_COUNT = 20
SHARD_MIN_DISTANCE = 2.0
MINERALS_PER_SHARD = 100


class CollectMineralShards(MapScript):
    name = "CollectMineralShards"
    max_units = 2 + SHARD_COUNT

    def start(self, game, rows):
        marines = np.concatenate([self.uniform_points(game.rngs[e], self.playable, 2)
                                  for e in rows])
        game.world.spawn(np.repeat(rows, 2), MARINE, 1, marines)
        self._spawn_shards(game, rows)

    def _spawn_shards(self, game, rows):
        world = game.world
        shards = []
        for e in rows:
            marines = world.pos[e, world.alive[e] & (world.unit_type[e] == MARINE)]
            shards.append(self.points_away_from(game.rngs[e], SHARD_AREA, SHARD_COUNT, marines,
                                                SHARD_MIN_DISTANCE))
        world.spawn(np.repeat(rows, SHARD_COUNT), SHARD, 0, np.concatenate(shards))

    def tick(self, game, running):
        world = game.world
        marine_slot, marine_ok = compact(world.alive & (world.unit_type == MARINE)
                                         & running[:, None])
        shard = world.alive & (world.unit_type == SHARD)
        delta = gather(world.pos, marine_slot)[:, :, None, :] - world.pos[:, None, :, :]
        reach = TABLE.radius[MARINE] + TABLE.radius[SHARD]
        touching = ((delta[..., 0] ** 2 + delta[..., 1] ** 2 <= reach * reach)
                    & marine_ok[:, :, None]).any(axis=1) & shard  # [E, U]
        env, slot = nonzero(touching)
        if env.size:
            world.remove(env, slot)
            gained = np.bincount(env, minlength=game.num_envs)
            world.minerals[:, 0] += MINERALS_PER_SHARD * gained
            world.score += gained
            shard[env, slot] = False
        empty = running & ~shard.any(axis=1)
        if empty.any():
            self._spawn_shards(game, np.flatnonzero(empty))
