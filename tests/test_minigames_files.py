"""minigames.files: a failed write leaves the old file, and no temporary file, behind."""
import json
import os
import stat

import pytest

from minigames import files


def test_failed_write_keeps_the_previous_file_and_cleans_up(tmp_path):
    path = tmp_path / "model.weights.h5"
    path.write_text("old")

    def fail_halfway(temporary):
        assert temporary.endswith("model.weights.h5")  # writers that check the extension accept it
        with open(temporary, "w") as f:
            f.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        files.write_atomically(str(path), fail_halfway)
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["model.weights.h5"]


def test_write_json_creates_the_folder_and_a_readable_file(tmp_path):
    path = tmp_path / "new" / "description.json"
    assert files.write_json(str(path), {"score": 25}) == str(path)
    assert json.loads(path.read_text()) == {"score": 25}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(path.parent) == ["description.json"]
