"""The Simple64 demonstrator: a Terran marine rush from two Barracks, on pysc2's feature-layer actions.

It plays what the original project's 1,000 replays hold (reference_impl.md section 5.3) and is
written like DeepMind's scripted agents: it reads the feature screen and minimap, the player
vector and the selection, and acts with `select_point`, `select_idle_worker`, `select_army`, the
units' screen, quick and minimap commands, one action per agent step. The camera stays on its own
base (where pysc2 puts it at the start), so everything it builds is on the screen; the attack is
ordered on the minimap.

Rules, in order of priority (the economy and the Barracks are `agents.economy.BuildMarines`'):

1. Workers: rally the Command Center to its mineral line, send idle SCVs to mine, train SCVs up to
   MAX_WORKERS.
2. Supply: a Supply Depot when the supply left is at most SUPPLY_MARGIN (+2 per Barracks).
3. Two Barracks once a depot stands; their rally point is set on the minimap in front of the base.
4. Marines from every Barracks (all selected at once, one Train_Marine per step).
5. Attack in waves: when the army is at least WAVE Marines and at least REINFORCEMENT of them
   stand idle on the screen (at the rally point: fresh ones, or the whole first wave),
   `select_army` and `Attack_minimap` at the enemy the minimap shows nearest the enemy's start
   location, or at that location (the own base mirrored through the centre of the map's pathable
   area, which holds on Simple64's point-symmetric layout). The whole army is sent, so Marines
   already at the enemy base go on to its next structure.

Every rule reads only what the observation shows (the attack: `player.army_count` and the Marines'
`order_length` in `feature_units`, which it needs), never a timer of its own, so a network that
imitates it can tell from its input when to attack. And with probability PAUSE it waits a step
(a no_op) instead of deciding (drawn from numpy's global generator, which `minigames.play
--seed` seeds): recorded games then differ in their timing, so an imitator learns to act on what
it sees rather than on the game loop (DART, Laskey et al. 2017, injects noise into the
demonstrator for the same reason). The pause never falls between a selection and its command.

A refused build (`action_result`) is ordered again at once (at another free spot when the spot
was at fault), instead of after BUILD_WAIT steps (the SCV is not walking anywhere).

With probability EARLY_BUILD per step (default 0) it orders a building when its minerals are short
of the cost by at most EARLY_MINERALS: the game refuses the order (NotEnoughMinerals) and the
recorded games show the recovery, ordering it again once the minerals suffice, with the
demonstrator's own choices as the labels. The SL agent's lost games began with a refused build it
then waited for forever; trained with 0.2 in half its games it lost fewer games but tied more (it
went on building Supply Depots), the same win rate in all (README, Simple64), so it is off.

With probability BUILD_NOISE (default 0) a Build command's point is moved by up to
BUILD_NOISE_UNITS world units in x and y (uniform on whole pixels), so that some builds are
refused for their spot. It is off because a replay records the moved point, so the imitator
learns the noise as well as the recovery: an agent trained with 0.3 in its games won less often
than one trained without (README, Simple64).
"""
import numpy as np
from pysc2.lib import actions, features, units

from agents.economy import BuildMarines

F = actions.FUNCTIONS
SELF = features.PlayerRelative.SELF
ENEMY = features.PlayerRelative.ENEMY
FU = features.FeatureUnit
MARINE = int(units.Terran.Marine)


class MarineRush(BuildMarines):
    """BuildMarines' economy with two Barracks, a rally point, and attack waves."""

    MAX_WORKERS = 16
    MAX_BARRACKS = 2
    BARRACKS_AT = 12
    WAVE = 10           # Marines an attack needs
    REINFORCEMENT = 3   # idle Marines at the rally point that send the army (again)
    PAUSE = 0.1         # chance of a no_op instead of a decision
    RALLY_FRACTION = 0.2  # of the way from the own base to the enemy's
    BUILD_NOISE = 0.0   # chance a Build command's point is moved (see the docstring)
    BUILD_NOISE_UNITS = 3.0  # by up to this many world units in x and y
    EARLY_BUILD = 0.0  # chance per step of ordering a building EARLY_MINERALS early (docstring)
    EARLY_MINERALS = 50

    def reset(self):
        super().reset()
        self._barracks_rallied = 0  # Barracks that were selected when the rally was set
        self._home = None   # minimap pixel of the own base
        self._enemy_start = None

    def decide(self):
        if "feature_units" not in self.obs:
            raise ValueError("MarineRush needs feature_units (use_feature_units=True in the "
                             "AgentInterfaceFormat; minigames.play reports them by default).")
        self._locate_bases()
        if np.random.random() < self.PAUSE:
            return None
        return super().decide()

    def affordable(self, cost):
        """The minerals pay for it, or with probability EARLY_BUILD they are short by at most
        EARLY_MINERALS (the game refuses the order, see the docstring)."""
        minerals = self.player.minerals
        if minerals >= cost:
            return True
        # (no draw when it is off, so the games are those of the demonstrator without it)
        return (self.EARLY_BUILD > 0 and minerals >= cost - self.EARLY_MINERALS
                and np.random.random() < self.EARLY_BUILD)

    def placement(self, spot):
        """The free spot, or with probability BUILD_NOISE a point up to BUILD_NOISE_UNITS away
        (on the screen)."""
        if np.random.random() >= self.BUILD_NOISE:
            return spot
        reach = int(round(self.BUILD_NOISE_UNITS * self.screen.pixels_per_unit))
        moved = np.asarray(spot) + np.random.randint(-reach, reach + 1, size=2)
        return np.clip(moved, 0, [self.screen.width - 1, self.screen.height - 1])

    def _note_refusals(self):
        """Besides never using a refused spot again, order that building again at once."""
        refused = self._last_build is not None and len(self.obs.action_result) > 0
        unit_type = self._last_build[0] if refused else None
        super()._note_refusals()
        if refused:
            self._ordered.pop(unit_type, None)

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

    def command_barracks(self, count):
        """Rally the selected Barracks in front of the base when new ones joined, else train."""
        if (count > self._barracks_rallied and self._home is not None
                and F.Rally_Units_minimap.id in self.available):
            self._barracks_rallied = count
            rally = self._home + self.RALLY_FRACTION * (self._enemy_start - self._home)
            return F.Rally_Units_minimap("now", rally.round().astype(int))
        return super().command_barracks(count)

    def fight(self):
        """Send the whole army at the enemy when it is a wave and Marines wait at the rally."""
        if self._enemy_start is None or self.player.army_count < self.WAVE:
            return None
        if self._idle_marines_on_screen() < self.REINFORCEMENT:
            return None
        target = self._attack_target()

        def order():
            if F.Attack_minimap.id not in self.available:
                return None
            return F.Attack_minimap("now", target)
        self.then(order)
        return F.select_army("select")

    def _idle_marines_on_screen(self):
        rows = np.asarray(self.obs.feature_units).reshape(-1, len(FU))
        return int(((rows[:, FU.unit_type] == MARINE) & (rows[:, FU.alliance] == SELF)
                    & (rows[:, FU.order_length] == 0)).sum())

    def _attack_target(self):
        """The enemy the minimap shows nearest the enemy's start location, else that location."""
        enemy = np.argwhere(np.asarray(self.obs.feature_minimap.player_relative) == ENEMY)
        if len(enemy) == 0:
            return self._enemy_start
        points = enemy[:, ::-1]
        return points[np.argmin(np.hypot(*(points - self._enemy_start).T))]
