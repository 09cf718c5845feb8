"""The built-in opponent of the full game: a scripted Terran player, stronger with difficulty.

It plays through the same functions as the interface (`economy.gather`, `production.train`,
`production.build`, `production.set_rally`, `World.give_orders`), for all environments at once,
every BOT_PERIOD game loops. What it does, in order of priority, wherever it can afford it:

1. Idle workers gather the mineral field nearest to them around its Command Center.
2. The Command Center trains SCVs up to the difficulty's worker count.
3. A Supply Depot when fewer than SUPPLY_MARGIN supply is left (one at a time), then Barracks up
   to the difficulty's count, at the first free spot of a ring of candidate spots around the
   Command Center (checked by the placement rules), each built by a mining worker.
4. Every finished Barracks keeps a Marine in training, up to the difficulty's army size; new Marines gather at a rally point
   between the Command Center and the map's centre.
5. Defence: when enemy units come within DEFENCE_RADIUS of its Command Center, every Marine
   attack-moves to the nearest of them.
6. Attack waves: from the difficulty's first attack time, once it has a wave of Marines at home,
   they attack-move to the enemy's start location, and on to the enemy's nearest structure
   until none is left. The bot knows where the enemy's structures are (the game's built-in AI
   also plays with knowledge the agent has to scout for).

Difficulties (a reading: the game's built-in AI is not published; these give a rising strength):

| difficulty | SCVs | Barracks | Marines at most | wave | first attack |
|---|---|---|---|---|---|
| very_easy | 12 (no new ones) | 1 | 6 | 6 Marines | 9:00 game time |
| easy | 16 | 1 | 16 | 8 | 7:30 |
| medium | 20 | 2 | 40 | 8 | 6:00 |
"""
import dataclasses

import numpy as np
from pysc2.lib import units

from minigames import economy, placement, production
from minigames.units import TABLE
from minigames.world import Order, nonzero

# Unit types as ints (numpy compares them faster than IntEnums).
SCV, MARINE = int(units.Terran.SCV), int(units.Terran.Marine)
COMMAND_CENTER, SUPPLY_DEPOT = int(units.Terran.CommandCenter), int(units.Terran.SupplyDepot)
BARRACKS = int(units.Terran.Barracks)
BOT_PERIOD = 16            # game loops between two decisions (one game second)
SUPPLY_MARGIN = 4          # build a depot when food cap - food used falls to this
DEFENCE_RADIUS = 15.0
GATHER_RADIUS = 12.0       # mineral fields this close to the Command Center are its own
RALLY_DISTANCE = 8.0       # from the Command Center towards the map's centre
LOOPS_PER_MINUTE = 16 * 60


@dataclasses.dataclass(frozen=True)
class Difficulty:
    workers: int
    barracks: int
    marines: int  # at most, alive or in training
    wave: int
    first_attack: int  # game loop


DIFFICULTIES = {
    "very_easy": Difficulty(workers=12, barracks=1, marines=6, wave=6,
                            first_attack=9 * LOOPS_PER_MINUTE),
    "easy": Difficulty(workers=16, barracks=1, marines=16, wave=8,
                       first_attack=int(7.5 * LOOPS_PER_MINUTE)),
    "medium": Difficulty(workers=20, barracks=2, marines=40, wave=8,
                         first_attack=6 * LOOPS_PER_MINUTE),
}


def spot_ring(centre, inner=5.0, outer=11.0, step=1.0):
    """[K, 2] candidate building spots around a Command Center, nearest first."""
    offsets = np.arange(-outer, outer + step, step)
    dx, dy = np.meshgrid(offsets, offsets)
    points = np.stack([dx.ravel(), dy.ravel()], axis=-1)
    distance = np.hypot(points[:, 0], points[:, 1])
    points = points[(distance >= inner) & (distance <= outer)]
    return centre + points[np.argsort(np.hypot(points[:, 0], points[:, 1]), kind="stable")]


