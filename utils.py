"""Observations in, network inputs out; network indices in, pysc2 actions out.

`preprocess` is the only code that turns a batch (the dict of numpy arrays every environment backend
yields, see `minigames/batch_format.py`) into the float32 arrays the networks read:

  screen        [N, H, W, C_screen]   one-hot categorical planes + log-scaled scalar planes
  minimap       [N, h, w, C_minimap]  the same for the minimap
  non_spatial   [N, D]                player, game loop, available actions, last actions, selection,
                                      player thresholds
  available_actions [N, 573]          1.0 where the function may be called now (the sampling mask)
  entities      [N, E, F]             one row per `feature_units` row (zeros when absent)
  entity_count  [N] int32             rows of `entities` in use

Categorical layers are one-hot here; the networks' first 1x1 convolution over them is the learned
embedding of SC2LE's FullyConv (a 1x1 convolution of a one-hot plane stack is a lookup table).
Scalar values, which span orders of magnitude (hit points, minerals), are log-scaled to about [0, 1];
the player's minerals, vespene and free supply are also given as thresholds (`player_thresholds`).
Unit types go through a short table of the units that matter on the mini-games and the Terran
Simple64 games; every other unit type falls into one "other" bucket instead of raising.

The action format (an integer function id and an [13] array of argument indices by pysc2
argument type id, -1 where unused, a point as the index y * width + x) is stated once, in
`minigames/action_format.py`; its names are re-exported here for the agent and the networks.
"""
import dataclasses

import numpy as np

import pysc2_shim  # noqa: F401  (must precede pysc2.lib.features)
from minigames import action_format
from minigames.action_format import (  # noqa: F401  (re-exported)
    NUM_ARG_TYPES, NUM_FUNCTIONS, SPATIAL_ARG_TYPES, function_call_to_indices, to_function_call)
from pysc2.lib import actions, features, units

USES_ARGUMENT = action_format.USES_ARG  # [f, t]: function f takes an argument of type t

BEACON = 317  # Beacon_Terran; not in pysc2.lib.units
MINERAL_SHARD = 1680  # NaturalMinerals of CollectMineralShards; not in pysc2.lib.units

# The unit types the networks tell apart. Index 0 is "no unit"; the last index is every other type.
UNIT_TYPES = (
    0,
    units.Terran.Marine, BEACON, MINERAL_SHARD,
    units.Zerg.Zergling, units.Zerg.Baneling, units.Zerg.Roach, units.Zerg.Drone,
    units.Terran.SCV, units.Terran.Marauder, units.Terran.Reaper, units.Terran.Hellion,
    units.Terran.MULE, units.Terran.CommandCenter, units.Terran.OrbitalCommand,
    units.Terran.SupplyDepot, units.Terran.SupplyDepotLowered, units.Terran.Refinery,
    units.Terran.Barracks, units.Terran.BarracksTechLab, units.Terran.Factory,
    units.Terran.Starport,
    units.Neutral.MineralField, units.Neutral.MineralField750, units.Neutral.VespeneGeyser,
)
NUM_UNIT_BUCKETS = len(UNIT_TYPES) + 1
OTHER_UNIT = NUM_UNIT_BUCKETS - 1
_UNIT_BUCKET = np.full(max(int(u) for u in UNIT_TYPES) + 1, OTHER_UNIT, np.int64)
for _bucket, _unit_type in enumerate(UNIT_TYPES):
    _UNIT_BUCKET[int(_unit_type)] = _bucket

SCREEN = features.SCREEN_FEATURES
MINIMAP = features.MINIMAP_FEATURES
# (layer, number of planes). A two-valued layer needs only one plane.
SCREEN_CATEGORICAL = ((SCREEN.player_relative, 5), (SCREEN.selected, 1),
                      (SCREEN.visibility_map, 4), (SCREEN.unit_type, NUM_UNIT_BUCKETS))
SCREEN_SCALAR = (SCREEN.height_map, SCREEN.unit_hit_points, SCREEN.unit_energy,
                 SCREEN.unit_shields, SCREEN.unit_density)
MINIMAP_CATEGORICAL = ((MINIMAP.player_relative, 5), (MINIMAP.selected, 1),
                       (MINIMAP.visibility_map, 4), (MINIMAP.camera, 1))
MINIMAP_SCALAR = (MINIMAP.height_map,)

