#!/usr/bin/env bash
# Run the README's plain-pip recipe (the lines between the pip-recipe markers)
# in a fresh virtual environment, then check that newsclf works from it and
# that torch and transformers were never installed.
set -euo pipefail
work="${1:?usage: pip_recipe.sh WORKDIR}"
root="$(cd "$(dirname "$0")/.." && pwd)"
rm -rf "$work/recipe" && mkdir -p "$work/recipe"
recipe="$work/recipe/recipe.sh"
# The recipe, then the extras' packages installed by name.
for block in pip-recipe pip-extras; do
    awk -v b="$block" '$0 == "<!-- " b ":start -->" {on=1; next} $0 == "<!-- " b ":end -->" {on=0} on && /^[^`]/' \
        "$root/README.md"
done > "$recipe"
grep -q "pip\" install" "$recipe" || { echo "no pip recipe found in README.md" >&2; exit 1; }
echo "--- recipe from README.md:"; cat "$recipe"
cd "$root"
VENV="$work/recipe/venv" bash -euo pipefail "$recipe"
py="$work/recipe/venv/bin/python"
"$py" - <<'PY'
import importlib.util, sys
import newsclf
clf = newsclf.load()
result = clf.classify("تابعونا على منصات التواصل الاجتماعي")
assert result.label == "boilerplate", result
import newsclf.dask, uvicorn, starlette  # the extras' packages, by name
for heavy in ("torch", "transformers", "kenlm"):
    assert importlib.util.find_spec(heavy) is None, f"{heavy} is installed"
    assert heavy not in sys.modules
print("pip recipe OK:", newsclf.__version__, result)
PY
