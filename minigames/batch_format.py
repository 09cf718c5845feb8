"""The one batch format every environment backend yields (see DESIGN.md, "How data flows").

A batch is a dict of numpy arrays keyed by pysc2's own observation names, with a leading batch
dimension N. pysc2's variable-length lists are padded to a fixed number of rows and come with a
`<name>_count` array of the rows in use, so that a network sees fixed shapes. `available_actions`
becomes a [N, 573] boolean mask instead of a list of ids.

The embedded engine writes batches directly; `stack_observations` builds the same batch from pysc2
observations (real StarCraft II, the engine's own `SC2Env`, or pysc2's mock environment).
"""
import numpy as np
from pysc2.lib import actions, features

NUM_FUNCTIONS = len(actions.FUNCTIONS)

# Rows kept of each variable-length pysc2 list; longer lists are cut to this many rows.
PADDED_ROWS = {
    "single_select": 1,
    "multi_select": 32,
    "build_queue": 5,
    "production_queue": 5,
    "last_actions": 4,
    "action_result": 4,
    "feature_units": 64,
}
_ROW_WIDTH = {
    "single_select": len(features.UnitLayer),
    "multi_select": len(features.UnitLayer),
    "build_queue": len(features.UnitLayer),
    "production_queue": len(features.ProductionQueue),
    "last_actions": None,
    "action_result": None,
    "feature_units": len(features.FeatureUnit),
}


def empty_batch(num_envs, screen_size, minimap_size, use_feature_units):
    """Zeroed arrays of the batch format; sizes are (width, height) as in pysc2's Dimensions."""
    batch = {
        "feature_screen": np.zeros(
            (num_envs, len(features.SCREEN_FEATURES), screen_size[1], screen_size[0]), np.int32),
        "feature_minimap": np.zeros(
            (num_envs, len(features.MINIMAP_FEATURES), minimap_size[1], minimap_size[0]), np.int32),
        "player": np.zeros((num_envs, len(features.Player)), np.int32),
        "game_loop": np.zeros((num_envs, 1), np.int32),
        "score_cumulative": np.zeros((num_envs, len(features.ScoreCumulative)), np.int32),
        "available_actions": np.zeros((num_envs, NUM_FUNCTIONS), bool),
        "control_groups": np.zeros((num_envs, 10, 2), np.int32),
    }
    for name, rows in PADDED_ROWS.items():
        if name == "feature_units" and not use_feature_units:
            continue
        width = _ROW_WIDTH[name]
        shape = (num_envs, rows) if width is None else (num_envs, rows, width)
        batch[name] = np.zeros(shape, np.int64 if name == "feature_units" else np.int32)
        batch[name + "_count"] = np.zeros(num_envs, np.int32)
    return batch


def stack_observations(observations):
    """pysc2 observations (one NamedDict per environment) -> one batch."""
    first = observations[0]
    screen = first["feature_screen"].shape
    minimap = first["feature_minimap"].shape
    batch = empty_batch(len(observations), (screen[2], screen[1]), (minimap[2], minimap[1]),
                        "feature_units" in first)
    for i, obs in enumerate(observations):
        for name in ("feature_screen", "feature_minimap", "player", "game_loop",
                     "score_cumulative", "control_groups"):
            batch[name][i] = obs[name]
        batch["available_actions"][i, np.asarray(obs["available_actions"], np.int64)] = True
        for name, rows in PADDED_ROWS.items():
            if name not in batch:
                continue
            values = np.asarray(obs[name])[:rows]
            batch[name][i, :len(values)] = values
            batch[name + "_count"][i] = len(values)
    return batch
