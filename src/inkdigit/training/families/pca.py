"""What the scikit-learn families share: PCA features, and export through skl2onnx.

Distances in 784 pixel dimensions are slow and noisy; 50 principal components keep ~83 % of the
variance of preprocessed MNIST, make a kNN or an RBF SVM an order of magnitude smaller and faster
to serve, and cost no accuracy (see the comparison report). The whole pipeline (PCA then the
classifier) becomes one ONNX graph, so serving needs ONNX Runtime only, never scikit-learn.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

import numpy as np
from sklearn.decomposition import PCA
from sklearn.pipeline import Pipeline

from inkdigit.training.families.base import DigitEstimator, flat


class PCAPipelineModel(DigitEstimator):
    """A family made of PCA features followed by one scikit-learn classifier (``pipeline_``)."""

    n_components: int | None  # None: no PCA, the classifier sees all 784 pixels
    seed: int
    #: skl2onnx names the classifier's per-class output "probabilities", whatever it holds
    onnx_output = "probabilities"
    #: extra skl2onnx converter options for the classifier
    onnx_options: ClassVar[dict[str, Any]] = {}
    pipeline_: Pipeline

    def _pipeline(self, name: str, classifier: Any) -> Pipeline:
        """PCA (unless ``n_components`` is None) then ``classifier``, as the step ``name``."""
        steps: list[tuple[str, Any]] = []
        if self.n_components is not None:
            steps.append(("pca", PCA(self.n_components, random_state=self.seed, svd_solver="randomized")))
        return Pipeline([*steps, (name, classifier)])

    def scores(self, x: np.ndarray) -> np.ndarray:
        clf = self.pipeline_[-1]
        z = flat(x) if len(self.pipeline_) == 1 else self.pipeline_[:-1].transform(flat(x))
        return clf.predict_proba(z) if self.output_kind == "probabilities" else clf.decision_function(z)

    def to_onnx(self) -> bytes:
        from skl2onnx import to_onnx

        clf = self.pipeline_[-1]
        with warnings.catch_warnings():  # the converter reads attributes scikit-learn deprecates
            warnings.simplefilter("ignore", FutureWarning)
            graph = to_onnx(self.pipeline_, np.zeros((1, 784), dtype=np.float32),
                            options={id(clf): {"zipmap": False, **self.onnx_options}},
                            target_opset={"": 17, "ai.onnx.ml": 3})
        return graph.SerializeToString()

    def _pca_architecture(self) -> dict[str, Any]:
        info: dict[str, Any] = {"input": "image rows (N, 784) float32 in [0, 1], ink bright",
                                "features": "raw pixels (784)", "pca_components": None}
        pca = self.pipeline_[0]
        if isinstance(pca, PCA):
            info.update(features=f"PCA ({pca.n_components_} components)", pca_components=int(pca.n_components_),
                        explained_variance=round(float(pca.explained_variance_ratio_.sum()), 4))
        return info
