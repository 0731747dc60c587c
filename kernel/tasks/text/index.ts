/**
 * The text task: a column of free text (e-mails, reviews, messages) and a label. The rows are
 * split as a table's are (seeded, stratified by the label); the texts become TF-IDF weights of
 * word and character n-grams fitted on the training texts (the plan's one text_tfidf step);
 * logistic regression, a linear SVM and naive Bayes train on them, ranked by a validation
 * metric, each run epoch by epoch where it descends a gradient.
 */
import { METRICS_BY_TASK, type PreprocessPlan } from "../../../contract";
import { selectModels } from "../../agents/model-selector-agent";
import { DEFAULT_SPLIT } from "../../data/row-split";
import type { Table } from "../../data/table";
import { profileTable, type TableProfile } from "../../data/table-profile";
import { TEXT_LEARNERS } from "../../ml/text/text-classifiers";
import { checkTextSteps, findTextColumn, prepareText, proposedTextStep, type TextData } from "../../ml/text/text-data";
import type { SplitData } from "../../runtime/pipeline-runtime";
import { ref, type CodeCell } from "../pipeline-step";
import type { Idea, PipelineTask, RebuildSource } from "../task";
import { approvedSteps, profileCells, rebuildRowSplit, rebuildTable, rowSplitInWords, rowSplitStatement, settledIntent } from "../table-steps";

const TYPE = "text_classification" as const;

interface Intent {
  target: string;
  task: typeof TYPE;
}

export const textTask: PipelineTask = {
  id: "text",
  taskTypes: [TYPE],
  builds: "classifiers of free text (a text column and its label)",

  alternatives() {
    return [{ value: "classification", label: "classification", description: "predict the label from the other columns as a table (each text a category)" }];
  },

  profileCode: profileCells,

  proposedSplit(seed) {
    return { seed, test_size: DEFAULT_SPLIT.testSize, val_size: DEFAULT_SPLIT.valSize };
  },

  splitInWords(scope) {
    return rowSplitInWords(scope.get("split") as SplitData, "texts");
  },

  splitStatement: rowSplitStatement,

  async proposeSteps(runtime, scope) {
    const profile = scope.get("profile") as TableProfile;
    const { target } = scope.get("intent") as Intent;
    const column = findTextColumn(scope.get("table") as Table, target);
    return runtime.planPreprocessing(profile, target, { steps: [proposedTextStep(column)], source: "rules" });
  },

  checkSteps(steps, scope) {
    checkTextSteps(steps, scope.get("table") as Table, (scope.get("intent") as Intent).target);
  },

  preprocessCode(plan: PreprocessPlan): CodeCell[] {
    return [
      {
        conductor: "runs",
        comment:
          "The texts as TF-IDF weights: edit the text_tfidf step's params (word_ngrams, char_ngrams: null for words only, min_df, max_words, max_chars) and run the cell.",
        statements: [
          textTask.splitStatement(plan.split),
          { kind: "const", name: "steps", type: "automl.PreprocessStep[]", value: plan.steps },
          {
            kind: "call",
            method: "prepareTexts",
            args: [ref("steps"), ref("table"), ref("split")],
            bind: "data",
            show: "({ text_column: data.textColumn, features: data.vectorizer.idf.length, words: data.vectorizer.words.length })",
          },
        ],
      },
    ];
  },

  metrics() {
    return METRICS_BY_TASK[TYPE];
  },

  async proposeModels(runtime, _taskType, scope, agents) {
    const data = scope.get("data") as TextData;
    const profile = scope.get("profile") as TableProfile;
    const classes = profile.target?.kind === "classes" ? profile.target.classes : [];
    const facts = {
      task: TYPE,
      training_rows: data.train.rows.length,
      feature_columns: data.vectorizer.idf.length,
      column_kinds: { text: 1 },
      missing_pct: profile.missing_pct,
      classes: classes.length,
      ...(classes.length ? { rarest_class_pct: Math.min(...classes.map((c) => c.pct)) } : {}),
      time_budget_s: agents.timeBudgetSeconds,
      interpretable: agents.interpretable,
    };
    const offers = TEXT_LEARNERS.map((l) => ({ id: l.id, name: l.name, family: l.family, why: l.why }));
    const decided = await selectModels(facts, offers, agents.model, agents.call);
    const candidates = runtime.textCandidates({ models: decided.value, source: decided.source });
    return candidates.map((c) => ({ id: c.id, params: TEXT_LEARNERS.find((l) => l.id === c.id)!.defaults }));
  },

  learnerIds() {
    return TEXT_LEARNERS.map((l) => l.id);
  },

  ideas: textIdeas,

  rebuild(name: string, { snapshot, assets, get }: RebuildSource): unknown {
    const intent = () => get("intent") as Intent;
    switch (name) {
      case "table":
        return rebuildTable(snapshot, assets);
      case "intent":
        return settledIntent(snapshot, [TYPE]) satisfies Intent;
      case "profile":
        return profileTable(get("table") as Table, intent().target, TYPE);
      case "split":
        return rebuildRowSplit(snapshot, get("table") as Table, intent());
      case "steps":
        return approvedSteps(snapshot);
      case "data":
        return prepareText(approvedSteps(snapshot), get("table") as Table, get("split") as SplitData);
      default:
        return undefined;
    }
  },
};

/** Edits worth trying after the text models ran: words only when the character n-grams did not pay, or longer word n-grams. */
function textIdeas(s: RebuildSource["snapshot"]): Idea[] {
  const step = s.plans.PREPROCESS?.plan?.steps.find((x) => x.op === "text_tfidf");
  if (!step) return [];
  const out: Idea[] = [];
  const words = step.params["word_ngrams"];
  if (Array.isArray(words) && words[1] === 2) {
    out.push({
      suggestion: {
        id: "text-word-trigrams",
        stage_id: "PREPROCESS",
        title: "Add word triples (word_ngrams [1, 3])",
        detail: 'Phrases of three words ("click here to") can tell classes apart where single words and pairs do not; the vocabulary grows.',
      },
      patch: {
        stage: "PREPROCESS",
        change: (p) => ({ ...p, steps: p.steps.map((x) => (x.op === "text_tfidf" ? { ...x, params: { ...x.params, word_ngrams: [1, 3] } } : x)) }),
      },
    });
  }
  if (step.params["char_ngrams"] !== null) {
    out.push({
      suggestion: {
        id: "text-words-only",
        stage_id: "PREPROCESS",
        title: "Words only (char_ngrams null)",
        detail: "Character n-grams make most of the features and most of the time: compare a model of words alone, faster to train and to read.",
      },
      patch: {
        stage: "PREPROCESS",
        change: (p) => ({ ...p, steps: p.steps.map((x) => (x.op === "text_tfidf" ? { ...x, params: { ...x.params, char_ngrams: null } } : x)) }),
      },
    });
  }
  return out;
}
