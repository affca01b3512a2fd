"""Whether a place name names a country, so that "Which city ...?" is not answered with "Turkey", or a
state ("Which state ...?": "Arizona" before "Glendale").

The names come from ISO 3166 (the ``pycountry`` package: each country's name, its short form before a
comma, its common and official names) plus the everyday forms ISO does not list ("Russia", "Turkey",
"Britain", "the Soviet Union" ...). City-states are left out: "Singapore" may well answer "Which city?".
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

__all__ = ["is_country", "is_state", "load_place_names"]

_EVERYDAY_NAMES = (
    "Russia", "Turkey", "Turkiye", "Britain", "Great Britain", "UK", "U.K.", "England", "Scotland", "Wales",
    "Northern Ireland", "US", "U.S.", "USA", "U.S.A.", "America", "United States of America", "Iran", "Syria",
    "South Korea", "North Korea", "Korea", "Vietnam", "Laos", "Moldova", "Bolivia", "Venezuela", "Tanzania",
    "Taiwan", "Palestine", "Czech Republic", "Czechia", "Holland", "Ivory Coast", "Burma", "Congo",
    "Democratic Republic of the Congo", "DR Congo", "Soviet Union", "USSR", "Yugoslavia", "Czechoslovakia",
    "Prussia", "West Germany", "East Germany", "Persia", "Siam", "Ceylon", "Zaire", "Rhodesia", "Kosovo",
    "Vatican City", "Brunei", "Cape Verde", "Swaziland", "Micronesia", "Macedonia", "East Timor",
)  # fmt: skip
_CITY_STATES = frozenset({"singapore", "monaco", "hong kong", "macao", "macau", "holy see", "vatican city", "kuwait"})
_ARTICLE = re.compile(r"^the\s+")


def _key(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold().replace("’", "'")
    return _ARTICLE.sub("", " ".join(folded.split()))


@cache
def _country_names() -> frozenset[str]:
    names: set[str] = {_key(name) for name in _EVERYDAY_NAMES}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            value = getattr(country, attribute, None)
            if value:
                names.add(_key(value))
                names.add(_key(value.split(",")[0]))
    return frozenset(names - _CITY_STATES)


def is_country(text: str) -> bool:
    """Whether ``text`` ("Türkiye", "the United Kingdom", "Russia") is the name of a country."""
    return _key(text) in _country_names()


@cache
def _state_names() -> frozenset[str]:
    return frozenset(_key(s.name) for s in pycountry.subdivisions if s.type == "State")


def is_state(text: str) -> bool:
    """Whether ``text`` names a state: a country, or a region ISO 3166-2 calls a state ("Arizona", "Bavaria")."""
    key = _key(text)
    return key in _state_names() or key in _country_names()


def load_place_names() -> None:
    """Read the country and state names now (about 60 ms), so the first place question is not the slow one."""
    _country_names()
    _state_names()
