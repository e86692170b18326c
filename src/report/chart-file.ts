import type { Plan } from "../plan.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { renderMemoryChart } from "./chart-svg.js";

export async function writeMemoryChart(path: string, plan: Plan): Promise<void> {
  await writeFileAtomic(path, renderMemoryChart(plan));
}
