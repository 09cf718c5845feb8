"""Generate `minigames/data/units.json`, the engine's one unit table, from the game's own data.

    python tools/generate_unit_table.py path/to/sc2-techtree/data/data.json

The source is `data/data.json` of BurnySc2/sc2-techtree (MIT licence, (c) 2019 Hannes Karppila),
generated from StarCraft II's data API at patch 5.0.3. It lists every Terran, Zerg and Protoss unit
with hit points, shields, armor, radius, sight, speed, attributes, weapons (damage, attacks, range,
cooldown, bonuses), cost, build time, supply and abilities. Units are kept as the data gives them,
with two conversions to the engine's clock of game loops (16 per normal-speed game second, the speed
and cooldown unit of the data): speed per loop = speed / 16, cooldown in loops = cooldown * 16.

The data has no neutral units and no baneling explosion; `EXTRA_UNITS` and `EXPLOSIONS` below add
them, each value with its source (or marked as this project's reading where the game's value is
not published).
"""
import json
import os
import sys

from minigames.files import write_json

LOOPS_PER_GAME_SECOND = 16
OUTPUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "minigames", "data", "units.json")
SOURCE = "BurnySc2/sc2-techtree data/data.json, patch 5.0.3"

# Neutral units the maps use. Ids are pysc2.lib.units (or s2client-proto stableid.json for 317 and
# 1680, which pysc2 does not list). Radii: MineralField 1.125 and VespeneGeyser 1.8125 are the raw
# `radius` values bots read from the API (python-sc2 era material); the beacon is drawn with its
# reward circle (MoveToBeacon script, radius 1.25); the mineral shard's 0.5 and the rocks' 1.0 are
# this project's readings (not in any published data). Neutral units have no hit points (0) except
# the rocks, whose 2000 hit points and armor 3 are this project's reading too.
EXTRA_UNITS = [
    {"id": 341, "name": "MineralField", "radius": 1.125, "minerals_contained": 1800},
    {"id": 483, "name": "MineralField750", "radius": 1.125, "minerals_contained": 900},
    {"id": 342, "name": "VespeneGeyser", "radius": 1.8125, "vespene_contained": 2250},
    {"id": 317, "name": "Beacon_Terran", "radius": 1.25},
    {"id": 1680, "name": "NaturalMinerals", "radius": 0.5},
    {"id": 472, "name": "UnbuildableRocksDestructible", "radius": 1.0, "max_health": 2000.0,
     "armor": 3.0},
]
# Units that die to deal their damage (Liquipedia "Baneling (Legacy of the Void)": Volatile Burst
# 20 (+15 vs Light), splash radius 2.2, no friendly fire; the trigger range of 0.25 edge to edge is
# from the same page).
EXPLOSIONS = {9: {"damage": 20.0, "bonuses": [{"against": "Light", "damage": 15.0}],
                  "radius": 2.2, "trigger_range": 0.25}}


def convert_weapon(weapon):
    return {
        "target": weapon["target_type"],  # Ground, Air or Any
        "damage": weapon["damage_per_hit"],
        "attacks": weapon["attacks"],
        "range": weapon["range"],
        "cooldown_loops": weapon["cooldown"] * LOOPS_PER_GAME_SECOND,
        "bonuses": [{"against": b["against"], "damage": b["damage"]} for b in weapon["bonuses"]],
    }


# Ability targets that make the game report an ability with `requires_point` (pysc2 then offers
# its *_screen and *_minimap functions); every other target (None, Train, Research, Morph, ...)
# gives the *_quick function.
POINT_TARGETS = ("Point", "Unit", "PointOrUnit", "Build", "BuildOnUnit", "MorphPlace", "TrainPlace")


def ability_requires_point(ability):
    target = ability["target"]
    kind = target if isinstance(target, str) else next(iter(target))
    return kind in POINT_TARGETS


def convert_abilities(entries, abilities):
    return [{"ability": entry["ability"],
             "requires_point": ability_requires_point(abilities[entry["ability"]]),
             **({"requirements": entry["requirements"]} if "requirements" in entry else {})}
            for entry in entries]


def convert_unit(unit, abilities):
    return {
        "id": unit["id"],
        "name": unit["name"],
        "race": unit["race"],
        "max_health": unit["max_health"],
        "max_shield": unit.get("max_shield", 0.0),
        "max_energy": unit.get("max_energy", 0.0),
        "start_energy": unit.get("start_energy", 0.0),
        "armor": unit["armor"],
        "radius": unit["radius"],
        "sight": unit["sight"],
        "speed_per_loop": unit.get("speed", 0.0) / LOOPS_PER_GAME_SECOND,
        "attributes": unit["attributes"],
        "weapons": [convert_weapon(w) for w in unit.get("weapons", [])],
        "minerals": unit["minerals"],
        "gas": unit["gas"],
        "build_loops": unit["time"],
        "supply": unit["supply"],  # negative: supply provided
        "is_structure": unit["is_structure"],
        "is_worker": unit["is_worker"],
        "is_townhall": unit["is_townhall"],
        "is_flying": unit["is_flying"],
        "needs_geyser": unit["needs_geyser"],
        "abilities": convert_abilities(unit.get("abilities", []), abilities),
    }


def main(path):
    with open(path) as f:
        data = json.load(f)
    # ThorAALance (the Thor's anti-air mode) is the one entry without a radius; it is a mode of
    # the Thor, not a unit the engine spawns.
    abilities = {a["id"]: a for a in data["Ability"]}
    table = [convert_unit(u, abilities) for u in sorted(data["Unit"], key=lambda u: u["id"])
             if "radius" in u]
    for extra in EXTRA_UNITS:
        table.append({"race": "Neutral", "max_health": 0.0, "max_shield": 0.0, "max_energy": 0.0,
                      "start_energy": 0.0, "armor": 0.0, "sight": 0.0, "speed_per_loop": 0.0,
                      "attributes": [], "weapons": [], "minerals": 0, "gas": 0,
                      "build_loops": 0.0, "supply": 0.0, "is_structure": False,
                      "is_worker": False, "is_townhall": False, "is_flying": False,
                      "needs_geyser": False, "abilities": [], **extra})
    for unit in table:
        if unit["id"] in EXPLOSIONS:
            unit["explosion"] = EXPLOSIONS[unit["id"]]
    write_json(OUTPUT, {"source": SOURCE, "units": table}, indent=0)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tools/generate_unit_table.py path/to/data.json")
    main(sys.argv[1])
