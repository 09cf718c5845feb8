"""The maps the engine plays, by pysc2 map name."""
from minigames.maps.collect_mineral_shards import CollectMineralShards
from minigames.maps.defeat_roaches import DefeatRoaches, DefeatZerglingsAndBanelings
from minigames.maps.economy_minigames import BuildMarines, CollectMineralsAndGas
from minigames.maps.find_and_defeat_zerglings import FindAndDefeatZerglings
from minigames.maps.move_to_beacon import MoveToBeacon
from minigames.maps.simple64 import Simple64

MAPS = {script.name: script for script in (MoveToBeacon, CollectMineralShards,
                                             FindAndDefeatZerglings, DefeatRoaches,
                                             DefeatZerglingsAndBanelings, CollectMineralsAndGas,
                                             BuildMarines, Simple64)}
# SC2LE's seven mini-games (one agent, a score), in SC2LE's order.
MINI_GAMES = [name for name, script in MAPS.items() if script.players == 1]


def get(name):
    """A new script instance of map `name`; ValueError names the maps there are."""
    if name not in MAPS:
        raise ValueError(f"The embedded engine has no map {name!r}; it plays "
                         f"{', '.join(sorted(MAPS))}. Install StarCraft II for other maps.")
    return MAPS[name]()
