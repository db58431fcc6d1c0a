"""Distributions of annual attainment that `simulate` draws from.

Each is a small frozen value with its parameters checked on construction (one number
for every payee, or one per payee) and a ``draw(rng, payee, scenarios)`` that gives
``scenarios`` attainments ``>= 0`` of one payee from that payee's own random stream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, final

import numpy as np

from salesflow.errors import InvalidValueError, Location

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["Bootstrap", "Distribution", "LogNormal", "Normal", "Samples", "Uniform"]


def _invalid(message: str, where: str) -> InvalidValueError:
    return InvalidValueError(
        message, code="incentives.invalid_distribution", location=Location(path=where)
    )


def _parameter(value: ArrayLike, name: str, *, positive: bool = False) -> NDArray[np.float64]:
    """A distribution parameter: one finite float, or one per payee."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim > 1:
        msg = f"{name} must be a number or one number per payee, not shape {array.shape}"
        raise _invalid(msg, name)
    low = 0.0 if not positive else np.nextafter(0.0, 1.0)
    if not np.all(np.isfinite(array)) or np.any(array < low):
        bound = "> 0" if positive else ">= 0"
        msg = f"{name} must be finite and {bound}, not {value!r}"
        raise _invalid(msg, name)
    return array


def _at(parameter: NDArray[np.float64], payee: int) -> float:
    return float(parameter if parameter.ndim == 0 else parameter[payee])


def _per_payee_size(parameter: NDArray[np.float64], payees: int, where: str) -> None:
    if parameter.ndim == 1 and parameter.shape[0] != payees:
        msg = f"{where} has {parameter.shape[0]} values for {payees} payees"
        raise _invalid(msg, where)


class Distribution(Protocol):
    """What `simulate` draws annual attainments from (``1.0`` is 100% of quota).

    The distributions salesflow ships: `Normal`, `LogNormal`, `Uniform`, `Bootstrap`
    and `Samples`. Their parameters are one number for every payee or one per payee.
    """

    def check(self, payees: int, scenarios: int, where: str) -> None:
        """Raise `InvalidValueError` when the parameters do not fit the simulation."""

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:
        """``scenarios`` attainments of payee ``payee`` (index in `Payees`), all ``>= 0``."""


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class Normal:
    """Normal attainment, negative draws set to 0 (a payee cannot sell less than nothing).

    Attributes:
        mean: The mean attainment (``1.0`` is 100%), one or one per payee.
        sd: The standard deviation, ``>= 0``, one or one per payee.

    >>> Normal(1.0, 0.25).draw(np.random.default_rng(7), 0, 3).round(3)
    array([1.   , 1.075, 0.931])
    """

    mean: NDArray[np.float64]
    sd: NDArray[np.float64]

    def __init__(self, mean: ArrayLike, sd: ArrayLike) -> None:
        """Check and keep the parameters."""
        object.__setattr__(self, "mean", _parameter(mean, "mean"))
        object.__setattr__(self, "sd", _parameter(sd, "sd"))

    def check(self, payees: int, scenarios: int, where: str) -> None:  # noqa: ARG002
        """Parameters given per payee must have one per payee."""
        _per_payee_size(self.mean, payees, f"{where}.mean")
        _per_payee_size(self.sd, payees, f"{where}.sd")

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:
        """Draw, then clip at 0."""
        values = rng.normal(_at(self.mean, payee), _at(self.sd, payee), scenarios)
        return np.maximum(values, 0.0, out=values)


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class LogNormal:
    """Log-normal attainment with the given mean and standard deviation of attainment.

    The underlying normal has ``sigma**2 = log(1 + sd**2 / mean**2)`` and
    ``mu = log(mean) - sigma**2 / 2``, so the attainments themselves have ``mean`` and
    ``sd``: a right-skewed spread with no negative attainment.

    Attributes:
        mean: The mean attainment, ``> 0``, one or one per payee.
        sd: The standard deviation of attainment, ``>= 0``, one or one per payee.
    """

    mean: NDArray[np.float64]
    sd: NDArray[np.float64]

    def __init__(self, mean: ArrayLike, sd: ArrayLike) -> None:
        """Check and keep the parameters."""
        object.__setattr__(self, "mean", _parameter(mean, "mean", positive=True))
        object.__setattr__(self, "sd", _parameter(sd, "sd"))

    def check(self, payees: int, scenarios: int, where: str) -> None:  # noqa: ARG002
        """Parameters given per payee must have one per payee."""
        _per_payee_size(self.mean, payees, f"{where}.mean")
        _per_payee_size(self.sd, payees, f"{where}.sd")

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:
        """Draw from the log-normal with the matching underlying normal."""
        mean, sd = _at(self.mean, payee), _at(self.sd, payee)
        sigma2 = math.log1p((sd / mean) ** 2)
        return rng.lognormal(math.log(mean) - sigma2 / 2, math.sqrt(sigma2), scenarios)


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class Uniform:
    """Attainment uniform on ``[low, high)``.

    Attributes:
        low: The least attainment, ``>= 0``, one or one per payee.
        high: The bound above, ``>= low``, one or one per payee.
    """

    low: NDArray[np.float64]
    high: NDArray[np.float64]

    def __init__(self, low: ArrayLike, high: ArrayLike) -> None:
        """Check and keep the parameters."""
        object.__setattr__(self, "low", _parameter(low, "low"))
        object.__setattr__(self, "high", _parameter(high, "high"))
        if np.any(self.high < self.low):
            msg = f"high must not be below low ({high!r} < {low!r})"
            raise _invalid(msg, "high")

    def check(self, payees: int, scenarios: int, where: str) -> None:  # noqa: ARG002
        """Parameters given per payee must have one per payee."""
        _per_payee_size(self.low, payees, f"{where}.low")
        _per_payee_size(self.high, payees, f"{where}.high")

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:
        """Draw uniformly."""
        return rng.uniform(_at(self.low, payee), _at(self.high, payee), scenarios)


