"""Scripted agents for CollectMineralsAndGas and BuildMarines, on pysc2's feature-layer actions.

Written like `pysc2.agents.scripted_agent`: they read what any pysc2 agent gets (the feature
screen's `unit_type`, `player_relative`, `buildable` and `build_progress` layers, the `player`
vector, the selection, the build queue and `action_result`) and act with `select_point`,
`select_idle_worker` and the units' screen and quick commands, one action per agent step. They use
nothing of the embedded engine, so they can play the real game too (not tried: StarCraft II is not
installed here), and assume only pysc2's default camera width of 24 world units (to size buildings
on the screen).

A command to units needs them selected first, so most decisions take two steps: select, then
command (`_pending` holds the command until the selection is seen). Rules, in order of priority:

* CollectMineralsAndGas (`CollectMineralsAndGas`): rally the Command Center to its mineral line;
  send idle SCVs to mine; build a Supply Depot when the supply left is at most SUPPLY_MARGIN; keep
  the Command Center training SCVs (two in its queue) up to MAX_WORKERS; from REFINERY_AT SCVs on,
  build a Refinery on each of the two geysers near the base and put three SCVs in each.
* BuildMarines (`BuildMarines`): the same economy up to MAX_WORKERS SCVs, then Barracks (up to
  MAX_BARRACKS) while minerals allow, Supply Depots ahead of the supply the Barracks will use,
  and Marines: every Barracks selected at once (`select_point` "select_all_type"), then one
  Train_Marine per step while minerals and supply allow (the game queues it at the least busy
  Barracks).

A building spot is a square of buildable pixels (a margin around the footprint) away from the
resources and the paths of the mining SCVs, the nearest such to the Command Center; a spot the
game refuses (`action_result`) is not tried again.
"""
import numpy as np
from pysc2.agents import base_agent
from scipy import ndimage
from pysc2.lib import actions, features, units
from s2clientprotocol import error_pb2

F = actions.FUNCTIONS
SELF = features.PlayerRelative.SELF
NEUTRAL = features.PlayerRelative.NEUTRAL
NOT_ENOUGH_MINERALS = error_pb2.ActionResult.NotEnoughMinerals
CAMERA_WIDTH = 24.0  # pysc2's default camera_width_world_units
SCV = units.Terran.SCV
COMMAND_CENTER, SUPPLY_DEPOT = units.Terran.CommandCenter, units.Terran.SupplyDepot
BARRACKS, REFINERY = units.Terran.Barracks, units.Terran.Refinery
MINERAL_FIELDS = (units.Neutral.MineralField, units.Neutral.MineralField750)
GEYSER = units.Neutral.VespeneGeyser
# Footprint sides in world units, and the free margin the agent wants around a building (the
# click snaps to the building grid, up to half a unit away).
FOOTPRINT = {SUPPLY_DEPOT: 2, BARRACKS: 3}
MARGIN = 0.5
CLEARANCE = 1.5  # world units a building keeps from resources and mining paths


