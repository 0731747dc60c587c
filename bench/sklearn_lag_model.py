"""scikit-learn's HistGradientBoostingRegressor on the lag features bench/forecasting.mjs sends (JSON on stdin):
{"x": [[...]], "y": [...], "test": [[...]]} -> {"predictions": [...], "fit_s": float} on stdout. NaN lags arrive as null."""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

job = json.load(sys.stdin)
x = np.array(job["x"], dtype=float)
y = np.array(job["y"], dtype=float)
test = np.array(job["test"], dtype=float)
t0 = time.perf_counter()
model = HistGradientBoostingRegressor(random_state=0).fit(x, y)
fit_s = time.perf_counter() - t0
json.dump({"predictions": model.predict(test).tolist(), "fit_s": fit_s}, sys.stdout)
