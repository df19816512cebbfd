"""Errors that are the user's to fix (exit code 2 on the command line)."""


class UserError(Exception):
    """Bad input: an unsupported model, a missing file, an impossible option.

    The message must name the ONNX node, path or option at fault and say what to change;
    the CLI prints it on one line and exits with status 2.
    """


def json_value(value):
    """``json.dumps`` default for numpy scalars and arrays (report and design files)."""
    import numpy as np

    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
