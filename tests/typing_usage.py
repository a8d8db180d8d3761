"""A user's typed code, checked by the ``type`` environment (``mypy --strict``
with ``warn_unused_ignores``): each ignore below must be needed, so a
misspelt public name that type-checks is an error there.

Regression (API audit): the package's lazy ``__getattr__`` returned ``Any``
where type checkers could see it, so ``newsclf.lod()`` passed mypy."""

from __future__ import annotations

import newsclf

clf: newsclf.Classifier = newsclf.load()
labels: list[str] = clf.predict(["نص"])
prediction: newsclf.Prediction = clf.classify("نص")
newsclf.lod()  # type: ignore[attr-defined]
misspelt = newsclf.Classifer  # type: ignore[attr-defined]
