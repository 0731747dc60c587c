/**
 * The image task: a column of image files (an image index: a labelled folder's images.csv, an
 * image dataset) and a label. The profile decodes every image (classes, sizes, channels, the
 * unreadable files); the rows are split as a table's are (seeded, stratified by class); the
 * plan's one image_pixels step resizes every image to one size; a convolutional network trains
 * on them epoch by epoch, ranked by a validation metric.
 */
import { METRICS_BY_TASK, type PreprocessPlan } from "../../../contract";
import { selectModels } from "../../agents/model-selector-agent";
import { imageColumnOf } from "../../data/image-files";
import { DEFAULT_SPLIT } from "../../data/row-split";
import type { Table } from "../../data/table";
import { InputError } from "../../errors/input-error";
import { checkImageSteps, prepareImages, profileImages, proposedImageStep, type ImageProfile } from "../../ml/image/image-data";
import { IMAGE_LEARNERS } from "../../ml/image/image-learners";
import type { SplitData } from "../../runtime/pipeline-runtime";
import { ref, type CodeCell } from "../pipeline-step";
import type { Idea, PipelineTask, RebuildSource } from "../task";
import { approvedSteps, rebuildRowSplit, rebuildTable, rowSplitInWords, rowSplitStatement, settledIntent } from "../table-steps";

const TYPE = "image_classification" as const;

interface Intent {
  target: string;
  task: typeof TYPE;
}

export const imageTask: PipelineTask = {
  id: "image",
  taskTypes: [TYPE],
  builds: "image classifiers (a folder of images per class)",

  alternatives() {
    return [];
  },

  profileCode(): CodeCell[] {
    return [
      {
        conductor: "runs",
        statements: [
          {
            kind: "call",
            method: "profileImages",
            args: [ref("table"), { target: ref("intent.target") }],
            bind: "profile",
            show: "automl.table(profile.classes, `${profile.images} images; sizes: ${profile.sizes.slice(0, 3).map((s) => `${s.width}x${s.height} (${s.count})`).join(', ')}`)",
          },
        ],
      },
    ];
  },

  proposedSplit(seed) {
    return { seed, test_size: DEFAULT_SPLIT.testSize, val_size: DEFAULT_SPLIT.valSize };
  },

  splitInWords(scope) {
    return rowSplitInWords(scope.get("split") as SplitData, "images");
  },

  splitStatement: rowSplitStatement,

  async proposeSteps(runtime, scope) {
    const profile = scope.get("profile") as ImageProfile;
    return runtime.planImagePixels(proposedImageStep(profile));
  },

  checkSteps(steps, scope) {
    checkImageSteps(steps, scope.get("table") as Table, (scope.get("intent") as Intent).target);
  },

  preprocessCode(plan: PreprocessPlan): CodeCell[] {
    return [
      {
        conductor: "runs",
        comment: "Every image resized to one size: edit the image_pixels step's params (width, height, channels: 1 grey or 3 colour) and run the cell.",
        statements: [
          imageTask.splitStatement(plan.split),
          { kind: "const", name: "steps", type: "automl.PreprocessStep[]", value: plan.steps },
          {
            kind: "call",
            method: "prepareImages",
            args: [ref("steps"), ref("table"), ref("split")],
            bind: "data",
            show: "({ size: data.size, train: data.train.n, val: data.val.n, test: data.test.n, classes: data.classes })",
          },
        ],
      },
    ];
  },

  metrics() {
    return METRICS_BY_TASK[TYPE];
  },

  async proposeModels(runtime, _taskType, scope, agents) {
    const profile = scope.get("profile") as ImageProfile;
    const facts = {
      task: TYPE,
      training_rows: (scope.get("split") as SplitData).split.train.length,
      feature_columns: 1,
      column_kinds: { image: 1 },
      missing_pct: 0,
      classes: profile.classes.length,
      rarest_class_pct: Math.round((1000 * Math.min(...profile.classes.map((c) => c.count))) / profile.images) / 10,
      time_budget_s: agents.timeBudgetSeconds,
      interpretable: agents.interpretable,
    };
    const offers = IMAGE_LEARNERS.filter((l) => l.available()).map((l) => ({ id: l.id, name: l.name, family: l.family, why: l.why }));
    const decided = await selectModels(facts, offers, agents.model, agents.call);
    const length = trainingLength(Math.round((scope.get("split") as SplitData).split.train.length));
    const candidates = runtime.imageCandidates({ models: decided.value, source: decided.source }, length);
    return candidates.map((c) => ({ id: c.id, params: { ...IMAGE_LEARNERS.find((l) => l.id === c.id)!.defaults, ...length } }));
  },

  learnerIds() {
    return IMAGE_LEARNERS.map((l) => l.id);
  },

  ideas: imageIdeas,

  rebuild(name: string, { snapshot, assets, get }: RebuildSource): unknown {
    const intent = () => get("intent") as Intent;
    const read = (p: string) => assets.read(p);
    switch (name) {
      case "table":
        return rebuildTable(snapshot, assets);
      case "intent":
        return settledIntent(snapshot, [TYPE]) satisfies Intent;
      case "profile": {
        const table = get("table") as Table;
        const column = imageColumnOf(table);
        if (!column) throw new InputError("the data has no column of image files");
        return profileImages(table, column, intent().target, read);
      }
      case "split":
        return rebuildRowSplit(snapshot, get("table") as Table, intent());
      case "steps":
        return approvedSteps(snapshot);
      case "data":
        return prepareImages(approvedSteps(snapshot), get("table") as Table, get("split") as SplitData, read);
      default:
        return undefined;
    }
  },
};

