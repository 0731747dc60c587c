"""scikit-learn's side of bench/trees-vs-sklearn.mjs, as a long-lived process so the two sides'
fits can alternate (this machine's speed drifts by 15% or more within a minute). It makes each
dataset, writes the split both sides use and prints them as one JSON line; then for each
request line {"dataset", "model"} it fits once and answers {"fit_s", "score"}."""
import json, sys, time
import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier, ExtraTreesRegressor
from sklearn.metrics import accuracy_score, r2_score

out_dir, boston_csv = sys.argv[1], sys.argv[2]
rng = np.random.RandomState(0)

def split(X, y):
    idx = rng.permutation(len(y))
    n_test = len(y) // 5
    return X[idx[n_test:]], X[idx[:n_test]], y[idx[n_test:]], y[idx[:n_test]]

raw = {}
X, y = make_classification(n_samples=20000, n_features=20, n_informative=10, random_state=0)
raw["classification 20k x 20"] = ("classification", X, y)
X, y = make_classification(n_samples=200000, n_features=20, n_informative=10, random_state=1)
raw["classification 200k x 20"] = ("classification", X, y)
boston = np.loadtxt(boston_csv, delimiter=",", skiprows=1)
raw["boston housing (regression)"] = ("regression", boston[:, :-1], boston[:, -1])

data, listing = {}, {}
for name, (task, X, y) in raw.items():
    Xtr, Xte, ytr, yte = split(X, y)
    slug = name.split(" (")[0].replace(" ", "_")
    np.savetxt(f"{out_dir}/{slug}.train.csv", np.column_stack([Xtr, ytr]), delimiter=",", fmt="%.10g")
    np.savetxt(f"{out_dir}/{slug}.test.csv", np.column_stack([Xte, yte]), delimiter=",", fmt="%.10g")
    data[name] = (task, Xtr, Xte, ytr, yte)
    listing[name] = {"task": task, "slug": slug, "train_rows": len(ytr), "test_rows": len(yte)}
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
print(json.dumps({"datasets": listing, "boston_splits": splits}), flush=True)

def make(model, task):
    c = task == "classification"
    if model == "hgb":
        return (HistGradientBoostingClassifier if c else HistGradientBoostingRegressor)(random_state=0)
    if model == "rf":
        return (RandomForestClassifier if c else RandomForestRegressor)(n_estimators=100, random_state=0, n_jobs=-1)
    return (ExtraTreesClassifier if c else ExtraTreesRegressor)(n_estimators=100, random_state=0, n_jobs=-1)

for line in sys.stdin:
    req = json.loads(line)
    task, Xtr, Xte, ytr, yte = data[req["dataset"]]
    model = make(req["model"], task)
    t = time.perf_counter()
    model.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    pred = model.predict(Xte)
    score = accuracy_score(yte, pred) if task == "classification" else r2_score(yte, pred)
    print(json.dumps({"fit_s": fit_s, "score": float(score)}), flush=True)
