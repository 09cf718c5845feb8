"""Which game runs the environments: real StarCraft II when it is installed, else the embedded engine."""
import os
import platform

from absl import logging

BACKENDS = ("auto", "sc2", "embedded")


class BackendError(Exception):
    """A backend was asked for that this machine cannot provide."""


def sc2_install_dir():
    """The folder pysc2 would launch StarCraft II from: SC2PATH, else the platform's default."""
    if os.environ.get("SC2PATH"):
        return os.path.expanduser(os.environ["SC2PATH"])
    system = platform.system()
    if system == "Windows":
        return "C:/Program Files (x86)/StarCraft II"
    if system == "Darwin":
        return "/Applications/StarCraft II"
    return os.path.expanduser("~/StarCraftII")


def sc2_installed():
    return os.path.isdir(os.path.join(sc2_install_dir(), "Versions"))


def choose_backend(backend="auto"):
    """Resolve 'auto' and check that the chosen backend can run; logs the choice once."""
    if backend not in BACKENDS:
        raise BackendError(f"Unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if backend == "auto":
        backend = "sc2" if sc2_installed() else "embedded"
    if backend == "sc2" and not sc2_installed():
        raise BackendError(
            f"StarCraft II is not installed: no Versions/ folder in {sc2_install_dir()}. "
            "Set SC2PATH to the game's folder, or use --backend embedded.")
    where = sc2_install_dir() if backend == "sc2" else "the mini-game engine in minigames/"
    logging.info("Environment backend: %s (%s)", backend, where)
    return backend


def make_env(backend="auto", **sc2_env_kwargs):
    """An SC2Env of the chosen backend, built from pysc2's SC2Env keyword arguments."""
    if choose_backend(backend) == "sc2":
        from absl import flags
        from pysc2.env import sc2_env

        if not flags.FLAGS.is_parsed():  # pysc2 reads its absl flags when it launches the game
            flags.FLAGS.mark_as_parsed()
        return sc2_env.SC2Env(**sc2_env_kwargs)
    from minigames.sc2_env import SC2Env

    return SC2Env(**sc2_env_kwargs)
