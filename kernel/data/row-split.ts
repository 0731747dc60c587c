/**
 * A seeded train/validation/test split of the labelled rows, stratified by class for
 * classification so that every split sees every class in proportion.
 */
import { InputError } from "../errors/input-error";
import { seededRandom, shuffleInPlace } from "./seeded-random";
import { labelledRows, type EncodedTarget } from "./target-column";

export interface SplitOptions {
  seed: number;
  /** fraction of the labelled rows held out for the final test */
  testSize: number;
  /** fraction of the remaining rows used for validation (model choice, early stopping) */
  valSize: number;
}

export interface RowSplit {
  train: number[];
  val: number[];
  test: number[];
  stratified: boolean;
  seed: number;
  testSize: number;
  valSize: number;
  /** notes on what the split had to do */
  notes: string[];
}

export const DEFAULT_SPLIT: SplitOptions = { seed: 42, testSize: 0.2, valSize: 0.2 };

export function splitRows(target: EncodedTarget, options: SplitOptions = DEFAULT_SPLIT): RowSplit {
  const { seed, testSize, valSize } = options;
  if (!(testSize > 0 && testSize < 1 && valSize > 0 && valSize < 1)) {
    throw new InputError(`Split fractions must be between 0 and 1 (test ${testSize}, validation ${valSize}).`);
  }
  const rows = labelledRows(target);
  if (rows.length < 10) {
    throw new InputError(`Only ${rows.length} rows have a target value; at least 10 are needed to train, validate and test. Add data.`);
  }
  const random = seededRandom(seed);
  const notes: string[] = [];
  const groups: number[][] = [];
  if (target.task === "classification") {
    const byClass = new Map<number, number[]>();
    for (const r of rows) {
      const k = target.y[r]!;
      (byClass.get(k) ?? byClass.set(k, []).get(k)!).push(r);
    }
    for (const [k, members] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) {
      if (members.length < 3) notes.push(`Class ${JSON.stringify(target.classes[k])} has ${members.length} row(s); all go to training.`);
      groups.push(members);
    }
  } else {
    groups.push(rows);
  }
  const split: RowSplit = { train: [], val: [], test: [], stratified: target.task === "classification", seed, testSize, valSize, notes };
  for (const members of groups) {
    shuffleInPlace(members, random);
    const nTest = members.length < 3 ? 0 : Math.max(1, Math.round(members.length * testSize));
    const nVal = members.length < 3 ? 0 : Math.max(1, Math.round((members.length - nTest) * valSize));
    // a loop, not push(...rows): spreading a few hundred thousand rows overflows the call stack
    for (let i = 0; i < members.length; i++) (i < nTest ? split.test : i < nTest + nVal ? split.val : split.train).push(members[i]!);
  }
  // keep row order stable within each split so results do not depend on group order
  split.train.sort((a, b) => a - b);
  split.val.sort((a, b) => a - b);
  split.test.sort((a, b) => a - b);
  return split;
}
