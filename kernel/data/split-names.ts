/**
 * Which split of a dataset a file holds, by the words of its path: how a download says which
 * of its files are for training (a Hub repository's, a Kaggle zip's, a folder of images).
 */

/** The split a file holds, by its path ("data/train-00000-of-00001.parquet", "default/test/0000.parquet"). */
export function splitOf(p: string): "train" | "validation" | "test" | null {
  const parts = p.toLowerCase().split(/[/_.-]+/);
  if (parts.includes("train") || parts.includes("training")) return "train";
  if (parts.includes("validation") || parts.includes("valid") || parts.includes("val") || parts.includes("dev")) return "validation";
  if (parts.includes("test") || parts.includes("testing")) return "test";
  return null;
}
