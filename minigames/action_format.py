"""The one action format, stated once (DESIGN.md, "One action format").

An action is a pysc2 function id and one entry per pysc2 argument type (`actions.TYPES`, 13 of
them, in type-id order). Two equivalent encodings are used:

* indices, [13] ints: what the networks emit. -1 where the function takes no argument of that
  type; a point (screen, minimap, screen2) is the flat index y * width + x of its pixel; an enum or
  scalar argument is its value.
* values, [13, 2] ints: what the engine executes and replays store. A point is (x, y); an enum or
  scalar is in column 0. Entries of types the function does not take are ignored (-1 when written).

Sizes follow pysc2's `action_spec()`: a point has the layer's width x height values; the other
types have the sizes of `actions.TYPES`. Every conversion between the encodings and pysc2's
`FunctionCall` lives here; the engine, the preprocessing and the replay converter import it.
"""
import numpy as np
from pysc2.lib import actions

NUM_FUNCTIONS = len(actions.FUNCTIONS)
NUM_ARG_TYPES = len(actions.TYPES)
SCREEN, MINIMAP, SCREEN2 = actions.TYPES.screen.id, actions.TYPES.minimap.id, actions.TYPES.screen2.id
SPATIAL_ARG_TYPES = (SCREEN, MINIMAP, SCREEN2)

# USES_ARG[f, t]: function f takes an argument of type t.
USES_ARG = np.zeros((NUM_FUNCTIONS, NUM_ARG_TYPES), bool)
for _function in actions.FUNCTIONS:
    for _arg_type in _function.args:
        USES_ARG[int(_function.id), _arg_type.id] = True


def _width(type_id, screen_width, minimap_width):
    return minimap_width if type_id == MINIMAP else screen_width


def argument_sizes(screen_size, minimap_size):
    """[13] number of distinct indices of each argument type; sizes are (width, height)."""
    sizes = np.array([int(np.prod(t.sizes)) for t in actions.TYPES])
    sizes[SCREEN] = sizes[SCREEN2] = screen_size[0] * screen_size[1]
    sizes[MINIMAP] = minimap_size[0] * minimap_size[1]
    return sizes


def point_to_index(x, y, width):
    return y * width + x


def index_to_point(index, width):
    """Flat spatial index -> (x, y); works on ints and integer arrays."""
    return index % width, index // width


def indices_to_values(arg_indices, screen_width, minimap_width):
    """[..., 13] indices -> [..., 13, 2] values (points as (x, y), other types in column 0)."""
    arg_indices = np.asarray(arg_indices, np.int64)
    values = np.zeros(arg_indices.shape + (2,), np.int64)
    values[..., 0] = arg_indices
    for t in SPATIAL_ARG_TYPES:
        x, y = index_to_point(arg_indices[..., t], _width(t, screen_width, minimap_width))
        values[..., t, 0], values[..., t, 1] = x, y
    return values


def values_to_indices(function_ids, values, screen_width, minimap_width):
    """[...] function ids and [..., 13, 2] values -> [..., 13] indices, -1 where unused."""
    values = np.asarray(values, np.int64)
    indices = values[..., 0].copy()
    for t in SPATIAL_ARG_TYPES:
        indices[..., t] = point_to_index(values[..., t, 0], values[..., t, 1],
                                         _width(t, screen_width, minimap_width))
    return np.where(USES_ARG[np.asarray(function_ids, np.int64)], indices, -1)


def function_call_to_values(call):
    """pysc2 FunctionCall -> (function id, [13, 2] int64 values, -1 for unused types)."""
    function = actions.FUNCTIONS[call.function]
    values = np.full((NUM_ARG_TYPES, 2), -1, np.int64)
    for arg_type, arg in zip(function.args, call.arguments):
        if len(arg_type.sizes) == 2:
            values[arg_type.id] = [int(v) for v in arg]
        else:
            values[arg_type.id, 0] = int(arg[0])  # enum members (Queued.now, ...) are ints too
    return int(function.id), values


def values_to_function_call(function_id, values):
    """(function id, [13, 2] values) -> pysc2 FunctionCall."""
    function = actions.FUNCTIONS[int(function_id)]
    return actions.FunctionCall(function.id, [
        [int(v) for v in values[t.id]] if len(t.sizes) == 2 else [int(values[t.id][0])]
        for t in function.args])


def to_function_call(function_id, arg_indices, screen_width, minimap_width):
    """(function id, [13] indices) -> pysc2 FunctionCall (points as [x, y])."""
    values = indices_to_values(arg_indices, screen_width, minimap_width)
    return values_to_function_call(function_id, values)


def function_call_to_indices(call, screen_width, minimap_width):
    """pysc2 FunctionCall -> (function id, [13] int64 indices, -1 where unused)."""
    function_id, values = function_call_to_values(call)
    return function_id, values_to_indices(function_id, values, screen_width, minimap_width)