class TerranBot:
    """The scripted player `player` of a Game, at one difficulty (a key of DIFFICULTIES)."""

    def __init__(self, player, difficulty):
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"The embedded game's built-in AI plays {', '.join(DIFFICULTIES)}; "
                             f"got {difficulty!r}.")
        self.player = player
        self.difficulty = difficulty
        self.settings = DIFFICULTIES[difficulty]

    # ---------------------------------------------------------------------------- helpers
    def _own(self, world, unit_type=None):
        mask = world.alive & (world.owner == self.player)
        if unit_type is not None:
            mask &= world.unit_type == unit_type
        return mask

    @staticmethod
    def _first_slot(mask):
        """([E] bool: the row has one, [E] its first slot)."""
        return mask.any(axis=1), mask.argmax(axis=1)

    # ---------------------------------------------------------------------------- acting
    def act(self, game, rows):
        """One decision in each environment of `rows` (games that are running)."""
        if rows.size == 0:  # (no game decides in 15 loops of 16)
            return
        world = game.world
        has_hall, hall = self._first_slot(self._own(world, COMMAND_CENTER)
                                          & (world.build_progress >= 1.0))
        rows = rows[has_hall[rows]]
        if rows.size == 0:
            return
        self._gather(game, rows, hall)
        self._train_workers(game, rows, hall)
        self._build(game, rows, hall)
        self._train_marines(game, rows, hall)
        self._fight(game, rows, hall)

    def _gather(self, game, rows, hall):
        world = game.world
        idle = game.interface.idle_workers(self.player)[rows]
        r, worker = nonzero(idle)
        if r.size == 0:
            return
        env = rows[r]
        fields = (world.alive[env] & (world.minerals_left[env] > 0)
                  & economy.IS_MINERAL_FIELD[world.unit_type[env]])
        hall_pos = world.pos[env, hall[env]]
        fields &= np.hypot(*(world.pos[env] - hall_pos[:, None, :]).transpose(2, 0, 1)) \
            <= GATHER_RADIUS
        distance = np.hypot(*(world.pos[env] - world.pos[env, worker][:, None, :]).transpose(
            2, 0, 1))
        has = fields.any(axis=1)
        field = np.where(fields, distance, np.inf).argmin(axis=1)
        economy.gather(game, env[has], worker[has], field[has])

    def _train_workers(self, game, rows, hall):
        world = game.world
        workers = self._own(world, SCV)[rows].sum(axis=1) + world.queue_count[rows, hall[rows]]
        due = rows[(workers < self.settings.workers) & (world.queue_count[rows, hall[rows]] == 0)
                   & (world.minerals[rows, self.player - 1] >= TABLE.minerals[SCV])]
        production.train(game, due, hall[due], np.full(len(due), SCV))

    def _build(self, game, rows, hall):
        world = game.world
        used, cap = production.food(world, self.player)
        building = ((world.order_kind[:, :, 0] == Order.BUILD) & self._own(world)
                    & (world.order_count > 0))
        depots_pending = ((building & (world.order_build_type[:, :, 0] == SUPPLY_DEPOT)).any(1)
                          | (self._own(world, SUPPLY_DEPOT) & (world.build_progress < 1.0)).any(1))
        barracks = (self._own(world, BARRACKS).sum(axis=1)
                    + (building & (world.order_build_type[:, :, 0] == BARRACKS)).sum(axis=1))
        has_depot = (self._own(world, SUPPLY_DEPOT) & (world.build_progress >= 1.0)).any(axis=1)
        minerals = world.minerals[:, self.player - 1]
        need_depot = ((cap - used <= SUPPLY_MARGIN) & (cap < production.MAX_FOOD)
                      & ~depots_pending & (minerals >= TABLE.minerals[SUPPLY_DEPOT]))
        need_barracks = (~need_depot & has_depot & (barracks < self.settings.barracks)
                         & (minerals >= TABLE.minerals[BARRACKS]))
        for unit_type, need in ((SUPPLY_DEPOT, need_depot), (BARRACKS, need_barracks)):
            due = rows[need[rows]]
            if due.size:
                self._place(game, due, hall, unit_type)

    def _place(self, game, rows, hall, unit_type):
        """Order a mining worker of each game in `rows` to build at its first free spot."""
        world = game.world
        workers = (self._own(world, SCV)[rows] & (world.order_kind[rows, :, 0] == Order.GATHER)
                   & ~economy.carries(world)[rows])
        has_worker, worker = self._first_slot(workers)
        rows, worker = rows[has_worker], worker[has_worker]
        if rows.size == 0:
            return
        spots = np.stack([spot_ring(world.pos[e, hall[e]]) for e in rows])  # [R, C, 2]
        count = spots.shape[1]
        env = np.repeat(rows, count)
        centres = placement.snap(np.full(len(env), unit_type),
                                            spots.reshape(-1, 2))
        free = (game.ground.placement_error(env, np.full(len(env), unit_type), centres)
                == production.OK).reshape(len(rows), count)
        has_spot = free.any(axis=1)
        spot = spots[np.arange(len(rows)), free.argmax(axis=1)]
        production.build(game, rows[has_spot], worker[has_spot],
                         np.full(has_spot.sum(), unit_type), spot[has_spot])

    def _train_marines(self, game, rows, hall):
        world = game.world
        army = (self._own(world, MARINE).sum(axis=1)
                + np.where(self._own(world, BARRACKS), world.queue_count, 0).sum(axis=1))
        rows = rows[army[rows] < self.settings.marines]
        ready = (self._own(world, BARRACKS) & (world.build_progress >= 1.0)
                 & (world.queue_count == 0))[rows]
        r, barracks = nonzero(ready)
        env = rows[r]
        if env.size == 0:
            return
        centre = np.array(game.map.map_size) / 2.0
        hall_pos = world.pos[env, hall[env]]
        toward = centre - hall_pos
        rally = hall_pos + RALLY_DISTANCE * toward / np.maximum(
            np.hypot(*toward.T), 1e-9)[:, None]
        if game.pathing is not None:
            rally = game.pathing.nearest_pathable(rally)
        production.set_rally(game, env, barracks, rally)
        production.train(game, env, barracks, np.full(len(env), MARINE))

    def _fight(self, game, rows, hall):
        world = game.world
        marines = self._own(world, MARINE)
        enemy = world.alive & (world.owner != self.player) & (world.owner != 0)
        hall_pos = world.pos[np.arange(world.num_envs), hall]
        near_home = enemy & (np.hypot(*(world.pos - hall_pos[:, None, :]).transpose(2, 0, 1))
                             <= DEFENCE_RADIUS)
        threatened = rows[near_home[rows].any(axis=1)]
        for env in threatened:  # a few games per decision, not per unit
            target = world.pos[env, near_home[env]].mean(axis=0)
            self._attack_move(world, env, marines[env], target)
        calm = rows[~near_home[rows].any(axis=1)]
        idle_army = marines & (world.order_count == 0)
        wave = calm[(world.game_loop[calm] >= self.settings.first_attack)
                    & (idle_army[calm].sum(axis=1) >= self.settings.wave)]
        structures = enemy & world.per_type(TABLE.is_structure)
        for env in wave:
            if not structures[env].any():
                continue
            positions = world.pos[env, structures[env]]
            army = world.pos[env, marines[env]].mean(axis=0)
            target = positions[np.hypot(*(positions - army).T).argmin()]
            self._attack_move(world, env, marines[env] & (world.order_count[env] == 0), target)

    @staticmethod
    def _attack_move(world, env, mask, target):
        slots = np.flatnonzero(mask)
        world.give_orders(np.full(len(slots), env), slots, Order.ATTACK,
                          np.tile(target, (len(slots), 1)))
