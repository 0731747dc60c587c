"""scikit-learn's side of bench/search-vs-sklearn.mjs: fits its usual models with default
settings on <prefix>.train.csv, scores each on <prefix>.test.csv (accuracy or R²), prints JSON."""
import json, sys, time, warnings
import numpy as np
from sklearn import ensemble, linear_model, neighbors, neural_network, svm
from sklearn.metrics import accuracy_score, r2_score

warnings.filterwarnings("ignore")
prefix, task = sys.argv[1], sys.argv[2]
train = np.loadtxt(prefix + ".train.csv", delimiter=",", ndmin=2)
test = np.loadtxt(prefix + ".test.csv", delimiter=",", ndmin=2)
Xtr, ytr, Xte, yte = train[:, :-1], train[:, -1], test[:, :-1], test[:, -1]
if task == "classification":
    models = {
        "HistGradientBoosting": ensemble.HistGradientBoostingClassifier(random_state=0),
        "RandomForest(100)": ensemble.RandomForestClassifier(n_estimators=100, random_state=0, n_jobs=-1),
        "ExtraTrees(100)": ensemble.ExtraTreesClassifier(n_estimators=100, random_state=0, n_jobs=-1),
        "LogisticRegression": linear_model.LogisticRegression(max_iter=2000),
        "MLP": neural_network.MLPClassifier(random_state=0, max_iter=500),
        "SVC(rbf)": svm.SVC(),
        "KNeighbors": neighbors.KNeighborsClassifier(),
    }
    score = lambda m: accuracy_score(yte, m.predict(Xte))
else:
    models = {
        "HistGradientBoosting": ensemble.HistGradientBoostingRegressor(random_state=0),
        "RandomForest(100)": ensemble.RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=-1),
        "ExtraTrees(100)": ensemble.ExtraTreesRegressor(n_estimators=100, random_state=0, n_jobs=-1),
        "Ridge": linear_model.Ridge(),
        "MLP": neural_network.MLPRegressor(random_state=0, max_iter=2000),
        "SVR(rbf)": svm.SVR(),
        "KNeighbors": neighbors.KNeighborsRegressor(),
    }
    score = lambda m: r2_score(yte, m.predict(Xte))
out = {}
for name, model in models.items():
    t = time.perf_counter()
    model.fit(Xtr, ytr)
    out[name] = {"fit_s": time.perf_counter() - t, "score": float(score(model))}
print(json.dumps(out))
