"""Optional dependencies (pandas, pyarrow, matplotlib), imported only when asked for."""

from __future__ import annotations

import importlib.util

__all__ = ["require_matplotlib", "require_pandas", "require_pyarrow"]


def _require(module: str, extra: str, message: str) -> None:
    if importlib.util.find_spec(module) is None:
        msg = f"{message}: pip install 'salesflow[{extra}]'"
        raise ImportError(msg)


def require_pandas() -> None:
    """Check pandas can be imported; else an ImportError that names the extra.

    Raises:
        ImportError: pandas is not installed.
    """
    _require("pandas", "dataframe", "this needs pandas")


def require_pyarrow() -> None:
    """Check pyarrow can be imported; else an ImportError that names the extra.

    Raises:
        ImportError: pyarrow is not installed.
    """
    _require("pyarrow", "arrow", "this needs pyarrow")


def require_matplotlib() -> None:
    """Check matplotlib can be imported; else an ImportError that names the extra.

    Raises:
        ImportError: matplotlib is not installed.
    """
    _require("matplotlib", "plot", "plots need matplotlib")
