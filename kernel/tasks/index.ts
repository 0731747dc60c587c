/** The tasks the product trains; the stages find the project's here by its task type. */
import type { TaskType } from "../../contract";
import type { PipelineTask } from "./task";
import { forecastingTask } from "./forecasting";
import { tabularTask } from "./tabular";
import { imageTask } from "./image";
import { textTask } from "./text";

export const TASKS: readonly PipelineTask[] = [tabularTask, forecastingTask, textTask, imageTask];

/** The task that trains `taskType`, or null when no task does (yet). */
export function taskFor(taskType: TaskType | null | undefined): PipelineTask | null {
  return TASKS.find((t) => taskType && t.taskTypes.includes(taskType)) ?? null;
}

/** What the product builds, in words, for a message about a task it cannot train. */
export function whatWeBuild(): string {
  return TASKS.map((t) => t.builds).join("; ");
}

export type { PipelineTask };