MAX_GAME_LOOP = 30_000  # about 22 minutes; longer games saturate at 1.0
# The player's resources and free supply are also given as steps, 1.0 from each threshold on. On
# the log scale 95 and 100 minerals differ by 0.005, yet only 100 buys a Supply Depot or a
# Barracks' 150; every Terran cost is a multiple of 25 up to 400, and no unit takes over 8 supply.
RESOURCE_STEPS = np.arange(25, 401, 25)
SUPPLY_STEPS = np.arange(1, 9)
PLAYER_THRESHOLDS = 2 * len(RESOURCE_STEPS) + len(SUPPLY_STEPS)
MAX_SELECTED = 500
MAX_ENTITIES = 64  # the batch format keeps this many feature_units rows
_ENTITY_SCALARS = 10  # health, shield, energy, x, y, radius, is_selected, build, orders, facing
ENTITY_FEATURES = NUM_UNIT_BUCKETS + 5 + _ENTITY_SCALARS  # type, alliance (5), scalars
# Player (11), game loop, available and last actions, single_select and multi_select summaries,
# then the player thresholds last (so that a network's weights for the rest keep their rows).
SELECTION_SUMMARY_SIZE = NUM_UNIT_BUCKETS + 4
NON_SPATIAL_SIZE = (len(features.Player) + 1 + 2 * NUM_FUNCTIONS + 2 * SELECTION_SUMMARY_SIZE
                    + PLAYER_THRESHOLDS)


@dataclasses.dataclass(frozen=True)
class Spec:
    """Resolutions of one agent interface; everything about shapes follows from it.

    Screen and minimap are square (pysc2's feature_screen=S gives S x S); they may differ.
    """
    screen_size: int = 32
    minimap_size: int = 32

    def input_shapes(self):
        """Shapes of `preprocess`'s arrays without the batch dimension."""
        screen = sum(planes for _, planes in SCREEN_CATEGORICAL) + len(SCREEN_SCALAR)
        minimap = sum(planes for _, planes in MINIMAP_CATEGORICAL) + len(MINIMAP_SCALAR)
        return {
            "screen": (self.screen_size, self.screen_size, screen),
            "minimap": (self.minimap_size, self.minimap_size, minimap),
            "non_spatial": (NON_SPATIAL_SIZE,),
            "available_actions": (NUM_FUNCTIONS,),
            "entities": (MAX_ENTITIES, ENTITY_FEATURES),
            "entity_count": (),
        }

    def argument_sizes(self):
        """{pysc2 argument type name: number of distinct indices}, in pysc2's type order."""
        sizes = action_format.argument_sizes((self.screen_size,) * 2, (self.minimap_size,) * 2)
        return {arg_type.name: int(sizes[arg_type.id]) for arg_type in actions.TYPES}


def unit_bucket(unit_type):
    """Map pysc2 unit type ids (any int array) to indices into UNIT_TYPES, OTHER_UNIT if unknown."""
    unit_type = np.asarray(unit_type, np.int64)
    known = (unit_type >= 0) & (unit_type < len(_UNIT_BUCKET))
    return np.where(known, _UNIT_BUCKET[np.clip(unit_type, 0, len(_UNIT_BUCKET) - 1)], OTHER_UNIT)


def log_scale(values, max_value):
    """log(1 + x) / log(1 + max_value): 0 stays 0, max_value becomes 1; negatives count as 0."""
    return (np.log1p(np.maximum(values, 0).astype(np.float32))
            / np.float32(np.log1p(max_value)))


def one_hot(indices, depth):
    """Integer array [...] -> float32 [..., depth]; with depth 1 the plane is `indices == 1`."""
    if depth == 1:
        return (indices == 1).astype(np.float32)[..., None]
    return (indices[..., None] == np.arange(depth)).astype(np.float32)


def _spatial_planes(layers, categorical, scalar):
    """[N, 27 or 11, H, W] int layers -> [N, H, W, C] float32 planes (channels last for convs)."""
    planes = []
    for layer, depth in categorical:
        values = layers[:, layer.index]
        if layer.name == "unit_type":
            values = unit_bucket(values)
        planes.append(one_hot(np.clip(values, 0, max(depth - 1, 1)), depth))
    for layer in scalar:
        planes.append(log_scale(layers[:, layer.index], layer.scale)[..., None])
    return np.concatenate(planes, axis=-1)


def _unit_rows_summary(rows, count):
    """pysc2 UnitLayer rows [N, R, 7] with counts [N] -> [N, NUM_UNIT_BUCKETS + 4].

    The fraction of each unit bucket among the rows in use, their mean log-scaled health, shields
    and energy, and the log-scaled number of rows.
    """
    n, max_rows = rows.shape[:2]
    in_use = (np.arange(max_rows)[None, :] < count[:, None]).astype(np.float32)
    per_row = np.concatenate([
        one_hot(unit_bucket(rows[..., features.UnitLayer.unit_type]), NUM_UNIT_BUCKETS),
        log_scale(rows[..., features.UnitLayer.health], 2000)[..., None],
        log_scale(rows[..., features.UnitLayer.shields], 1000)[..., None],
        log_scale(rows[..., features.UnitLayer.energy], 1000)[..., None],
    ], axis=-1)
    mean = (per_row * in_use[..., None]).sum(axis=1) / np.maximum(count, 1)[:, None]
    return np.concatenate([mean, log_scale(count, MAX_SELECTED)[:, None]],
                          axis=-1).astype(np.float32)