def _attainments(values: ArrayLike, name: str, ndim: tuple[int, ...]) -> NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim not in ndim or array.size == 0:
        msg = f"{name} must be a non-empty array of {' or '.join(map(str, ndim))} dimensions"
        raise _invalid(msg, name)
    bad = np.flatnonzero(~np.isfinite(array.ravel()) | (array.ravel() < 0))
    if bad.size:
        at = np.unravel_index(int(bad[0]), array.shape)
        index = ", ".join(str(int(i)) for i in at)
        msg = f"{name}[{index}] is {array[at]!r}; attainments are finite and >= 0"
        raise _invalid(msg, f"{name}[{index}]")
    array.setflags(write=False)
    return array


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class Bootstrap:
    """Attainments resampled, with replacement, from history.

    Attributes:
        history: Past annual attainments: 1-D (pooled: every payee draws from all of
            them) or 2-D ``(years, payees)`` (each payee draws from their own column).
    """

    history: NDArray[np.float64]

    def __init__(self, history: ArrayLike) -> None:
        """Check and keep the history."""
        object.__setattr__(self, "history", _attainments(history, "history", (1, 2)))

    def check(self, payees: int, scenarios: int, where: str) -> None:  # noqa: ARG002
        """A 2-D history needs one column per payee."""
        if self.history.ndim == 2 and self.history.shape[1] != payees:  # noqa: PLR2004
            msg = f"{where}.history has {self.history.shape[1]} columns for {payees} payees"
            raise _invalid(msg, f"{where}.history")

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:
        """Resample uniformly with replacement."""
        picks = rng.integers(0, self.history.shape[0], scenarios)
        column = self.history if self.history.ndim == 1 else self.history[:, payee]
        return column[picks]


@final
@dataclass(frozen=True, slots=True, eq=False, init=False)
class Samples:
    """Attainments given outright, one per scenario and payee (no randomness).

    Attributes:
        values: ``(scenarios, payees)`` attainments.
    """

    values: NDArray[np.float64]

    def __init__(self, values: ArrayLike) -> None:
        """Check and keep the samples."""
        object.__setattr__(self, "values", _attainments(values, "values", (2,)))

    def check(self, payees: int, scenarios: int, where: str) -> None:
        """The samples must be ``(scenarios, payees)``."""
        if self.values.shape != (scenarios, payees):
            msg = (
                f"{where}.values has shape {self.values.shape}, "
                f"not (scenarios, payees) = {(scenarios, payees)}"
            )
            raise _invalid(msg, f"{where}.values")

    def draw(self, rng: np.random.Generator, payee: int, scenarios: int) -> NDArray[np.float64]:  # noqa: ARG002
        """The given column."""
        return self.values[:scenarios, payee].copy()
