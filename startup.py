"""What every command of the project does first: a quiet start, and a hint outside its environment.

    import startup; startup.prepare()     # before TensorFlow, keras or pysc2 is imported

`prepare()`:
- ends with one line naming the fix when a dependency is missing (the user ran the system's
  `python` rather than the project's environment);
- unless `--verbose` is on the command line, silences TensorFlow's and CUDA's start-up lines (the
  oneDNN, cuFFT/cuDNN/cuBLAS registration and "computation placer" lines written to the process's
  stderr while TensorFlow loads: `QuietTensorFlowImport` points file descriptor 2 at /dev/null
  while the first `import tensorflow` runs, whoever imports it, so commands that never import
  it do not pay for it) and its C++ log below errors (TF_CPP_MIN_LOG_LEVEL=3), and
- installs `LibraryLogFilter`, which drops INFO lines of the libraries and of the engine's
  per-episode messages (pysc2's "Starting episode ..."), keeping the project's own lines and
  every warning and error.

`--verbose` (a flag of every command that calls `define_verbose_flag`) brings all of it back.

`skip_failing_remapper()` is for the AlphaStar-style network: grappler's remapper fails on its
residual blocks ("remapper failed: INVALID_ARGUMENT: Mutation::Apply error: fanout ... exist for
missing node ..."), an error line logged through absl's C++ logging, which TF_CPP_MIN_LOG_LEVEL does
not reach. Grappler then goes on without that pass; switching the remapper off for that
network's runs removes the line (and the fusions it might have made in the network's other
graphs; their speed was not measured).
"""
import contextlib
import importlib.abc
import importlib.util
import logging as python_logging
import os
import sys

# What the project's commands import; a missing one means the wrong Python.
REQUIRED_MODULES = ("absl", "numpy", "tensorflow", "keras", "pysc2")
VERBOSE_ARGUMENTS = ("--verbose", "--verbose=true", "--verbose=True", "--verbose=1")
# The engine's pysc2-like episode messages, one per game: library chatter for a command's user.
CHATTY_MODULES = ("sc2_env",)


def verbose_requested(argv):
    arguments = list(argv)
    if "--verbose" in arguments:
        following = arguments.index("--verbose") + 1
        if following < len(arguments) and arguments[following].lower() in ("false", "f", "0"):
            return False
        return True
    return any(argument in VERBOSE_ARGUMENTS for argument in arguments)


def missing_modules():
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def environment_hint(program, missing):
    return (f"{program}: error: this Python ({sys.executable}) lacks {', '.join(missing)}; run "
            "`make setup` in the project's folder once, then use `.venv/bin/python` (or "
            "`source .venv/bin/activate`).")


@contextlib.contextmanager
def stderr_silenced():
    """Point file descriptor 2 at /dev/null (C++ libraries write there directly, not through
    sys.stderr) and restore it afterwards, also when the block raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


class QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds `tensorflow` once, with a loader that runs its import under stderr_silenced."""

    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once; the search below must not find this finder again
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = SilencedLoader(spec.loader)
        return spec


class SilencedLoader(importlib.abc.Loader):
    """A module loader whose module runs with file descriptor 2 silenced."""

    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        with stderr_silenced():
            self.loader.exec_module(module)

    def __getattr__(self, name):  # everything else (resources, source) is the real loader's
        return getattr(self.loader, name)


class LibraryLogFilter(python_logging.Filter):
    """Keeps warnings and errors, and INFO lines of the project's own modules."""

    def filter(self, record):
        if record.levelno >= python_logging.WARNING:
            return True
        return "site-packages" not in record.pathname and record.module not in CHATTY_MODULES


def prepare(argv=None, program=None):
    """See the module docstring. Call before importing TensorFlow."""
    argv = sys.argv if argv is None else argv
    program = program or os.path.basename(argv[0] if argv else "python")
    missing = missing_modules()
    if missing:
        sys.exit(environment_hint(program, missing))
    if verbose_requested(argv):
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if "tensorflow" not in sys.modules:
        sys.meta_path.insert(0, QuietTensorFlowImport())
    from absl import logging

    logging.get_absl_handler().addFilter(LibraryLogFilter())
    python_logging.getLogger("tensorflow").setLevel(python_logging.ERROR)


def skip_failing_remapper():
    """Switch grappler's remapper off (see the module docstring)."""
    import tensorflow as tf

    tf.config.optimizer.set_experimental_options({"remapping": False})


def define_verbose_flag():
    """--verbose, so that absl accepts the flag prepare() reads (a second call does nothing)."""
    from absl import flags

    if "verbose" not in flags.FLAGS:
        flags.DEFINE_bool("verbose", False, "Show TensorFlow's and CUDA's start-up lines and "
                          "the libraries' INFO logging (hidden by default).")


# ------------------------------------------------------------------- console entry points
# `pip install -e .` (make setup) installs these; each starts quietly before importing TensorFlow.
def run_command():
    """alphastar-run: run.py."""
    prepare(program="alphastar-run")
    import cli_flags

    cli_flags.parse_flags(sys.argv)  # before run's TensorFlow import: flag mistakes in a second
    import run

    run.cli()


def convert_command():
    """alphastar-convert: trajectory_generator.py."""
    prepare(program="alphastar-convert")
    import trajectory_generator

    trajectory_generator.cli()


def play_command():
    """minigames-play: python -m minigames.play."""
    prepare(program="minigames-play")
    from minigames import play

    play.cli()
