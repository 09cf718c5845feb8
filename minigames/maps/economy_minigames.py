"""CollectMineralsAndGas and BuildMarines (pysc2_fidelity.md sections 4.7 and 4.8).

Both maps start the same way: the playable area is (19.94, 19.0)-(45.94, 37.0) and the camera is
locked on its centre, 3 units south, at (32.94, 25.0); a Command Center stands at (29.8251, 28.0083)
(placed on the building grid, at (29.5, 28.5)), and 12 SCVs beside it, unselected, in two columns
at x offsets d * 3.5 and d * 4.5 and y offsets +2.5 to -2.5, with d = +1 or -1 drawn at random
(the map script); the player has 50 minerals and food 12/15. Mineral fields hold 1500 and geysers
2000 (what the maps' "Reset Map" trigger sets them to).

* CollectMineralsAndGas: 16 mineral fields, 8 on each side (x 23-25 and 41-43), and 4 Vespene
  Geysers; the score (every game loop) is the minerals and vespene collected since the start
  (spending does not lower it); 6720 game loops (420 game seconds).
* BuildMarines: only the 8 fields on the left, no geysers; +1 per Marine trained; 14400 game loops
  (900 game seconds). The map's unit data reduces the command cards: an SCV keeps Gather, Return
  Cargo and a build menu of Supply Depot and Barracks, the Command Center keeps Train SCV and its
  rally, the Barracks only Train Marine, the Supply Depot nothing. Right click (Smart) is not a card
  button and stays (a reading: pysc2 lists Smart from the abilities the game reports), as do the
  Marine's commands (one Marine button is removed; which one is not known) and the cancels of
  queues and constructions.
"""
import numpy as np
from pysc2.lib import actions, features, units

from minigames.maps.base import MapScript
from minigames.placement import snap
from minigames.units import TABLE

F = actions.FUNCTIONS
SC = features.ScoreCumulative
# Unit types as ints (numpy compares them faster than IntEnums).
SCV, MARINE = int(units.Terran.SCV), int(units.Terran.Marine)
COMMAND_CENTER, SUPPLY_DEPOT = int(units.Terran.CommandCenter), int(units.Terran.SupplyDepot)
BARRACKS = int(units.Terran.Barracks)
MINERAL_FIELD, GEYSER = int(units.Neutral.MineralField), int(units.Neutral.VespeneGeyser)
COMMAND_CENTER_POINT = np.array([29.8251, 28.0083])
SCV_COLUMNS = (3.5, 4.5)
SCV_ROWS = (2.5, 1.5, 0.5, -0.5, -1.5, -2.5)
FIELD_MINERALS, GEYSER_VESPENE = 1500.0, 2000.0
START_MINERALS = 50.0
LEFT_FIELDS = ((23, 28.5), (24, 29.5), (23, 26.5), (25, 22.5), (25, 32.5), (24, 23.5),
               (24, 31.5), (24, 25.5))
RIGHT_FIELDS = ((41, 22.5), (42, 25.5), (42, 23.5), (41, 32.5), (43, 26.5), (43, 28.5),
                (42, 29.5), (42, 31.5))
GEYSERS = ((39.5, 20.5), (26.5, 34.5), (39.5, 34.5), (26.5, 20.5))


class TerranBaseMap(MapScript):
    """A Command Center, 12 SCVs and resources; subclasses give the resources and the score."""

    playable = (19.94, 19.0, 45.94, 37.0)
    camera = (32.94, 25.0)
    fields = ()
    geysers = ()

    def start(self, game, rows):
        world = game.world
        n = len(rows)
        centre = snap(np.array([COMMAND_CENTER]), COMMAND_CENTER_POINT[None])[0]
        world.spawn(rows, COMMAND_CENTER, 1, np.tile(centre, (n, 1)))
        side = np.array([1.0 if game.rngs[e].random() < 0.5 else -1.0 for e in rows])
        dx, dy = np.meshgrid(SCV_COLUMNS, SCV_ROWS, indexing="ij")
        offsets = np.stack([dx.ravel(), dy.ravel()], axis=-1)  # [12, 2], d = +1
        scvs = COMMAND_CENTER_POINT + offsets[None] * np.stack(
            [side, np.ones(n)], axis=-1)[:, None, :]
        world.spawn(np.repeat(rows, len(offsets)), SCV, 1, scvs.reshape(-1, 2))
        for points, unit_type, amount, field in ((self.fields, MINERAL_FIELD, FIELD_MINERALS,
                                                  world.minerals_left),
                                                 (self.geysers, GEYSER, GEYSER_VESPENE,
                                                  world.vespene_left)):
            if points:
                env = np.repeat(rows, len(points))
                slots = world.spawn(env, unit_type, 0, np.tile(np.array(points, float), (n, 1)))
                field[env, slots] = amount
        world.minerals[rows, 0] = START_MINERALS


class CollectMineralsAndGas(TerranBaseMap):
    name = "CollectMineralsAndGas"
    episode_loops = 6720
    max_units = 128  # 33 at the start; about 60 SCVs are the most 420 game seconds can train
    fields = LEFT_FIELDS + RIGHT_FIELDS
    geysers = GEYSERS

    def tick(self, game, running):
        collected = game.world.score_cumulative[running, 0]
        game.world.score[running] = (collected[:, SC.collected_minerals]
                                     + collected[:, SC.collected_vespene]).astype(np.int64)


# The command cards BuildMarines keeps (section 4.8); other types keep theirs.
BUILD_MARINES_CARDS = {
    SCV: (F.Harvest_Gather_screen, F.Harvest_Return_quick, F.Build_SupplyDepot_screen,
          F.Build_Barracks_screen, F.Smart_screen, F.Smart_minimap),
    COMMAND_CENTER: (F.Train_SCV_quick, F.Rally_Workers_screen, F.Rally_Workers_minimap,
                     F.Smart_screen, F.Smart_minimap),
    BARRACKS: (F.Train_Marine_quick, F.Smart_screen, F.Smart_minimap),
    SUPPLY_DEPOT: (),
}


class BuildMarines(TerranBaseMap):
    name = "BuildMarines"
    episode_loops = 14400
    max_units = 224  # food 200 (Marines and SCVs) with the depots, Barracks and fields
    fields = LEFT_FIELDS

    def __init__(self):
        super().__init__()
        self.functions = TABLE.functions.copy()
        for unit_type, kept in BUILD_MARINES_CARDS.items():
            self.functions[unit_type] = False
            self.functions[unit_type, [f.id for f in kept]] = True

    def tick(self, game, running):
        world = game.world
        trained = world.trained & (world.unit_type == MARINE) & (world.owner == 1)
        game.world.score += np.where(running, trained.sum(axis=1), 0)
