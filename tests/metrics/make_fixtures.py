"""Reference values for Whetstone's evaluation metrics, computed by scikit-learn on the same
predictions. Writes tests/metrics/fixtures.json, which the Rust tests read (they need no Python).

Run: python3 tests/metrics/make_fixtures.py   (needs numpy and scikit-learn)"""
import json
from pathlib import Path

import numpy as np
import sklearn
from sklearn import metrics


def case(name, labels, probs, classes):
    labels = np.asarray(labels)
    probs = np.asarray(probs, dtype=np.float64)
    # Whetstone predicts the first class of highest probability, as argmax does.
    predicted = probs.argmax(axis=1)
    ks = list(range(classes))
    p, r, f, s = metrics.precision_recall_fscore_support(labels, predicted, labels=ks, zero_division=0)
    averages = {}
    for avg in ["macro", "micro", "weighted"]:
        ap, ar, af, _ = metrics.precision_recall_fscore_support(labels, predicted, labels=ks, average=avg, zero_division=0)
        averages[avg] = [ap, ar, af]
    result = {
        "name": name,
        "classes": classes,
        "labels": labels.tolist(),
        "probs": probs.ravel().tolist(),
        "confusion": metrics.confusion_matrix(labels, predicted, labels=ks).tolist(),
        "accuracy": metrics.accuracy_score(labels, predicted),
        "balanced_accuracy": metrics.balanced_accuracy_score(labels, predicted),
        "precision": p.tolist(),
        "recall": r.tolist(),
        "f1": f.tolist(),
        "support": s.tolist(),
        "macro": averages["macro"],
        "micro": averages["micro"],
        "weighted": averages["weighted"],
        "kappa": metrics.cohen_kappa_score(labels, predicted, labels=ks),
        "log_loss": metrics.log_loss(labels, probs, labels=ks),
    }
    # Top-class reliability: sklearn's calibration curve of "was the prediction right" against the
    # confidence, and the expected calibration error over the same 10 bins.
    # (Whetstone's probabilities are f32: bin the same values, or an exact 0.8 lands on another bin.)
    confidence = probs.astype(np.float32).astype(np.float64).max(axis=1)
    correct = (predicted == labels).astype(int)
    if 0 < correct.sum() < len(correct):
        from sklearn.calibration import calibration_curve
        accuracy, mean_confidence = calibration_curve(correct, confidence, n_bins=10)
        bins = np.searchsorted(np.linspace(0, 1, 11)[1:-1], confidence)
        ece = sum(abs(correct[bins == b].sum() - confidence[bins == b].sum()) for b in range(10)) / len(labels)
        result["calibration"] = {"accuracy": accuracy.tolist(), "confidence": mean_confidence.tolist(), "ece": ece}
    if set(labels.tolist()) != set(ks):
        return result  # scikit-learn's one-vs-rest scores need every class among the labels
    if classes == 2:
        score = probs[:, 1]
        result["roc_auc_macro"] = metrics.roc_auc_score(labels, score)
        result["average_precision_macro"] = metrics.average_precision_score(labels, score)
        curve_class = 1
    else:
        onehot = np.eye(classes)[labels]
        result["roc_auc_macro"] = metrics.roc_auc_score(labels, probs, multi_class="ovr", average="macro")
        result["roc_auc_micro"] = metrics.roc_auc_score(labels, probs, multi_class="ovr", average="micro")
        result["average_precision_macro"] = metrics.average_precision_score(onehot, probs, average="macro")
        result["average_precision_micro"] = metrics.average_precision_score(onehot, probs, average="micro")
        curve_class = 0
    fpr, tpr, _ = metrics.roc_curve(labels == curve_class, probs[:, curve_class], drop_intermediate=False)
    precision, recall, _ = metrics.precision_recall_curve(labels == curve_class, probs[:, curve_class])
    result["curve_class"] = curve_class
    result["roc"] = {"fpr": fpr.tolist(), "tpr": tpr.tolist()}
    result["pr"] = {"recall": recall.tolist(), "precision": precision.tolist()}
    return result


def softmax_rows(rng, n, k, sharpness):
    logits = rng.normal(size=(n, k)) * sharpness
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


rng = np.random.default_rng(7)
cases = []
# A decent multi-class model: probabilities leaning to the true class.
labels = rng.integers(0, 4, size=60)
probs = softmax_rows(rng, 60, 4, 1.0)
probs[np.arange(60), labels] += 0.6
probs /= probs.sum(axis=1, keepdims=True)
cases.append(case("four classes", labels, probs, 4))
# Binary, near chance.
labels = rng.integers(0, 2, size=41)
cases.append(case("binary near chance", labels, softmax_rows(rng, 41, 2, 0.3), 2))
# A class that never appears in the labels (class 2), and is sometimes predicted.
labels = rng.choice([0, 1, 3], size=30)
probs = softmax_rows(rng, 30, 4, 2.0)
cases.append(case("a class never seen", labels, probs, 4))
# A class never seen and never predicted, and ties: equal top probabilities go to the lower class.
labels = np.array([0, 1, 1, 0, 2, 2, 0, 1])
probs = np.array([[0.5, 0.5, 0, 0], [0.25, 0.25, 0.25, 0.25], [0.1, 0.8, 0.1, 0], [0.7, 0.1, 0.2, 0], [0.4, 0.2, 0.4, 0], [0, 0, 1, 0], [0.3, 0.3, 0.4, 0], [0, 1, 0, 0]])
cases.append(case("ties and a class never predicted", labels, probs, 4))
# Perfect predictions with a probability of exactly 1 and exactly 0 (log-loss clipping).
labels = np.array([0, 1, 2, 1])
cases.append(case("perfect", labels, np.eye(3)[labels], 3))
# Every prediction the same class.
labels = np.array([0, 1, 2, 0, 1, 2, 2])
probs = np.tile([0.2, 0.5, 0.3], (7, 1))
cases.append(case("one class predicted for all", labels, probs, 3))

out = Path(__file__).with_name("fixtures.json")
out.write_text(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1) + "\n")
print(f"wrote {len(cases)} cases to {out} (scikit-learn {sklearn.__version__})")
