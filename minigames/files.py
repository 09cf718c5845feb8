"""Writing files so that a killed process never leaves a half-written one under the final name."""
import json
import os
import tempfile


def write_atomically(path, write):
    """Call `write(temporary_path)`, then rename the temporary file to `path`.

    The temporary file sits in the same folder (so the rename is atomic) and ends with the final
    file name (so writers that pick a format by extension, like Keras's `.weights.h5`, accept it).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".partial-", suffix=os.path.basename(path),
                                         dir=folder)
    os.close(handle)
    try:
        write(temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes files private; ours are for everyone to read
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def write_json(path, data, indent=1):
    """Write `data` as JSON, atomically."""
    def write(temporary):
        with open(temporary, "w") as f:
            json.dump(data, f, indent=indent)
    return write_atomically(path, write)
