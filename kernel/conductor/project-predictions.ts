/**
 * Predictions from a project's best model for rows sent as JSON (POST /api/projects/{id}/predict):
 * the same predictor, batch prediction and per-row checks as `automl predict` and the bundle's
 * predict.mjs (kernel/predict), so the three give the same numbers. The model is read once
 * and kept while its file is unchanged; a new best run is read on the next request.
 */
import * as fs from "node:fs";
import type { PredictFileRequest, PredictFileResponse, PredictProblem, PredictRequest, PredictResponse } from "../../contract";
import { InputError } from "../errors/input-error";
import { tableFromRecords } from "../data/table-loader";
import { modelFileOf } from "../ml/model-file";
import { predictBatch, predictionsJson, predictorFromModelFile, textInputs, unusedColumns, type Predictor } from "../predict/model-predictor";
import { predictFile } from "../predict/file-prediction";
import { PredictionReport } from "../predict/prediction-report";
import type { Project } from "./project";

/** rows a batch of predict-file: a batch holds the conductor's thread for tens of milliseconds (the trees compile from 16,384 rows) */
const CONDUCTOR_BATCH_ROWS = 16_384;

function modelOf(p: Predictor): PredictResponse["model"] {
  return { run_id: p.runId, model_id: p.modelId, task: p.task, target: p.target, classes: p.classes };
}

export class ProjectPredictions {
  private readonly loaded = new Map<string, { file: string; mtimeMs: number; size: number; predictor: Predictor }>();

  predict(project: Project, req: PredictRequest): PredictResponse {
    const predictor = this.predictorOf(project);
    const { table } = tableFromRecords(req.rows, "the request's rows", textInputs(predictor));
    const problems: PredictProblem[] = [];
    const report = new PredictionReport((p) => problems.push(p));
    const batch = predictBatch(predictor, table, 0, report);
    return {
      model: modelOf(predictor),
      predictions: predictionsJson(predictor, batch),
      problems,
      summary: report.summaries().map((s) => s.message),
      ignored_columns: unusedColumns(predictor, table.columnNames),
    };
  }

  /** A data file predicted in batches, the predictions and the report written beside it (file-prediction.ts, as automl predict does). */
  async predictFile(project: Project, req: PredictFileRequest): Promise<PredictFileResponse> {
    const predictor = this.predictorOf(project);
    // smaller batches than the command line's: each is predicted in one go on the conductor's thread
    const r = await predictFile(predictor, { data: req.data_path, out: req.out_path, keep: req.keep, batchRows: CONDUCTOR_BATCH_ROWS });
    return {
      model: modelOf(predictor),
      rows: r.rows,
      refused: r.refused,
      out_path: r.out,
      report_path: r.report,
      summary: r.summaries.map((s) => s.message),
      ignored_columns: r.ignored,
      warnings: r.warnings,
    };
  }

  private predictorOf(project: Project): Predictor {
    const best = project.snapshot.best;
    if (!best) throw new InputError(`Project ${project.meta.id} has no trained model yet. Train it, then predict.`);
    const rel = modelFileOf(best.run_id);
    const file = project.assets.regularFile(rel);
    if (!file) throw new InputError(`The best run's model file (${rel}) is missing from project ${project.meta.id}. Train the project again.`);
    const stat = fs.statSync(file);
    const known = this.loaded.get(project.meta.id);
    if (known && known.file === file && known.mtimeMs === stat.mtimeMs && known.size === stat.size) return known.predictor;
    const predictor = predictorFromModelFile(new Uint8Array(fs.readFileSync(file)), rel);
    this.loaded.set(project.meta.id, { file, mtimeMs: stat.mtimeMs, size: stat.size, predictor });
    return predictor;
  }
}
