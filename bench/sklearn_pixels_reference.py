"""scikit-learn's reference for the image benchmark (bench/text-and-images.mjs): HistGradientBoostingClassifier
(its defaults, early stopping on) on the raw pixels, the same training and test images as the CNN.
argv: pixels.u8 (n x side*side, 8-bit) labels.json ({"train": [...], "test": [...], "labels": [...], "features": side*side})
-> one JSON line on stdout."""
import json, sys, time
import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import accuracy_score, f1_score

pixels_file, meta_file = sys.argv[1:3]
meta = json.load(open(meta_file))
X = np.fromfile(pixels_file, dtype=np.uint8).reshape(-1, meta["features"]).astype(np.float32) / 255.0
y = np.array(meta["labels"])
train, test = np.array(meta["train"]), np.array(meta["test"])
t0 = time.perf_counter()
model = HistGradientBoostingClassifier(random_state=0).fit(X[train], y[train])
fit_s = time.perf_counter() - t0
pred = model.predict(X[test])
print(json.dumps({
    "model": "HistGradientBoostingClassifier on pixels",
    "accuracy": accuracy_score(y[test], pred),
    "f1_macro": f1_score(y[test], pred, average="macro"),
    "fit_s": fit_s,
    "images_per_s": len(train) / fit_s,
}))
