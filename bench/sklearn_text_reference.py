"""scikit-learn's reference for the text benchmark (bench/text-and-images.mjs): TfidfVectorizer + LogisticRegression
(defaults: word unigrams, C=1, lbfgs) on the same rows the product trains and tests on.
argv: data.csv text_column label_column split.json (train/test row numbers) -> one JSON line on stdout."""
import json, sys, time
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

data, text, label, split = sys.argv[1:5]
df = pd.read_csv(data, keep_default_na=False, dtype=str)
rows = json.load(open(split))
train, test = df.iloc[rows["train"]], df.iloc[rows["test"]]
t0 = time.perf_counter()
vec = TfidfVectorizer()
X = vec.fit_transform(train[text])
model = LogisticRegression(max_iter=1000).fit(X, train[label])
fit_s = time.perf_counter() - t0
pred = model.predict(vec.transform(test[text]))
print(json.dumps({
    "model": "TfidfVectorizer + LogisticRegression",
    "accuracy": accuracy_score(test[label], pred),
    "f1_macro": f1_score(test[label], pred, average="macro"),
    "fit_s": fit_s,
    "features": X.shape[1],
}))
