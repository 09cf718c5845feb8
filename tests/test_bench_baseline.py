"""bench.baseline: the flags a side-by-side benchmark passes on to the other commit."""
import os
import subprocess

import pytest

from bench import baseline


@pytest.mark.parametrize("argv,expected", [
    (["b", "--seed", "1", "--baseline_commit", "27f599d", "--target", "25"],
     ["--seed", "1", "--target", "25"]),
    (["b", "--baseline_commit=27f599d", "--seed=1"], ["--seed=1"]),
    (["b", "--seed", "1"], ["--seed", "1"]),
    (["b", "--baseline_commit_x", "2"], ["--baseline_commit_x", "2"]),
])
def test_forwarded_flags_drop_only_the_benchmarks_own(argv, expected):
    assert baseline.forwarded_flags(argv, ("baseline_commit",)) == expected


def test_extracted_holds_the_commits_files_and_is_removed_afterwards():
    committed = subprocess.run(["git", "-C", baseline.REPOSITORY, "show", "HEAD:network.py"],
                               check=True, capture_output=True).stdout
    with baseline.extracted("HEAD") as tree:
        with open(os.path.join(tree, "network.py"), "rb") as network_file:
            assert network_file.read() == committed
    assert not os.path.exists(tree)
