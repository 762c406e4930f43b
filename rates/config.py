"""``config.yaml``: pydantic models, loading with line numbers, every problem at once."""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from rates.errors import ConfigError, ConfigProblem
from rates.gold import GoldSettings
from rates.localized import Localized
from rates.sources import REGISTRY, SourceSettings
from rates.sources.base import CurrencyCode, SourceId, normalize_code
from rates.units import Duration, Fraction
from rates.yaml_lines import LinedYaml, YamlSyntaxError, dotted
from rates.yaml_lines import Path as YamlPath
from widget.choices import Digits, Theme
from widget.texts import LANGS, Lang, text

Code = Annotated[CurrencyCode, BeforeValidator(normalize_code)]


def _every_language(value: Any) -> Any:
    """A plain string names every language; a map names some (the rest fall back to defaults)."""
    if isinstance(value, str):
        return dict.fromkeys(LANGS, value)
    if not isinstance(value, dict):
        raise ValueError(f"must be a string or a map of languages ({', '.join(LANGS)}) to strings")
    return value


# A config text per language: ``"…"`` or ``{ar: "…", ckb: "…", en: "…"}``.
LocalName = Annotated[dict[Lang, Annotated[str, Field(min_length=1, max_length=60)]], BeforeValidator(_every_language)]
LocalTitle = Annotated[
    dict[Lang, Annotated[str, Field(min_length=1, max_length=120)]], BeforeValidator(_every_language)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


PositiveNumber = Annotated[Decimal, Field(gt=0, allow_inf_nan=False)]


class Currency(_Strict):
    code: Code
    name: LocalName | None = None
    # strict: YAML's `true` is not the number 1.
    per: Annotated[int, Field(strict=True, ge=1, le=1_000_000)] = 1
    unit: Localized | None = None  # the name of `per` units: "تومان" for 10 rials
    note: Localized | None = None  # shown on the row: official, but not what readers pay
    sources: list[SourceId] | None = None
    range: tuple[PositiveNumber, PositiveNumber] | None = None  # IQD per one unit: [MIN, MAX]

    @field_validator("range")
    @classmethod
    def _min_below_max(cls, value: tuple[Decimal, Decimal] | None) -> tuple[Decimal, Decimal] | None:
        if value is not None and not value[0] < value[1]:
            raise ValueError("range must be [MIN, MAX] with MIN below MAX")
        return value


def _currency_entry(value: Any) -> Any:
    return {"code": value} if isinstance(value, str) else value


class Policy(_Strict):
    stale_after: Duration = timedelta(hours=36)
    max_jump: Fraction = Decimal("0.10")
    agree_within: Fraction = Decimal("0.02")
    published_within: Duration = timedelta(days=10)


class Storage(_Strict):
    dir: Path = Path("var/rates")

    @field_validator("dir", mode="before")
    @classmethod
    def _not_empty(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            raise ValueError("must name a folder: an empty dir would put the store beside the config file")
        return value


class Server(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(strict=True, ge=0, le=65535)] = 8080
    cors_origins: list[str] = ["*"]
    frame_ancestors: list[str] = ["*"]
    max_age: Duration = timedelta(seconds=60)
    tls_cert: Path | None = None  # both set: serve HTTPS (PEM files, relative to the config file)
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> Server:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: set both to serve HTTPS, or neither")
        return self

    @field_validator("host")
    @classmethod
    def _host_named(cls, value: str) -> str:
        if not value.strip():
            # aiohttp would listen on every interface; whoever means that writes 0.0.0.0 or ::.
            raise ValueError("must name an address, e.g. 127.0.0.1 (write 0.0.0.0 or :: for every interface)")
        return value


def _argv(value: Any) -> Any:
    """A command as a string (split like a shell would, but never run by one) or as a list."""
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError as exc:
            raise ValueError(f"cannot split the command into words ({exc})") from None
    if value == []:
        raise ValueError("the command must name the program to run, e.g. rclone sync . remote:rates")
    return value


Command = Annotated[list[Annotated[str, Field(min_length=1)]], BeforeValidator(_argv), Field(min_length=1)]


class Publish(_Strict):
    """Write the prepared bodies to ``dir`` on every data change, then run ``command`` (e.g. a CDN sync)."""

    dir: Path
    command: Command | None = None
    timeout: Duration = timedelta(seconds=60)


class Widget(_Strict):
    title: LocalTitle = Field(default_factory=lambda: {lang: text("title", lang) for lang in LANGS})
    digits: Digits = "arab"
    theme: Theme = "auto"
    lang: Lang = "ar"
    gold: GoldSettings | None = None  # absent: no gold section, /api/v1/gold is 404


class Config(_Strict):
    base: Literal["IQD"] = "IQD"
    currencies: Annotated[list[Annotated[Currency, BeforeValidator(_currency_entry)]], Field(min_length=1)]
    sources: Annotated[list[SourceSettings], Field(min_length=1)]
    policy: Policy = Policy()
    storage: Storage = Storage()
    server: Server = Server()
    widget: Widget = Widget()
    publish: Publish | None = None
    # Where it was read from and when; not keys of the file.
    path: Path = Path("config.yaml")
    loaded_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    def source(self, source_id: str) -> SourceSettings:
        """The settings of ``source_id``; KeyError (never StopIteration) when there is none."""
        for settings in self.sources:
            if settings.id == source_id:
                return settings
        raise KeyError(source_id)

    def preference(self, code: str) -> list[str]:
        """Source ids to try for ``code``, most preferred first."""
        currency = next((c for c in self.currencies if c.code == code), None)
        if currency is not None and currency.sources:
            return currency.sources
        return [s.id for s in self.sources]

    def currency_range(self, code: str) -> tuple[Decimal, Decimal] | None:
        currency = next((c for c in self.currencies if c.code == code), None)
        return None if currency is None else currency.range

    @property
    def codes(self) -> list[str]:
        return [c.code for c in self.currencies]


# A real config is a few kilobytes; this bounds what a mistaken or hostile file can cost.
MAX_CONFIG_BYTES = 1024 * 1024


def config_path(explicit: str | os.PathLike[str] | None) -> Path:
    """``-c PATH``, else ``$RATES_CONFIG``, else ``./config.yaml``."""
    return Path(explicit or os.environ.get("RATES_CONFIG") or "config.yaml")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
        if len(raw) > MAX_CONFIG_BYTES:
            raise ConfigError([ConfigProblem(str(file), 1, "", f"the file is larger than {MAX_CONFIG_BYTES} bytes")])
        text = raw.decode("utf-8")
    except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL in the path itself
        raise ConfigError([ConfigProblem(str(file), 1, "", f"cannot read the file ({exc})")]) from None
    return parse_config(text, file)


def parse_config(text: str, file: Path) -> Config:
    try:
        doc = LinedYaml(text)
    except YamlSyntaxError as exc:
        raise ConfigError([ConfigProblem(str(file), exc.line, "", exc.message)]) from None
    checker = _Checker(doc, file)
    problems = checker.problems()
    if problems:
        raise ConfigError(problems)
    try:
        config = _build(doc.data, file)
    except ValidationError as exc:  # the checker missed something: still lines, never a traceback
        raise ConfigError(list(checker.pydantic(exc, ()))) from None
    update: dict[str, Any] = {"storage": Storage(dir=_beside(checker, file, config.storage.dir, "storage"))}
    if config.publish is not None:
        folder = _beside(checker, file, config.publish.dir, "publish")
        update["publish"] = config.publish.model_copy(update={"dir": folder})
    tls = {
        key: (file.parent / value).resolve()
        for key in ("tls_cert", "tls_key")
        if (value := getattr(config.server, key)) is not None
    }
    update["server"] = config.server.model_copy(update=tls)
    return config.model_copy(update=update)


def _beside(checker: _Checker, file: Path, path: Path, section: str) -> Path:
    """A folder named in the config: a relative one is relative to the config file's folder."""
    try:
        return (path if path.is_absolute() else file.parent / path).resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a symlink loop, say
        raise ConfigError([checker.problem((section, "dir"), f"cannot resolve the folder ({exc})")]) from None


def _build(data: dict[str, Any], file: Path) -> Config:
    sources = [REGISTRY[s["kind"]].Settings.model_validate(s) for s in data["sources"]]
    return Config.model_validate({**data, "sources": sources, "path": file.resolve()})


class _Checker:
    """Collects every problem of a parsed file, each with its line and dotted path."""

    def __init__(self, doc: LinedYaml, file: Path) -> None:
        self.doc = doc
        self.file = str(file)

    def problems(self) -> list[ConfigProblem]:
        data = self.doc.data
        if not isinstance(data, dict):
            return [self.problem((), "the file must be a mapping with at least 'currencies' and 'sources'")]
        found = [
            self.problem(path, f"duplicate key (first at line {self.doc.line_of(path)})", line)
            for path, line in self.doc.duplicates
        ]
        found += [self.problem(path, "contains a NUL character") for path in _nul_paths(data, ())]
        found += self._top_level(data)
        found += self._sources(data.get("sources"))
        found += self._cross_references(data)
        return found

    def problem(self, path: YamlPath, message: str, line: int | None = None) -> ConfigProblem:
        return ConfigProblem(self.file, line or self.doc.line_of(path), dotted(path), message)

    def pydantic(self, error: ValidationError, prefix: YamlPath) -> Iterator[ConfigProblem]:
        for item in error.errors():
            loc = item["loc"]
            if loc and loc[-1] == "[key]":  # a map key that is not a language: point at the key
                path = (*prefix, *loc[:-1])
                languages = ", ".join(LANGS)
                yield self.problem(path, f"unknown language {str(loc[-2])!r}; languages: {languages}")
                continue
            yield self.problem((*prefix, *loc), _message(item))

    def _top_level(self, data: dict[str, Any]) -> list[ConfigProblem]:
        # Sources are checked per kind below; a placeholder keeps the rest of the model whole.
        shallow = (
            {**data, "sources": [_PLACEHOLDER] * len(data["sources"])}
            if isinstance(data.get("sources"), list) and data["sources"]
            else data
        )
        found = [self.problem((key,), "unknown key") for key in _NOT_KEYS if key in data]
        shallow = {key: value for key, value in shallow.items() if key not in _NOT_KEYS}
        try:
            Config.model_validate(shallow)
        except ValidationError as exc:
            found += [p for p in self.pydantic(exc, ()) if not p.path.startswith("sources[")]
        return found

    def _sources(self, sources: Any) -> list[ConfigProblem]:
        if not isinstance(sources, list):
            return []
        found: list[ConfigProblem] = []
        first_line: dict[str, int] = {}
        for index, entry in enumerate(sources):
            path: YamlPath = ("sources", index)
            if not isinstance(entry, dict):
                found.append(self.problem(path, "a source must be a mapping with 'id' and 'kind'"))
                continue
            kind = entry.get("kind")
            if not isinstance(kind, str) or kind not in REGISTRY:
                known = ", ".join(sorted(REGISTRY))
                message = "required" if kind is None else f"unknown kind {kind!r}; known kinds: {known}"
                found.append(self.problem((*path, "kind"), message))
                found += self._common_keys(entry, path)
            else:
                try:
                    REGISTRY[kind].Settings.model_validate(entry)
                except ValidationError as exc:
                    found += self.pydantic(exc, path)
            source_id = entry.get("id")
            if isinstance(source_id, str):
                if source_id in first_line:
                    found.append(
                        self.problem(
                            (*path, "id"), f"duplicate source id {source_id!r} (first at line {first_line[source_id]})"
                        )
                    )
                else:
                    first_line[source_id] = self.doc.line_of((*path, "id"))
        return found

    def _common_keys(self, entry: dict[str, Any], path: YamlPath) -> list[ConfigProblem]:
        """An unknown kind still gets its id checked."""
        try:
            SourceSettings.model_validate({"id": entry.get("id"), "kind": "any"})
        except ValidationError as exc:
            return list(self.pydantic(exc, path))
        return []

    def _cross_references(self, data: dict[str, Any]) -> list[ConfigProblem]:
        sources, currencies = data.get("sources"), data.get("currencies")
        ids = {s.get("id") for s in _items(sources) if isinstance(s, dict) and isinstance(s.get("id"), str)}
        found: list[ConfigProblem] = []
        if isinstance(data.get("publish"), dict) and "publish" in ids:
            index = next(i for i, s in enumerate(_items(sources)) if isinstance(s, dict) and s.get("id") == "publish")
            found.append(self.problem(("sources", index, "id"), "'publish' names the publish step: pick another id"))
        seen: set[str] = set()
        for index, entry in enumerate(_items(currencies)):
            entry = _currency_entry(entry)
            if not isinstance(entry, dict):
                continue
            code = normalize_code(entry.get("code"))
            if isinstance(code, str) and code in seen:
                found.append(self.problem(("currencies", index), f"duplicate currency {code}"))
            seen.add(code if isinstance(code, str) else "")
            for pos, source_id in enumerate(_items(entry.get("sources"))):
                if isinstance(source_id, str) and source_id not in ids:
                    found.append(self.problem(("currencies", index, "sources", pos), f"no source has id {source_id!r}"))
        return found


def _nul_paths(value: Any, path: YamlPath) -> Iterator[YamlPath]:
    """Where a string (key or value) carries a NUL, which no path, host or name may hold."""
    if isinstance(value, str) and "\0" in value:
        yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _nul_paths(key, (*path, str(key)))
            yield from _nul_paths(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, (*path, index))


def _items(value: Any) -> list[Any]:
    """A list's items; anything else (already reported by validation) has none."""
    return value if isinstance(value, list) else []


_PLACEHOLDER = SourceSettings(id="placeholder", kind="placeholder")
# Fields of Config that say where the file came from: not keys a file may set.
_NOT_KEYS = ("path", "loaded_at")

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required",
}


def _message(item: Any) -> str:
    if item["loc"] == ("base",):
        return "the only base supported is IQD"
    if item["type"] in _MESSAGES:
        return str(_MESSAGES[item["type"]])
    if item["type"].startswith("date_"):
        return "not a real date: write YYYY-MM-DD, e.g. 2023-02-08"
    if item["type"] in ("int_type", "int_parsing", "int_from_float") and isinstance(item.get("input"), bool | str):
        return "expected a whole number" + (", not true or false" if isinstance(item["input"], bool) else "")
    message = str(item["msg"])
    return message.removeprefix("Value error, ")
