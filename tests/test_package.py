"""The package as users install it: metadata, import cost, typing marker."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import newsclf


def test_version_matches_installed_metadata() -> None:
    """``newsclf.__version__`` is the installed distribution's version."""
    assert newsclf.__version__ == metadata.version("newsclf")


def test_all_names_exist() -> None:
    """Every name in ``newsclf.__all__`` is there in the package."""
    for name in newsclf.__all__:
        assert getattr(newsclf, name) is not None


def test_py_typed_ships() -> None:
    """The ``py.typed`` marker is installed with the package."""
    assert (Path(newsclf.__file__).parent / "py.typed").is_file()


def test_tests_run_against_the_installed_package() -> None:
    """Under tox the package comes from the built wheel, with the bundled model (data
    only: no pickle) and the page inside."""
    import pytest

    if not os.environ.get("TOX_ENV_NAME"):
        pytest.skip("outside tox the package may be the checkout (an editable install)")
    assert "site-packages" in newsclf.__file__
    package = Path(newsclf.__file__).parent
    bundled = package / "_bundled" / "newsclf-ar"
    assert (bundled / "metadata.json").is_file() and (bundled / "coef.npy").is_file()
    assert not list(bundled.glob("*.joblib"))
    assert (package / "_static" / "index.html").is_file()
    assert (package / "_arclean.json").is_file()


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(out.stdout.split())


def test_import_is_light() -> None:
    """`import newsclf` pulls in neither torch nor scikit-learn, datasets, pandas or matplotlib."""
    mods = _modules_after("import newsclf")
    for heavy in ("torch", "transformers", "sklearn", "datasets", "pandas", "matplotlib"):
        assert heavy not in mods, heavy


def test_classifying_never_imports_torch_or_datasets() -> None:
    """Loading the bundled model and classifying an article imports none of torch, transformers,
    datasets or matplotlib."""
    mods = _modules_after(
        "import newsclf; newsclf.load().classify_article('قصف مدفعي\\nاشترك الآن')"
    )
    assert "newsclf._model" in mods
    for heavy in ("torch", "transformers", "datasets", "matplotlib"):
        assert heavy not in mods, heavy


def test_readme_pip_recipe_lists_the_declared_dependencies() -> None:
    """The plain-pip recipe installs exactly newsclf's dependencies, camel-tools aside."""
    import re

    from strategies import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    recipe = readme.split("<!-- pip-recipe:start -->")[1].split("<!-- pip-recipe:end -->")[0]
    (line,) = [x for x in recipe.splitlines() if "scikit-learn" in x]
    listed = set(re.findall(r'"([A-Za-z0-9_.\[\]-]+[<>=!~][^"]*)"', line))
    requires = [r.replace(" ", "") for r in metadata.requires("newsclf") or []]
    declared = {r for r in requires if ";" not in r}
    assert listed == {d for d in declared if not d.startswith("camel-tools")}
    # The extras' packages, installed by name (pip would bring torch back
    # through 'newsclf[serve]'), are the extras' requirements.
    extras = readme.split("<!-- pip-extras:start -->")[1].split("<!-- pip-extras:end -->")[0]
    lines = {x.rsplit("# ", 1)[1].strip(): x for x in extras.splitlines() if "# " in x}
    assert set(lines) == set(metadata.metadata("newsclf").get_all("Provides-Extra") or [])
    for extra, line in lines.items():
        wanted = {r.split(";")[0] for r in requires if re.search(f"extra==['\"]{extra}['\"]", r)}
        assert set(re.findall(r'"([A-Za-z0-9_.\[\]-]+[<>=!~][^"]*)"', line)) == wanted, extra