/** Edits worth trying after the image models ran: a wider network, more epochs. */
/** a network needs about this many optimiser steps to learn, however few images there are */
const MIN_STEPS = 600;

/**
 * Epochs, batch size and patience for this many training images: a few hundred images in
 * batches of 64 are 12 × 3 steps, too few to learn anything (a new user's 181 shapes ended
 * near chance), so small sets get smaller batches and more epochs, early stopping still on.
 */
export function trainingLength(trainImages: number): { epochs: number; batch_size: number; patience: number } {
  const batch_size = trainImages < 2000 ? 32 : 64;
  const batches = Math.max(1, Math.ceil(trainImages / batch_size));
  const epochs = Math.min(60, Math.max(12, Math.ceil(MIN_STEPS / batches)));
  return { epochs, batch_size, patience: Math.min(10, Math.max(3, Math.round(epochs / 5))) };
}

function imageIdeas(s: RebuildSource["snapshot"]): Idea[] {
  const cnn = s.plans.MODEL_SELECT?.plan?.models.find((m) => m.id === "small_cnn");
  if (!cnn) return [];
  const out: Idea[] = [];
  const filters = Number(cnn.params?.["filters"] ?? 16);
  const withParams = (extra: Record<string, number>) => ({
    stage: "MODEL_SELECT" as const,
    change: (p: NonNullable<typeof s.plans.MODEL_SELECT>["plan"] & object) => ({
      ...p,
      models: p.models.map((m) => (m.id === "small_cnn" ? { ...m, params: { ...m.params, ...extra } } : m)),
    }),
  });
  if (filters < 64)
    out.push({
      suggestion: {
        id: "cnn-wider",
        stage_id: "MODEL_SELECT",
        title: `Twice the filters (${filters} → ${2 * filters})`,
        detail: "A wider network can learn finer shapes; each epoch takes about twice as long.",
      },
      patch: withParams({ filters: 2 * filters }),
    });
  const epochs = Number(cnn.params?.["epochs"] ?? 12);
  out.push({
    suggestion: {
      id: "cnn-more-epochs",
      stage_id: "MODEL_SELECT",
      title: `Train up to ${epochs + 8} epochs`,
      detail: "Early stopping still ends training when validation accuracy stops improving.",
    },
    patch: withParams({ epochs: epochs + 8 }),
  });
  return out;
}
