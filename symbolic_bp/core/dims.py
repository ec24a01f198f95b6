"""Dimensions and shapes.

A dimension is an integer coefficient times a product of size names
(``n``, ``2*n``, ``m*n``); a shape is a pair of dimensions, a column vector
has a second dimension 1 and a scalar is 1x1.

>>> n, m = Dim.of("n"), Dim.of("m")
>>> show((n * m, ONE)), (n * m).divide(m), Dim(1024)
('(m*n,1)', Dim('n'), Dim('32*32'))
"""
from __future__ import annotations

from dataclasses import dataclass
from math import prod

MAX_DIM = 32        # the largest literal dimension a declaration may name


@dataclass(frozen=True)
class Dim:
    """A dimension: an integer coefficient times a product of size names."""

    coef: int
    names: tuple[str, ...] = ()

    @staticmethod
    def of(value: "int | str") -> "Dim":
        return Dim(value, ()) if isinstance(value, int) else Dim(1, (value,))

    def __mul__(self, other: "Dim") -> "Dim":
        return Dim(self.coef * other.coef, tuple(sorted(self.names + other.names)))

    def divide(self, other: "Dim") -> "Dim | None":
        """``self / other`` when it is again a dimension, else None."""
        names = list(self.names)
        for n in other.names:
            if n not in names:
                return None
            names.remove(n)
        if self.coef % other.coef:
            return None
        return Dim(self.coef // other.coef, tuple(names))

    def value(self, sizes: dict[str, int]) -> int:
        return self.coef * prod(sizes[n] for n in self.names)

    def factors(self) -> list[str]:
        """The factors as the claim language writes them: a literal above
        MAX_DIM (of a kron) is split into factors of at most MAX_DIM."""
        literal, n = [], self.coef
        while n > MAX_DIM:
            factor = max(f for f in range(2, MAX_DIM + 1) if n % f == 0)
            literal.append(str(factor))
            n //= factor
        if n != 1 or not self.names:
            literal.append(str(n))
        return literal + list(self.names)

    def __str__(self) -> str:
        return "*".join(self.factors())

    def __repr__(self) -> str:
        return f"Dim('{self}')"


ONE = Dim(1)
SCALAR = (ONE, ONE)


def is_scalar(shape) -> bool:
    return shape == SCALAR


def show(shape) -> str:
    return f"({shape[0]},{shape[1]})"


def concrete(shape, sizes: dict[str, int]) -> tuple[int, int]:
    return (shape[0].value(sizes), shape[1].value(sizes))
