"""Interface text in English and Chinese (Simplified): the language of a request and its
dictionary, used by the templates and handed to the page's scripts as JSON."""

from __future__ import annotations

import functools
import json
from importlib import resources

from fastapi import Request

LANGUAGES = {"en": "English", "zh-CN": "简体中文"}
DEFAULT = "en"
COOKIE = "footage_lang"


@functools.cache
def dictionary(language: str) -> dict[str, str]:
    """The texts of ``language`` (a key of ``LANGUAGES``)."""
    text = (
        resources.files("footage.api.http")
        .joinpath(f"locales/{language}.json")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, str] = json.loads(text)
    return loaded


def _match(tag: str) -> str | None:
    tag = tag.strip().lower()
    if not tag:
        return None
    if tag.startswith("zh"):
        return "zh-CN"  # the only Chinese we have; better than English for zh-TW readers
    if tag.startswith("en"):
        return "en"
    return None


def choose(request: Request) -> str:
    """The ``lang`` query parameter, else the language cookie, else Accept-Language."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    for part in request.headers.get("accept-language", "").split(","):
        found = _match(part.split(";")[0])
        if found:
            return found
    return DEFAULT


class Translator:
    """``t("key", n=2)``: the text of ``key`` with its ``{placeholders}`` filled in."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.texts = dictionary(language)
        self._fallback = dictionary(DEFAULT)

    def __call__(self, key: str, **values: object) -> str:
        text = self.texts.get(key) or self._fallback.get(key) or key
        for name, value in values.items():
            text = text.replace("{" + name + "}", str(value))
        return text
