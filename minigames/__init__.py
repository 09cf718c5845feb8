"""The embedded engine: PySC2 mini-games simulated in numpy behind PySC2's own interface.

`SC2Env` is a drop-in for `pysc2.env.sc2_env.SC2Env`; `BatchEnv` steps N games at once for
training; `make_env` picks real StarCraft II when it is installed and this engine otherwise.
"""
import pysc2_shim  # noqa: F401  (must precede pysc2.lib.features)

from minigames.backend import BackendError, choose_backend, make_env, sc2_installed  # noqa: E402
from minigames.batch_env import BatchEnv  # noqa: E402
from minigames.sc2_env import SC2Env  # noqa: E402

__all__ = ["BackendError", "BatchEnv", "SC2Env", "choose_backend", "make_env", "sc2_installed"]