class Screen:
    """What one observation's feature screen shows, in pixel coordinates (x, y)."""

    def __init__(self, observation):
        screen = observation.feature_screen
        self.unit_type = np.asarray(screen.unit_type)
        self.relative = np.asarray(screen.player_relative)
        self.buildable = np.asarray(screen.buildable) > 0
        self.progress = np.asarray(screen.build_progress)
        self.height, self.width = self.unit_type.shape
        self.pixels_per_unit = self.width / CAMERA_WIDTH

    def mask(self, unit_types, relative=None):
        found = np.isin(self.unit_type, unit_types)
        return found if relative is None else found & (self.relative == relative)

    @staticmethod
    def points(mask):
        """[K, 2] (x, y) of the pixels in `mask`."""
        y, x = np.nonzero(mask)
        return np.stack([x, y], axis=-1)

    def centre(self, mask):
        points = self.points(mask)
        return None if len(points) == 0 else points.mean(axis=0)

    def blobs(self, mask, radius):
        """Centres [K, 2] of groups of `mask` pixels: each group is the pixels within `radius`
        of its first (top-left) pixel, so units far apart give one group each."""
        points = self.points(mask)
        found = []
        while len(points):
            near = np.hypot(*(points - points[0]).T) <= radius
            found.append(points[near].mean(axis=0).round().astype(int))
            points = points[~near]
        return np.array(found).reshape(-1, 2)

    def nearest(self, mask, point, exclude=None, exclude_radius=0.0):
        """The pixel of `mask` nearest `point`, ignoring pixels within `exclude_radius` of the
        points `exclude` [K, 2]; None if there is none."""
        points = self.points(mask)
        if exclude is not None and len(exclude) and len(points):
            gap = np.hypot(*(points[:, None, :] - exclude[None, :, :]).transpose(2, 0, 1))
            points = points[gap.min(axis=1) > exclude_radius]
        if len(points) == 0 or point is None:
            return None
        return points[np.argmin(np.hypot(*(points - point).T))]

    def building_spot(self, unit_type, near, avoid, avoid_radius, refused):
        """A pixel to build `unit_type` at: the centre of a square of buildable pixels as wide as
        its footprint plus margins, at least `avoid_radius` pixels from every pixel of `avoid`,
        not in `refused`; the nearest such to `near`, or None."""
        side = int(np.ceil((FOOTPRINT[unit_type] + 2 * MARGIN) * self.pixels_per_unit))
        total = np.pad(self.buildable.astype(np.int64).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
        full = (total[side:, side:] - total[:-side, side:] - total[side:, :-side]
                + total[:-side, :-side]) == side * side  # [H - side + 1, W - side + 1]
        y, x = np.nonzero(full)
        candidates = np.stack([x, y], axis=-1) + side // 2
        if len(candidates) == 0:
            return None
        blocked = self.points(avoid)
        if len(blocked):
            gap = np.hypot(*(candidates[:, None, :] - blocked[None, ::4, :]).transpose(2, 0, 1))
            candidates = candidates[gap.min(axis=1) >= avoid_radius]
        candidates = [c for c in candidates if tuple(c) not in refused]
        if not candidates:
            return None
        candidates = np.array(candidates)
        return candidates[np.argmin(np.hypot(*(candidates - near).T))]


class _TerranEconomy(base_agent.BaseAgent):
    """Mining, SCV production, supply and building placement shared by both agents."""

    MAX_WORKERS = 22
    SUPPLY_MARGIN = 3
    WORKER_QUEUE = 2
    BUILD_WAIT = 12  # agent steps

    def reset(self):
        super().reset()
        self._pending = None   # the command to give once the selection is right
        self._rallied = False
        self._refused = set()  # building spots the game refused
        self._last_build = None  # (unit type, spot) of the last Build command
        self._ordered = {}  # unit type -> agent step of its last Build command

    def step(self, obs):
        super().step(obs)
        self.obs = obs.observation
        self.screen = Screen(self.obs)
        self.available = set(int(f) for f in self.obs.available_actions)
        self._note_refusals()
        call = self._pending() if self._pending else None
        self._pending = None
        if call is not None and call.function in self.available:
            return call
        return self.decide() or F.no_op()

    def decide(self):
        raise NotImplementedError

    # --------------------------------------------------------------------- what is where
    def _note_refusals(self):
        """A building spot the game refused is not used again (unless only the minerals were
        short: the spot is not at fault)."""
        reasons = set(int(r) for r in self.obs.action_result)
        if self._last_build is not None and reasons - {NOT_ENOUGH_MINERALS}:
            self._refused.add(tuple(self._last_build[1]))
        self._last_build = None

    @property
    def player(self):
        return self.obs.player

    def selected_type(self):
        """The unit type of a single selected unit (0 if none or several)."""
        single = self.obs.single_select
        return int(single[0][0]) if len(single) else 0

    def command_center(self):
        return self.screen.centre(self.screen.mask([COMMAND_CENTER], SELF))

    def minerals_near_base(self):
        """A mineral field pixel near the Command Center."""
        return self.screen.nearest(self.screen.mask(MINERAL_FIELDS, NEUTRAL),
                                   self.command_center())

    def count(self, unit_type):
        """How many own structures of a type are on the screen: per group of touching pixels, its
        pixels over one footprint's (at least one; rounded, so units standing on a few pixels do
        not change the count)."""
        groups, count = ndimage.label(self.screen.mask([unit_type], SELF))
        if count == 0:
            return 0
        area = (FOOTPRINT[unit_type] * self.screen.pixels_per_unit) ** 2
        pixels = np.bincount(groups.ravel())[1:]
        return int(np.maximum(1, np.round(pixels / area)).sum())

    def under_construction(self, unit_type):
        return bool((self.screen.mask([unit_type], SELF) & (self.screen.progress > 0)).any())

    def workers(self):
        return int(self.player.food_workers)

    # --------------------------------------------------------------------------- actions
    def select_command_center(self):
        centre = self.command_center()
        if centre is None:
            return None
        return F.select_point("select", centre.round().astype(int))

    def select_worker(self):
        """Select one SCV of the mineral line (not one at a refinery or building something): the
        one nearest the mineral fields."""
        near = self.minerals_near_base()
        refineries = self.screen.points(self.screen.mask([REFINERY], SELF))
        pixel = self.screen.nearest(self.screen.mask([SCV], SELF), near, exclude=refineries,
                                    exclude_radius=3.5 * self.screen.pixels_per_unit)
        return None if pixel is None else F.select_point("select", pixel)

    def then(self, command):
        """Remember `command` (a function of no arguments returning a FunctionCall or None)."""
        self._pending = command

    def mine_with_idle_workers(self):
        if self.player.idle_worker_count == 0 or F.select_idle_worker.id not in self.available:
            return None
        self.then(lambda: self._gather(self.minerals_near_base()))
        return F.select_idle_worker("select_all")

    def _gather(self, pixel):
        if pixel is None:
            return None
        return F.Harvest_Gather_screen("now", pixel)

    def rally_to_minerals(self):
        if self._rallied:
            return None
        if self.selected_type() == COMMAND_CENTER:
            pixel = self.minerals_near_base()
            if pixel is not None and F.Rally_Workers_screen.id in self.available:
                self._rallied = True
                return F.Rally_Workers_screen("now", pixel)
            return None
        return self.select_command_center()

    def train_workers(self):
        p = self.player
        if (self.workers() >= self.MAX_WORKERS or p.minerals < 50
                or p.food_used >= p.food_cap):
            return None
        if self.selected_type() == COMMAND_CENTER:
            if len(self.obs.build_queue) < self.WORKER_QUEUE:
                return F.Train_SCV_quick("now")
            return None
        return self.select_command_center()

    def supply_needed(self, margin):
        p = self.player
        return (p.food_cap - p.food_used <= margin and p.food_cap < 200 and self.affordable(100)
                and not self.under_construction(SUPPLY_DEPOT))

    def affordable(self, cost):
        """Whether to order a building of `cost` minerals now: when the minerals pay for it (the
        marine rush sometimes orders one early, `MarineRush.EARLY_BUILD`)."""
        return self.player.minerals >= cost

    def build(self, unit_type, function):
        """Select an SCV of the mineral line, then order the building at a free spot. An order
        given in the last BUILD_WAIT steps (its SCV may still be walking) is not given again."""
        if self.steps - self._ordered.get(unit_type, -self.BUILD_WAIT) < self.BUILD_WAIT:
            return None
        if self.command_center() is None:  # nothing to build around (it was destroyed)
            return None
        spot = self.screen.building_spot(
            unit_type, self.command_center(), self._keep_clear(),
            (FOOTPRINT[unit_type] / 2 + CLEARANCE) * self.screen.pixels_per_unit, self._refused)
        if spot is None:
            return None

        def order():
            if self.selected_type() != SCV:
                return None
            point = self.placement(spot)
            self._last_build = (unit_type, tuple(point))
            self._ordered[unit_type] = self.steps
            return function("now", point)
        self.then(order)
        return self.select_worker()

    def placement(self, spot):
        """The screen point a Build command is given at: the free spot itself (the marine rush
        can move it at random, `MarineRush.BUILD_NOISE`)."""
        return spot

    def _keep_clear(self):
        """Pixels buildings keep away from: resources, refineries, the Command Center, and the
        mineral line's paths (between the Command Center and the fields)."""
        screen = self.screen
        keep = screen.mask(list(MINERAL_FIELDS) + [GEYSER, REFINERY, COMMAND_CENTER])
        centre = self.command_center()
        fields = screen.points(screen.mask(MINERAL_FIELDS, NEUTRAL))
        if centre is not None and len(fields):
            for t in np.linspace(0.0, 1.0, 6):  # points along each mining path
                path = (centre * (1 - t) + fields * t).round().astype(int)
                inside = ((path[:, 0] >= 0) & (path[:, 0] < screen.width)
                          & (path[:, 1] >= 0) & (path[:, 1] < screen.height))
                keep[path[inside, 1], path[inside, 0]] = True
        return keep


class CollectMineralsAndGas(_TerranEconomy):
    """Mine with every SCV, train SCVs, and take both geysers with three SCVs each."""

    MAX_WORKERS = 30
    REFINERY_AT = 15
    GAS_WORKERS = 3

    def reset(self):
        super().reset()
        self._gas = []  # [refinery pixel, SCVs sent to it] of each refinery seen finished

    def decide(self):
        return (self.rally_to_minerals() or self.mine_with_idle_workers()
                or (self.supply_needed(self.SUPPLY_MARGIN)
                    and self.build(SUPPLY_DEPOT, F.Build_SupplyDepot_screen))
                or self.train_workers() or self.take_gas() or None)

    def _geysers(self):
        """Pixels of the free geysers within reach of the base, nearest first (one per geyser)."""
        screen = self.screen
        centre = self.command_center()
        if centre is None:
            return []
        found = screen.blobs(screen.mask([GEYSER], NEUTRAL), 4.0 * screen.pixels_per_unit)
        refineries = screen.points(screen.mask([REFINERY]))
        if len(refineries):  # the rim of a geyser shows around its refinery
            gap = np.hypot(*(found[:, None, :] - refineries[None]).transpose(2, 0, 1))
            found = found[gap.min(axis=1) > 3.0 * screen.pixels_per_unit]
        distance = np.hypot(*(found - centre).T)
        return [found[i] for i in np.argsort(distance)
                if distance[i] <= 10 * screen.pixels_per_unit]

    def _finished_refineries(self):
        screen = self.screen
        return screen.blobs(screen.mask([REFINERY], SELF) & (screen.progress == 0),
                            4.0 * screen.pixels_per_unit)

    def take_gas(self):
        if self.workers() < self.REFINERY_AT:
            return None
        for refinery in self._finished_refineries():
            known = [g for g in self._gas if np.hypot(*(g[0] - refinery))
                     <= 3 * self.screen.pixels_per_unit]
            if not known:
                known = [[refinery, 1]]  # its builder mines it already
                self._gas.append(known[0])
            entry = known[0]
            if entry[1] < self.GAS_WORKERS:
                def order(entry=entry):
                    if self.selected_type() != SCV:
                        return None
                    entry[1] += 1
                    return F.Harvest_Gather_screen("now", entry[0])
                self.then(order)
                return self.select_worker()
        geysers = self._geysers()
        if geysers and self.player.minerals >= 75 and not self.under_construction(REFINERY):
            geyser = geysers[0]

            def build_refinery():
                if self.selected_type() != SCV:
                    return None
                return F.Build_Refinery_screen("now", geyser)
            self.then(build_refinery)
            return self.select_worker()
        return None


class BuildMarines(_TerranEconomy):
    """SCVs for the mineral line, then Barracks, Supply Depots ahead of need, and Marines."""

    MAX_WORKERS = 20
    MAX_BARRACKS = 6
    BARRACKS_AT = 16  # SCVs before the first Barracks
    RESELECT = 25  # agent steps after which the Barracks are selected again (new ones join)

    def reset(self):
        super().reset()
        self._barracks_selected = -self.RESELECT  # agent step the Barracks were selected at

    def decide(self):
        barracks = self.count(BARRACKS)
        margin = self.SUPPLY_MARGIN + 2 * barracks
        return (self.rally_to_minerals() or self.mine_with_idle_workers()
                or (self.supply_needed(margin)
                    and self.build(SUPPLY_DEPOT, F.Build_SupplyDepot_screen))
                or self.fight() or self.train_workers() or self.add_barracks(barracks)
                or self.train_marines() or None)

    def fight(self):
        """Orders to the army (BuildMarines has no enemy; the marine rush attacks)."""
        return None

    def add_barracks(self, barracks):
        if (barracks >= self.MAX_BARRACKS or not self.affordable(150)
                or self.workers() < self.BARRACKS_AT or self.under_construction(BARRACKS)
                or not self.screen.mask([SUPPLY_DEPOT], SELF).any()):
            return None
        return self.build(BARRACKS, F.Build_Barracks_screen)

    def command_barracks(self, count):
        """The command for the `count` selected Barracks (None: select them again)."""
        del count
        if F.Train_Marine_quick.id in self.available:
            return F.Train_Marine_quick("now")
        return None

    def train_marines(self):
        """Select every Barracks (select_point on one, all of its type), then train one Marine
        per step; the game queues it at the least busy Barracks."""
        p = self.player
        if p.minerals < 50 or p.food_used >= p.food_cap:
            return None
        finished = self.screen.mask([BARRACKS], SELF) & (self.screen.progress == 0)
        if not finished.any():
            return None
        selected = self.obs.multi_select if len(self.obs.multi_select) else \
            self.obs.single_select
        fresh = self.steps - self._barracks_selected < self.RESELECT  # new ones may be done
        if fresh and len(selected) and np.all(np.asarray(selected)[:, 0] == BARRACKS):
            call = self.command_barracks(len(selected))
            if call is not None:
                return call
        self._barracks_selected = self.steps
        # A pixel where a Barracks itself shows (Marines stand around them).
        pixel = self.screen.points(finished)[0]
        return F.select_point("select_all_type", pixel)
