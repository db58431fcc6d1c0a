"""Optional interop with pandas, imported only when asked for."""

from __future__ import annotations

import importlib.util

__all__ = ["require_pandas"]


def require_pandas() -> None:
    """Check pandas can be imported; else an ImportError that names the extra.

    Raises:
        ImportError: pandas is not installed.
    """
    if importlib.util.find_spec("pandas") is None:
        msg = "this needs pandas: pip install 'salesflow[dataframe]'"
        raise ImportError(msg)
