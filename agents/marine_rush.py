"""The Simple64 demonstrator: a Terran marine rush from two Barracks, on pysc2's feature-layer actions.

It plays what the original project's 1,000 replays hold (reference_impl.md section 5.3) and is
written like DeepMind's scripted agents: it reads the feature screen and minimap, the player
vector and the selection, and acts with `select_point`, `select_idle_worker`, `select_army`, the
units' screen, quick and minimap commands, one action per agent step. The camera stays on its own
base (where pysc2 puts it at the start), so everything it builds is on the screen; the attack is
ordered on the minimap.

Rules, in order of priority (the economy is `agents.economy`'s):

1. Workers: rally the Command Center to its mineral line, send idle SCVs to mine, train SCVs up to
   MAX_WORKERS.
2. Supply: a Supply Depot when the supply left is at most SUPPLY_MARGIN (+2 per Barracks).
3. Two Barracks once a depot stands; their rally point is set on the minimap in front of the base.
4. Marines from every Barracks (all selected at once, one Train_Marine per step).
5. Attack in waves: whenever WAVE Marines are out (at most every ATTACK_EVERY steps),
   `select_army` and `Attack_minimap` at the enemy the minimap shows nearest the enemy's start
   location, or at that location (the own base mirrored through the centre of the map's pathable
   area, which holds on Simple64's point-symmetric layout). Between waves new Marines gather at
   the rally point, so they do not walk into the enemy one by one.
"""
import numpy as np
from pysc2.lib import actions, features

from agents.economy import BARRACKS, SUPPLY_DEPOT, _TerranEconomy

F = actions.FUNCTIONS
SELF = features.PlayerRelative.SELF
ENEMY = features.PlayerRelative.ENEMY


class MarineRush(_TerranEconomy):
    """Two Barracks, Marines, and attack waves at the enemy's base."""

    MAX_WORKERS = 16
    MAX_BARRACKS = 2
    WAVE = 10           # Marines an attack needs
    ATTACK_EVERY = 24   # agent steps between two attack orders (the army walks meanwhile)
    RESELECT = 25
    RALLY_FRACTION = 0.2  # of the way from the own base to the enemy's

    def reset(self):
        super().reset()
        self._barracks_selected = -self.RESELECT
        self._barracks_rallied = 0  # Barracks that were selected when the rally was set
        self._last_attack = -self.ATTACK_EVERY
        self._home = None   # minimap pixel of the own base
        self._enemy_start = None

    def decide(self):
        self._locate_bases()
        barracks = self.count(BARRACKS)
        margin = self.SUPPLY_MARGIN + 2 * barracks
        return (self.rally_to_minerals() or self.mine_with_idle_workers()
                or (self.supply_needed(margin)
                    and self.build(SUPPLY_DEPOT, F.Build_SupplyDepot_screen))
                or self.attack() or self.train_workers() or self.add_barracks(barracks)
                or self.train_marines(barracks) or None)

    def _locate_bases(self):
        """The own base and the enemy's start location on the minimap (once, at the start)."""
        if self._home is not None:
            return
        minimap = self.obs.feature_minimap
        own = np.argwhere(np.asarray(minimap.player_relative) == SELF)
        pathable = np.argwhere(np.asarray(minimap.pathable) > 0)
        if len(own) == 0 or len(pathable) == 0:
            return
        self._home = own.mean(axis=0)[::-1]  # (x, y)
        centre = pathable.mean(axis=0)[::-1]
        size = np.array(minimap.player_relative.shape[::-1]) - 1
        self._enemy_start = np.clip(2 * centre - self._home, 0, size).round().astype(int)

    def add_barracks(self, barracks):
        if (barracks >= self.MAX_BARRACKS or self.player.minerals < 150
                or self.workers() < 12 or self.under_construction(BARRACKS)
                or not self.screen.mask([SUPPLY_DEPOT], SELF).any()):
            return None
        return self.build(BARRACKS, F.Build_Barracks_screen)

    def train_marines(self, barracks):
        """Select every finished Barracks, rally them (once per new Barracks), then one Marine
        per step; the game queues it at the least busy Barracks."""
        p = self.player
        if p.minerals < 50 or p.food_used >= p.food_cap:
            return None
        finished = self.screen.mask([BARRACKS], SELF) & (self.screen.progress == 0)
        if not finished.any():
            return None
        selected = self.obs.multi_select if len(self.obs.multi_select) else \
            self.obs.single_select
        fresh = self.steps - self._barracks_selected < self.RESELECT
        if fresh and len(selected) and np.all(np.asarray(selected)[:, 0] == BARRACKS):
            if (len(selected) > self._barracks_rallied and self._home is not None
                    and F.Rally_Units_minimap.id in self.available):
                self._barracks_rallied = len(selected)
                rally = self._home + self.RALLY_FRACTION * (self._enemy_start - self._home)
                return F.Rally_Units_minimap("now", rally.round().astype(int))
            if F.Train_Marine_quick.id in self.available:
                return F.Train_Marine_quick("now")
            return None
        self._barracks_selected = self.steps
        return F.select_point("select_all_type", self.screen.points(finished)[0])

    def attack(self):
        """Send the whole army at the enemy when it is a wave."""
        if self._enemy_start is None or self.player.army_count < self.WAVE:
            return None
        if self.steps - self._last_attack < self.ATTACK_EVERY:
            return None
        self._last_attack = self.steps
        target = self._attack_target()

        def order():
            if F.Attack_minimap.id not in self.available:
                return None
            return F.Attack_minimap("now", target)
        self.then(order)
        return F.select_army("select")

    def _attack_target(self):
        """The enemy the minimap shows nearest the enemy's start location, else that location."""
        enemy = np.argwhere(np.asarray(self.obs.feature_minimap.player_relative) == ENEMY)
        if len(enemy) == 0:
            return self._enemy_start
        points = enemy[:, ::-1]
        return points[np.argmin(np.hypot(*(points - self._enemy_start).T))]
