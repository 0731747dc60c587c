/** The stage modules in the contract's order. */
import { STAGE_IDS, type StageId } from "../../contract";
import { dataSourceStage } from "./data-source-stage";
import { exportStage } from "./export-stage";
import { modelSelectStage } from "./model-select-stage";
import { parseIntentStage } from "./parse-intent-stage";
import { preprocessStage } from "./preprocess-stage";
import { profileDataStage } from "./profile-data-stage";
import { reviewEditStage } from "./review-edit-stage";
import type { StageModule } from "./stage";
import { trainStage } from "./train-stage";

export const STAGES: Record<StageId, StageModule> = {
  PARSE_INTENT: parseIntentStage,
  DATA_SOURCE: dataSourceStage,
  PROFILE_DATA: profileDataStage,
  PREPROCESS: preprocessStage,
  MODEL_SELECT: modelSelectStage,
  TRAIN: trainStage,
  REVIEW_EDIT: reviewEditStage,
  EXPORT: exportStage,
};

for (const id of STAGE_IDS) if (STAGES[id].id !== id) throw new Error(`stage module for ${id} says it is ${STAGES[id].id}`);
