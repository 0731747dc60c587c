/**
 * The dataset ranker: orders the data finder's usable candidates for the request, each with a
 * reason. The model reorders only what the rules let through (license-checked, relevant to the
 * request); it cannot bring a rejected one back. Its reason leads the candidate's reasons.
 * When the model's first choice is not the rules', the choice counts as unclear (the gate asks,
 * unless in auto mode).
 */
import { z } from "zod";
import type { AgentCall, AgentModel, Decided } from "./agent-model";
import type { DatasetQuery, RankedCandidate } from "./dataset-ranking";

export async function rankDatasets(
  query: DatasetQuery,
  usable: readonly RankedCandidate[],
  model: AgentModel,
  call: AgentCall,
): Promise<Decided<RankedCandidate[]>> {
  const rules: Decided<RankedCandidate[]> = { value: [...usable], source: "rules" };
  if (usable.length < 2) return rules;
  const ids = usable.map((c) => c.id) as [string, ...string[]];
  const schema = z.strictObject({
    order: z
      .array(z.strictObject({ id: z.enum(ids), reason: z.string().min(1).max(300).describe("why it stands here, for the person") }))
      .min(1)
      .max(usable.length),
  });
  const answer = await model.ask(call, {
    agent: "dataset ranker",
    tool: "rank_datasets",
    description: "the candidate datasets in order of fit for the request, best first",
    schema,
    instructions:
      "Order DATA.candidates by how well each serves DATA.request (the task, a column for what is to be predicted, the data's size and quality, downloads), best first, " +
      "each with a short reason. DATA.candidates already passed the license check; rules_reasons are what fixed rules found.",
    data: {
      request: query.prompt,
      task: query.task,
      target_words: query.targetHint,
      candidates: usable.map((c) => ({
        id: c.id,
        name: c.name,
        source: c.source,
        description: c.desc.slice(0, 400),
        license: c.license?.license ?? "the person's own data",
        columns: (c.columns ?? []).slice(0, 40),
        downloads: c.downloads,
        size_bytes: c.size_bytes,
        rules_reasons: c.reasons.slice(0, 5),
      })),
    },
    check: (v) => (new Set(v.order.map((o) => o.id)).size === v.order.length ? null : "it listed a dataset twice"),
  });
  if (answer === null) return rules;
  const byId = new Map(usable.map((c) => [c.id, c]));
  const ordered = answer.order.map((o) => ({ ...byId.get(o.id)!, reasons: [`language model: ${o.reason}`, ...byId.get(o.id)!.reasons] }));
  // what it left out keeps the rules' order, after
  for (const c of usable) if (!answer.order.some((o) => o.id === c.id)) ordered.push(c);
  return { value: ordered, source: "llm" };
}
