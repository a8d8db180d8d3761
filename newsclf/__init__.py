"""newsclf: what each paragraph of an Arabic news article is about.

>>> import newsclf
>>> clf = newsclf.load()                       # the bundled model
>>> clf.labels
('boilerplate', 'diplomacy', 'humanitarian', 'military', 'other')
>>> clf.classify("اشترك الآن واحصل على شهر مجاني").label
'boilerplate'

``import newsclf`` is cheap, and so are ``load`` and prediction: they need
numpy only.  scikit-learn is imported by the names that train
(``train``, ``build_pipeline``, ``ArabicFeaturizer``, ``Classifier.pipeline``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import version as _version
from typing import TYPE_CHECKING, Any

from newsclf._errors import (
    ArtifactError,
    DataError,
    InputTypeError,
    InvalidArgumentError,
    NewsclfError,
    VersionMismatchWarning,
)
from newsclf._paragraphs import article_text, split_paragraphs

if TYPE_CHECKING:
    from newsclf._evaluate import Report
    from newsclf._features import ArabicFeaturizer, build_pipeline
    from newsclf._hf import annotate_dataset
    from newsclf._model import Classifier, Prediction, load
    from newsclf._normalize import normalize
    from newsclf._train import train

__version__: str = _version("newsclf")

__all__ = [
    "ArabicFeaturizer",
    "ArtifactError",
    "Classifier",
    "DataError",
    "InputTypeError",
    "InvalidArgumentError",
    "NewsclfError",
    "Prediction",
    "Report",
    "VersionMismatchWarning",
    "__version__",
    "annotate_dataset",
    "article_text",
    "build_pipeline",
    "load",
    "normalize",
    "split_paragraphs",
    "train",
]

# Public names served lazily (PEP 562), by the private module defining them.
_LAZY = {
    "ArabicFeaturizer": "newsclf._features",
    "annotate_dataset": "newsclf._hf",
    "Classifier": "newsclf._model",
    "Prediction": "newsclf._model",
    "Report": "newsclf._evaluate",
    "build_pipeline": "newsclf._features",
    "load": "newsclf._model",
    "normalize": "newsclf._normalize",
    "train": "newsclf._train",
}


if not TYPE_CHECKING:  # a type checker sees the imports above, and no other name

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'newsclf' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    # The public names (loaded or not yet), not the helpers imported here.
    return sorted({*__all__, *(n for n in globals() if n.startswith("__"))})
