"""Give a model saved before the player thresholds (`utils.player_thresholds`) zero weights for them.

    python tools/widen_non_spatial.py Models/<run>.weights.h5 [more .weights.h5 files]

The thresholds are the last PLAYER_THRESHOLDS values of the non-spatial input, so the first dense
kernel over that input gains as many zero rows at its end: the widened network computes exactly
what the saved one did, and training can take the thresholds up from there. The description
beside the file records the new input length, which `run.py --load_model` checks. Each file is
rewritten through a temporary file, keeping its datasets' storage (the shipped weights stay
compressed float16).
"""
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import utils  # noqa: E402
from checkpoints import NON_SPATIAL_SIZE_BEFORE_THRESHOLDS, description_path  # noqa: E402
from minigames.files import write_atomically, write_json  # noqa: E402
from tools.ship_weights import copy_hdf5  # noqa: E402


def non_spatial_kernel(path, rows=NON_SPATIAL_SIZE_BEFORE_THRESHOLDS):
    """The name of the one dataset shaped [rows, units]: the kernel over a non-spatial input of
    `rows` values."""
    found = []
    with h5py.File(path, "r") as weights:
        weights.visititems(lambda name, item: found.append(name) if (
            isinstance(item, h5py.Dataset) and item.ndim == 2 and item.shape[0] == rows) else None)
    if len(found) != 1:
        raise ValueError(f"{path}: expected one kernel over a non-spatial input of {rows} values, "
                         f"found {len(found)}.")
    return found[0]


def widen(source, destination):
    """Copy a weights file, appending PLAYER_THRESHOLDS zero rows to its non-spatial kernel."""
    kernel = non_spatial_kernel(source)

    def convert(name, dataset):
        data = dataset[()]
        if name == kernel:
            data = np.concatenate([data, np.zeros((utils.PLAYER_THRESHOLDS, data.shape[1]),
                                                  data.dtype)])
        storage = {"compression": dataset.compression,
                   "compression_opts": dataset.compression_opts, "shuffle": dataset.shuffle}
        return data, storage

    copy_hdf5(source, destination, convert)


def main(argv):
    paths = argv[1:]
    if not paths or not all(path.endswith(".weights.h5") for path in paths):
        sys.exit("usage: python tools/widen_non_spatial.py <model>.weights.h5 [...]")
    for path in paths:
        with open(description_path(path)) as f:
            description = json.load(f)
        if "non_spatial_size" in description:
            print(f"{path}: already reads {description['non_spatial_size']} values; left as is")
            continue
        write_atomically(path, lambda temporary: widen(path, temporary))
        write_json(description_path(path),
                   {**description, "non_spatial_size": utils.NON_SPATIAL_SIZE})
        print(f"{path}: {NON_SPATIAL_SIZE_BEFORE_THRESHOLDS} -> {utils.NON_SPATIAL_SIZE} "
              "non-spatial values")


if __name__ == "__main__":
    main(sys.argv)