def player_thresholds(player):
    """pysc2 player rows [N, 11] -> [N, PLAYER_THRESHOLDS] float32 of 0.0 and 1.0.

    Minerals >= each of RESOURCE_STEPS, then vespene >= each, then free supply (food_cap -
    food_used) >= each of SUPPLY_STEPS.
    """
    player = np.asarray(player)
    free_supply = player[:, features.Player.food_cap] - player[:, features.Player.food_used]
    return np.concatenate([
        player[:, features.Player.minerals, None] >= RESOURCE_STEPS,
        player[:, features.Player.vespene, None] >= RESOURCE_STEPS,
        free_supply[:, None] >= SUPPLY_STEPS,
    ], axis=-1).astype(np.float32)


def _non_spatial(batch):
    n = len(batch["player"])
    last_actions = np.zeros((n, NUM_FUNCTIONS), np.float32)
    rows, slots = np.nonzero(np.arange(batch["last_actions"].shape[1])[None, :]
                             < batch["last_actions_count"][:, None])
    last_actions[rows, np.clip(batch["last_actions"][rows, slots], 0, NUM_FUNCTIONS - 1)] = 1.0
    return np.concatenate([
        log_scale(batch["player"], 10_000),
        log_scale(batch["game_loop"], MAX_GAME_LOOP),
        batch["available_actions"].astype(np.float32),
        last_actions,
        _unit_rows_summary(batch["single_select"], batch["single_select_count"]),
        _unit_rows_summary(batch["multi_select"], batch["multi_select_count"]),
        player_thresholds(batch["player"]),
    ], axis=-1)


def _entities(batch, screen_size):
    """feature_units [N, R, 46] -> ([N, MAX_ENTITIES, ENTITY_FEATURES], count [N])."""
    n = len(batch["player"])
    if "feature_units" not in batch:
        return (np.zeros((n, MAX_ENTITIES, ENTITY_FEATURES), np.float32),
                np.zeros(n, np.int32))
    fu = features.FeatureUnit
    rows = batch["feature_units"][:, :MAX_ENTITIES]
    count = np.minimum(batch["feature_units_count"], MAX_ENTITIES).astype(np.int32)
    table = np.concatenate([
        one_hot(unit_bucket(rows[..., fu.unit_type]), NUM_UNIT_BUCKETS),
        one_hot(np.clip(rows[..., fu.alliance], 0, 4), 5),
        np.stack([
            log_scale(rows[..., fu.health], 2000),
            log_scale(rows[..., fu.shield], 1000),
            log_scale(rows[..., fu.energy], 1000),
            rows[..., fu.x] / np.float32(screen_size),
            rows[..., fu.y] / np.float32(screen_size),
            log_scale(rows[..., fu.radius], screen_size),
            rows[..., fu.is_selected],
            rows[..., fu.build_progress] / np.float32(100),
            log_scale(rows[..., fu.order_length], 16),
            rows[..., fu.facing] / np.float32(2 * np.pi),
        ], axis=-1).astype(np.float32),
    ], axis=-1)
    padded = np.zeros((n, MAX_ENTITIES, ENTITY_FEATURES), np.float32)
    padded[:, :table.shape[1]] = table
    padded[np.arange(MAX_ENTITIES)[None, :] >= count[:, None]] = 0.0
    return padded, count


def preprocess(batch, spec):
    """A batch-format dict -> the network input arrays listed in the module docstring."""
    screen_size = batch["feature_screen"].shape[-1]
    minimap_size = batch["feature_minimap"].shape[-1]
    if (screen_size, minimap_size) != (spec.screen_size, spec.minimap_size):
        raise ValueError(f"Observations are {screen_size}x{screen_size} screen and "
                         f"{minimap_size}x{minimap_size} minimap, but the network expects "
                         f"{spec.screen_size} and {spec.minimap_size}.")
    entities, entity_count = _entities(batch, spec.screen_size)
    return {
        "screen": _spatial_planes(batch["feature_screen"], SCREEN_CATEGORICAL, SCREEN_SCALAR),
        "minimap": _spatial_planes(batch["feature_minimap"], MINIMAP_CATEGORICAL, MINIMAP_SCALAR),
        "non_spatial": _non_spatial(batch),
        "available_actions": batch["available_actions"].astype(np.float32),
        "entities": entities,
        "entity_count": entity_count,
    }
