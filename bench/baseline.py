"""Run a benchmark of this tree and of another commit side by side.

`extracted(commit)` writes the files of `commit` of this repository (`git archive`: tracked files
only, no git metadata is changed) into a temporary folder; `run_json(folder, module, args)` runs
`python -m module args` there with this Python and returns the last line it printed as JSON.
Benchmarks compare two versions this way in one run, under the same machine load as far as
running them in turn allows.
"""
import contextlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@contextlib.contextmanager
def extracted(commit):
    """A temporary folder holding `commit`'s files; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"baseline-{commit[:12]}-") as folder:
        archive = os.path.join(folder, "tree.tar")
        subprocess.run(["git", "-C", REPOSITORY, "archive", "--format=tar", "-o", archive, commit],
                       check=True)
        tree = os.path.join(folder, "tree")
        with tarfile.open(archive) as tar:
            tar.extractall(tree, filter="data")
        os.remove(archive)
        yield tree


def run_json(folder, module, args):
    """Run `python -m module *args` in `folder`; returns its last stdout line parsed as JSON.
    Its log goes to this process's stderr."""
    result = subprocess.run([sys.executable, "-m", module, *args], cwd=folder, check=True,
                            stdout=subprocess.PIPE, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def forwarded_flags(argv, own_flags):
    """argv[1:] without the flags named in own_flags (`--name value` or `--name=value`)."""
    forwarded, skip_value = [], False
    for argument in argv[1:]:
        if skip_value:
            skip_value = False
            continue
        name = argument.lstrip("-").split("=", 1)[0]
        if argument.startswith("--") and name in own_flags:
            skip_value = "=" not in argument
            continue
        forwarded.append(argument)
    return forwarded
