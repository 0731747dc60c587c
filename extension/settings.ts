/**
 * The extension's settings (contributes.configuration) and its secrets. Secrets live only in
 * VS Code's SecretStorage and reach the conductor as environment variables of its process.
 */
import * as vscode from "vscode";
import { DEFAULT_KEEP_MODELS } from "../contract";

export interface AutomlSettings {
  autoConfirm: boolean;
  pacing: boolean;
  timeBudgetSeconds: number;
  keepModels: number;
  /** the agents' OpenAI-compatible endpoint (AUTOML_LLM_BASE_URL); empty: the environment's, else OpenRouter */
  llmBaseUrl: string;
  /** empty: the environment's AUTOML_LLM_MODEL, else the conductor's default */
  llmModel: string;
  /** the Hugging Face Hub's base URL (HF_ENDPOINT); empty: the environment's, else huggingface.co */
  huggingFaceEndpoint: string;
  /** Kaggle's API root (KAGGLE_API_ENDPOINT); empty: the environment's, else www.kaggle.com */
  kaggleEndpoint: string;
  /** a pretrained image network's folder (AUTOML_PRETRAINED_IMAGE_MODEL); empty: the environment's, else none */
  pretrainedImageModel: string;
  nodePath: string;
  kernelIdleMinutes: number;
  kernelMaxAlive: number;
  kernelMemoryMb: number;
}

export function readSettings(): AutomlSettings {
  const c = vscode.workspace.getConfiguration("automl");
  return {
    autoConfirm: c.get("autoConfirm", false),
    pacing: c.get("pacing", true),
    timeBudgetSeconds: c.get("timeBudgetSeconds", 60),
    keepModels: c.get("keepModels", DEFAULT_KEEP_MODELS),
    llmBaseUrl: c.get("llm.baseUrl", ""),
    llmModel: c.get("llm.model", ""),
    huggingFaceEndpoint: c.get("huggingFace.endpoint", ""),
    kaggleEndpoint: c.get("kaggle.endpoint", ""),
    pretrainedImageModel: c.get("images.pretrainedModel", ""),
    nodePath: c.get("conductor.nodePath", ""),
    kernelIdleMinutes: c.get("kernel.idleMinutes", 30),
    kernelMaxAlive: c.get("kernel.maxAlive", 4),
    kernelMemoryMb: c.get("kernel.memoryMb", 4096),
  };
}

/** Secret → the environment variable the conductor reads it from. */
export const SECRETS = {
  llmApiKey: { key: "automl.llmApiKey", env: "AUTOML_LLM_API_KEY", prompt: "API key for the LLM endpoint (OpenRouter or any OpenAI-compatible one)" },
  huggingFaceToken: { key: "automl.huggingFaceToken", env: "HF_TOKEN", prompt: "Hugging Face access token (read scope is enough)" },
  kaggleUsername: { key: "automl.kaggleUsername", env: "KAGGLE_USERNAME", prompt: "Kaggle username" },
  kaggleKey: { key: "automl.kaggleKey", env: "KAGGLE_KEY", prompt: "Kaggle API key" },
} as const;

export async function secretEnvironment(secrets: vscode.SecretStorage): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const s of Object.values(SECRETS)) {
    const value = await secrets.get(s.key);
    if (value) env[s.env] = value;
  }
  return env;
}
