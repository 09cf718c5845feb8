"""Copy a trained model into weights/ as float16, gzip-compressed HDF5, small enough to commit.

    python tools/ship_weights.py Models/MoveToBeacon_fullyconv_seed42_<time>.weights.h5

writes weights/<map>_<network>.weights.h5 and its .json description, which `run.py --load_model
True` falls back to when the workspace has no saved model of that map and network. Keras reads
the float16 arrays back into its float32 variables; rounding moves a weight by at most ~1e-3 of
its size (the README's evaluation figures are measured on the shipped files).
"""
import json
import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from minigames.files import write_atomically, write_json  # noqa: E402
from checkpoints import SHIPPED_WEIGHTS_DIR  # noqa: E402  (--load_model True's fallback)


def copy_hdf5(source, destination, convert):
    """Copy an HDF5 file's groups, datasets and attributes; each dataset is stored as
    `convert(name, dataset)` gives it: (array, keyword arguments of h5py's create_dataset)."""
    with h5py.File(source, "r") as original, h5py.File(destination, "w") as copied:
        copied.attrs.update(original.attrs)

        def copy(name, item):
            if isinstance(item, h5py.Dataset):
                data, storage = convert(name, item)
                copied.create_dataset(name, data=data, **storage)
            else:
                copied.require_group(name)
            copied[name].attrs.update(item.attrs)

        original.visititems(copy)


def as_float16(name, dataset):
    """Float32 datasets as compressed float16, everything else as is."""
    data = dataset[()]
    if data.dtype != np.float32:
        return data, {}
    return data.astype(np.float16), {"compression": "gzip", "compression_opts": 9, "shuffle": True}


def main(argv):
    if len(argv) != 2 or not argv[1].endswith(".weights.h5"):
        sys.exit("usage: python tools/ship_weights.py <trained model>.weights.h5")
    source = argv[1]
    with open(source[:-len(".weights.h5")] + ".json") as f:
        description = json.load(f)
    name = f"{description['environment']}_{description['model_name']}"
    destination = write_atomically(os.path.join(SHIPPED_WEIGHTS_DIR, f"{name}.weights.h5"),
                                   lambda temporary: copy_hdf5(source, temporary, as_float16))
    description["shipped_from"] = os.path.basename(source)
    write_json(os.path.join(SHIPPED_WEIGHTS_DIR, f"{name}.json"), description)
    print(f"{destination}: {os.path.getsize(destination) / 1e6:.1f} MB")


if __name__ == "__main__":
    main(sys.argv)
