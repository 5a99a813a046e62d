"""The examples in the library's docstrings run and print what they show.

The style asks every algorithm for a small example in its docstring; run here, an example
that drifts from the code (a new rule, a renamed field) fails the suite instead of misleading
the next reader.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lineage
import registry


def _modules() -> list[str]:
    names = []
    for package in (lineage, registry):
        names += [m.name for m in pkgutil.walk_packages(package.__path__, f"{package.__name__}.")]
    return sorted(names)


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_hold(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} fail (run `pytest --doctest-modules` on its file for the details)"
