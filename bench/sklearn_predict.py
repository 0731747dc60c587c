"""scikit-learn's side of bench/predict-vs-sklearn.mjs (Debian's python3-sklearn and pandas).

  sklearn_predict.py prepare DIR ROWS   writes DIR/train.csv (16,000 rows), DIR/holdout.csv (4,000)
                                        and DIR/new.csv (ROWS rows, no target): 20 numeric features,
                                        a non-linear target with noise, seeded
  sklearn_predict.py fit DIR            fits HistGradientBoostingRegressor (100 trees of 31 leaves,
                                        no early stopping: the size of ours) and MLPRegressor
                                        (64, 64) on train.csv, pickles them, prints their holdout R²
  sklearn_predict.py predict DIR MODEL  what a person runs to predict a file: pandas.read_csv, the
                                        model's predict, DataFrame.to_csv; prints one JSON line with
                                        each phase's seconds (run under /usr/bin/time for its peak memory)
"""
import json, pickle, sys, time
import numpy as np

mode, out_dir = sys.argv[1], sys.argv[2]
FEATURES = [f"x{i}" for i in range(1, 21)]


def make(n, rng):
    X = rng.normal(size=(n, 20))
    y = 10 * np.sin(X[:, 0] * X[:, 1]) + 5 * X[:, 2] ** 2 + 3 * X[:, 3] - 2 * np.abs(X[:, 4]) + X[:, 5:10].sum(axis=1) + rng.normal(scale=1.0, size=n)
    return X, y


if mode == "prepare":
    import pandas as pd

    rows = int(sys.argv[3])
    X, y = make(20_000, np.random.RandomState(0))
    frame = pd.DataFrame(X, columns=FEATURES)
    frame["y"] = y
    frame.iloc[:16_000].to_csv(f"{out_dir}/train.csv", index=False, float_format="%.6g")
    frame.iloc[16_000:].to_csv(f"{out_dir}/holdout.csv", index=False, float_format="%.6g")
    Xn, _ = make(rows, np.random.RandomState(1))
    pd.DataFrame(Xn, columns=FEATURES).to_csv(f"{out_dir}/new.csv", index=False, float_format="%.6g")
    print(json.dumps({"ok": True}))
elif mode == "fit":
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingRegressor
    from sklearn.neural_network import MLPRegressor
    from sklearn.metrics import r2_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train = pd.read_csv(f"{out_dir}/train.csv")
    holdout = pd.read_csv(f"{out_dir}/holdout.csv")
    models = {
        "boosting": HistGradientBoostingRegressor(max_iter=100, max_leaf_nodes=31, early_stopping=False, random_state=0),
        "mlp": make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(64, 64), max_iter=200, random_state=0)),
    }
    scores = {}
    for name, model in models.items():
        model.fit(train[FEATURES].values, train["y"].values)
        scores[name] = r2_score(holdout["y"].values, model.predict(holdout[FEATURES].values))
        with open(f"{out_dir}/sklearn-{name}.pkl", "wb") as f:
            pickle.dump(model, f)
    print(json.dumps({"holdout_r2": scores}))
elif mode == "predict":
    import pandas as pd

    name = sys.argv[3]
    with open(f"{out_dir}/sklearn-{name}.pkl", "rb") as f:
        model = pickle.load(f)
    t0 = time.perf_counter()
    frame = pd.read_csv(f"{out_dir}/new.csv")
    t1 = time.perf_counter()
    pred = model.predict(frame[FEATURES].values)
    t2 = time.perf_counter()
    pd.DataFrame({"y_predicted": pred}).to_csv(f"{out_dir}/sklearn-{name}.predictions.csv", index=False)
    t3 = time.perf_counter()
    print(json.dumps({"rows": len(pred), "read_s": t1 - t0, "predict_s": t2 - t1, "write_s": t3 - t2, "total_s": t3 - t0}))
