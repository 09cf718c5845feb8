"""startup: the hint outside the project's environment, --verbose, silencing C++ start-up lines."""
import logging as python_logging
import os

import pytest

import startup


@pytest.mark.parametrize("argv,verbose", [
    (["run.py"], False), (["run.py", "--verbose"], True), (["run.py", "--verbose=True"], True),
    (["run.py", "--verbose", "False"], False), (["run.py", "--verbose", "--training"], True),
    (["run.py", "--noverbose"], False)])
def test_verbose_is_read_from_the_command_line(argv, verbose):
    assert startup.verbose_requested(argv) is verbose


def test_a_missing_dependency_ends_with_one_line_naming_the_fix(monkeypatch):
    monkeypatch.setattr(startup, "missing_modules", lambda: ["keras"])
    with pytest.raises(SystemExit) as exit:
        startup.prepare(["run.py"])
    message = str(exit.value.code)
    assert message.count("\n") == 0
    assert message.startswith("run.py: error: this Python (")
    assert "lacks keras" in message and "make setup" in message and ".venv/bin/python" in message


def test_stderr_is_silenced_at_the_file_descriptor_and_restored(capfd):
    with startup.stderr_silenced():
        os.write(2, b"C++ start-up line\n")
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "after\n"
    with pytest.raises(ValueError):
        with startup.stderr_silenced():
            raise ValueError("an import that fails")
    os.write(2, b"restored\n")
    assert capfd.readouterr().err == "restored\n"


def record(pathname, module, level=python_logging.INFO):
    return python_logging.makeLogRecord({"name": "absl", "levelno": level, "pathname": pathname,
                                         "module": module})


def test_library_info_lines_are_dropped_and_warnings_kept():
    keep = startup.LibraryLogFilter().filter
    assert keep(record("/work/run.py", "run"))
    assert not keep(record("/x/site-packages/pysc2/env/sc2_env.py", "sc2_env"))
    assert not keep(record("/work/minigames/sc2_env.py", "sc2_env"))  # "Starting episode ..."
    assert keep(record("/x/site-packages/pysc2/env/sc2_env.py", "sc2_env",
                       python_logging.WARNING))
