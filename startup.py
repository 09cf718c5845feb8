"""What every command of the project does first: a quiet start, and a hint outside its environment.

    import startup; startup.prepare()     # before TensorFlow, keras or pysc2 is imported

`prepare()`:
- ends with one line naming the fix when a dependency is missing (the user ran the system's
  `python` rather than the project's environment);
- unless `--verbose` is on the command line, silences TensorFlow's and CUDA's start-up lines (the
  oneDNN, cuFFT/cuDNN/cuBLAS registration and "computation placer" lines written to the process's
  stderr while TensorFlow loads) and its C++ log below errors (TF_CPP_MIN_LOG_LEVEL=3, which also
  hides grappler's "remapper failed" warning), and
- installs `LibraryLogFilter`, which drops INFO lines of the libraries and of the engine's
  per-episode messages (pysc2's "Starting episode ..."), keeping the project's own lines and
  every warning and error.

`--verbose` (a flag of every command that calls `define_verbose_flag`) brings all of it back.
"""
import contextlib
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
    with stderr_silenced():
        import tensorflow  # noqa: F401  its import is what writes the start-up lines

    from absl import logging

    logging.get_absl_handler().addFilter(LibraryLogFilter())
    python_logging.getLogger("tensorflow").setLevel(python_logging.ERROR)


def define_verbose_flag():
    """--verbose, so that absl accepts the flag prepare() reads (a second call does nothing)."""
    from absl import flags

    if "verbose" not in flags.FLAGS:
        flags.DEFINE_bool("verbose", False, "Show TensorFlow's and CUDA's start-up lines and "
                          "the libraries' INFO logging (hidden by default).")
