"""Path and method routing, compiled once: exact paths by dict, parametrised ones by regex."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import unquote

H = TypeVar("H", bound=Callable[..., object])


@dataclass(frozen=True)
class Match(Generic[H]):
    """What a path resolved to: the handlers by method, and the percent-decoded path parts."""

    methods: dict[str, H]
    args: tuple[str, ...]

    @property
    def allow(self) -> str:
        """The Allow header of a 405 answer."""
        return ", ".join(sorted(self.methods))


class Router(Generic[H]):
    """Maps a raw (still percent-encoded) path to handlers.

    Patterns match the raw path, so an encoded "/" inside a voucher code stays inside its part.
    """

    def __init__(self) -> None:
        self._exact: dict[str, dict[str, H]] = {}
        self._patterns: list[tuple[re.Pattern[str], dict[str, H]]] = []

    def add(self, path: str, methods: dict[str, H]) -> None:
        """Route a path; "{}" in it stands for one path segment, passed on decoded."""
        if "{}" not in path:
            self._exact[path] = methods
            return
        regex = (
            "^"
            + "/".join("([^/]+)" if part == "{}" else re.escape(part) for part in path.split("/"))
            + "$"
        )
        self._patterns.append((re.compile(regex), methods))

    def match(self, path: str) -> Match[H] | None:
        """The route for a path, or None when nothing is routed there."""
        methods = self._exact.get(path)
        if methods is not None:
            return Match(methods, ())
        for regex, methods in self._patterns:
            found = regex.match(path)
            if found:
                return Match(methods, tuple(unquote(part) for part in found.groups()))
        return None
