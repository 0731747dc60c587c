"""scikit-learn's side of bench/trees-vs-sklearn.mjs: makes (or reads) each dataset, writes the
split both sides use, and times HistGradientBoosting and RandomForest on it. Prints JSON."""
import json, sys, time, statistics
import numpy as np
from sklearn.datasets import make_classification, make_regression
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.metrics import accuracy_score, r2_score, mean_squared_error

out_dir, reps = sys.argv[1], int(sys.argv[2])
boston_csv = sys.argv[3]
rng = np.random.RandomState(0)

def split(X, y):
    idx = rng.permutation(len(y))
    n_test = len(y) // 5
    return X[idx[n_test:]], X[idx[:n_test]], y[idx[n_test:]], y[idx[:n_test]]

datasets = {}
X, y = make_classification(n_samples=20000, n_features=20, n_informative=10, random_state=0)
datasets["classification 20k x 20"] = ("classification", X, y)
X, y = make_classification(n_samples=200000, n_features=20, n_informative=10, random_state=1)
datasets["classification 200k x 20"] = ("classification", X, y)
boston = np.loadtxt(boston_csv, delimiter=",", skiprows=1)
datasets["boston housing (regression)"] = ("regression", boston[:, :-1], boston[:, -1])

results = {}
for name, (task, X, y) in datasets.items():
    Xtr, Xte, ytr, yte = split(X, y)
    slug = name.split(" (")[0].replace(" ", "_")
    np.savetxt(f"{out_dir}/{slug}.train.csv", np.column_stack([Xtr, ytr]), delimiter=",", fmt="%.10g")
    np.savetxt(f"{out_dir}/{slug}.test.csv", np.column_stack([Xte, yte]), delimiter=",", fmt="%.10g")
    row = {"task": task, "slug": slug, "train_rows": len(ytr), "test_rows": len(yte)}
    models = {
        "hgb": (HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor)(random_state=0),
        "rf": (RandomForestClassifier if task == "classification" else RandomForestRegressor)(n_estimators=100, random_state=0, n_jobs=-1),
        "et": (ExtraTreesClassifier if task == "classification" else ExtraTreesRegressor)(n_estimators=100, random_state=0, n_jobs=-1),
    }
    for key, model in models.items():
        if key in ("rf", "et") and len(ytr) > 50000:
            continue  # minutes per fit; the forest comparison uses the smaller tables
        times = []
        for _ in range(reps):
            t = time.perf_counter(); model.fit(Xtr, ytr); times.append(time.perf_counter() - t)
        pred = model.predict(Xte)
        score = accuracy_score(yte, pred) if task == "classification" else r2_score(yte, pred)
        row[key] = {"fit_s": statistics.median(times), "score": float(score), "metric": "accuracy" if task == "classification" else "r2"}
    results[name] = row
# Boston's test split has 101 rows: one split's score moves by a point or more, so also the
# mean over 8 random splits (gradient boosting only)
splits = []
for s in range(8):
    idx = np.random.RandomState(100 + s).permutation(len(boston))
    n_test = len(boston) // 5
    te, tr = idx[:n_test], idx[n_test:]
    np.savetxt(f"{out_dir}/boston_split{s}.train.csv", boston[tr], delimiter=",", fmt="%.10g")
    np.savetxt(f"{out_dir}/boston_split{s}.test.csv", boston[te], delimiter=",", fmt="%.10g")
    m = HistGradientBoostingRegressor(random_state=0).fit(boston[tr, :-1], boston[tr, -1])
    splits.append(float(r2_score(boston[te, -1], m.predict(boston[te, :-1]))))
results["boston housing, 8 random splits (regression)"] = {"task": "regression", "splits": splits}
print(json.dumps(results))
