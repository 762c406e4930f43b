"""The user docs in ``docs/`` keep up with the code, and the project stands on its own.

A newcomer who clones only this repository must find every endpoint, parameter and config
key documented in it, and no link or path that leads outside it.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from rates.config import Config
from rates.openapi import openapi_document
from rates.sources import REGISTRY

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
TEMPLATE = re.compile(r"\{[^{}]*\}")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
NOT_CONFIG_KEYS = {"path", "loaded_at"}  # where the file came from, not keys of it


def project_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).is_file()]


def test_nothing_refers_to_a_file_outside_the_project() -> None:
    outside = re.compile(r"\.\./shared|CONTRACT\.md|shared/(spec|fixtures)/")
    offenders = []
    for path in project_files():
        if path.suffix in {".png", ".xlsx", ".ico", ".gz"}:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        offenders += [
            f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(text.splitlines(), 1) if outside.search(line)
        ]
    assert not offenders, f"these lines point outside the project: {offenders}"


@pytest.mark.parametrize("page", ["README.md", *(f"docs/{p.name}" for p in sorted(DOCS.glob("*.md")))])
def test_relative_links_lead_to_files_in_the_project(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        resolved = ((ROOT / page).parent / target).resolve()
        assert resolved.is_relative_to(ROOT) and resolved.exists(), f"{page}: broken link {target}"


def test_the_readme_links_every_doc() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for page in sorted(DOCS.glob("*.md")):
        assert f"(docs/{page.name})" in readme, f"README.md does not link docs/{page.name}"


def test_every_endpoint_and_parameter_is_in_the_api_reference(bundled_config: Config) -> None:
    reference = TEMPLATE.sub("{}", (DOCS / "api.md").read_text(encoding="utf-8"))
    document = openapi_document(bundled_config)
    missing = [path for path in document["paths"] if f"`GET {TEMPLATE.sub('{}', path)}" not in reference]
    assert not missing, f"docs/api.md has no `GET PATH` section for {missing}"
    names = {p["name"] for p in document["components"]["parameters"].values() if p["in"] == "query"}
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict):
                names |= {p["name"] for p in operation.get("parameters", []) if "name" in p and p["in"] == "query"}
    undocumented = sorted(name for name in names if f"`{name}`" not in reference)
    assert not undocumented, f"docs/api.md never mentions the query parameters {undocumented}"


def config_keys(model: type[BaseModel]) -> Iterator[str]:
    """Every field name of a config model and of the models inside it."""
    for name, field in model.model_fields.items():
        if name in NOT_CONFIG_KEYS:
            continue
        yield name
        yield from _nested_keys(field.annotation)


def _nested_keys(annotation: object) -> Iterator[str]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield from config_keys(annotation)
    for argument in getattr(annotation, "__args__", ()) or ():
        yield from _nested_keys(argument)
    for extra in getattr(annotation, "__metadata__", ()) or ():
        yield from _nested_keys(extra)
    origin = getattr(annotation, "__origin__", None)
    if origin is not None and origin is not annotation:
        yield from _nested_keys(origin)


def test_every_config_key_is_in_the_config_reference() -> None:
    reference = (DOCS / "config.md").read_text(encoding="utf-8")
    keys = set(config_keys(Config))
    for kind, source in REGISTRY.items():
        keys |= set(config_keys(source.Settings))
        assert f"`{kind}`" in reference, f"docs/config.md does not name the source kind {kind!r}"
    assert {"currencies", "sources", "policy", "stale_after", "column", "inverse"} <= keys  # the walk works
    missing = sorted(key for key in keys if f"`{key}`" not in reference)
    assert not missing, f"docs/config.md never mentions the config keys {missing}"


def test_every_source_kind_is_in_the_sources_page() -> None:
    page = (DOCS / "sources.md").read_text(encoding="utf-8")
    missing = sorted(kind for kind in REGISTRY if f"### `{kind}`" not in page)
    assert not missing, f"docs/sources.md has no section for the kinds {missing}"
