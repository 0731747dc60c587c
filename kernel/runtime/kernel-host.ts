/**
 * What a notebook kernel process offers the runtime library loaded by its cells. The kernel
 * installs it on globalThis before any cell runs; the runtime bundle (a separate module
 * instance) finds it there. Without it the runtime runs standalone (plain Jupyter).
 */
import type { EventName, EventPayload, ProjectSnapshot, StageId } from "../../contract";

export const KERNEL_HOST_KEY = "__automl_kernel_host__";

export interface KernelHost {
  projectId: string;
  projectDir: string;
  pacing: boolean;
  emit<N extends EventName>(stage: StageId, name: N, payload: EventPayload<N>): void;
  /** aborted when the person interrupts the running cell */
  currentSignal(): AbortSignal;
  /** the project's state as the conductor holds it now (after this kernel's events so far) */
  state(): Promise<ProjectSnapshot>;
  /** shows a MIME bundle as an output of the running cell */
  display(bundle: Record<string, unknown>): void;
  /** long runtime work (training) the kernel waits for before it reports an interrupted cell done */
  track<T>(work: Promise<T>): Promise<T>;
}

export function installKernelHost(host: KernelHost): void {
  (globalThis as Record<string, unknown>)[KERNEL_HOST_KEY] = host;
}

export function findKernelHost(): KernelHost | null {
  return ((globalThis as Record<string, unknown>)[KERNEL_HOST_KEY] as KernelHost | undefined) ?? null;
}
