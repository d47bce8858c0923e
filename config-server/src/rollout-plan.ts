import { isPlainObject } from './layers';

const PLAN_KEYS = new Set(['steps', 'wait_s', 'max_failed_percent']);
/** A day: a longer wait is more likely a mistake (milliseconds typed as seconds) than a plan. */
const MAX_WAIT_S = 86_400;

/** How many of `total` affected devices (in rollout order) the step at `index` (0-based) has reached. */
export function reachedBy(steps: readonly number[], index: number, total: number): number {
  return Math.min(total, Math.ceil((steps[index]! / 100) * total));
}

export function failedPercent(failed: number, inStep: number): number {
  return inStep === 0 ? 0 : (failed / inStep) * 100;
}

/** The problems of a `rollout` object, each naming its field; empty when it is a valid plan. */
export function rolloutPlanProblems(raw: unknown): string[] {
  if (!isPlainObject(raw)) return ['rollout: must be an object {"steps": [...], "wait_s": N, "max_failed_percent": P}'];
  const problems = Object.keys(raw).filter((key) => !PLAN_KEYS.has(key)).map((key) => `rollout: unknown key '${key}'`);
  const { steps, wait_s: waitS, max_failed_percent: maxFailed } = raw;
  const isPercent = (value: unknown): value is number => typeof value === 'number' && value > 0 && value <= 100;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > 100 || !steps.every(isPercent)) {
    problems.push('rollout.steps: must be a list of 1 to 100 percentages above 0 and at most 100');
  } else if (steps.some((step, i) => i > 0 && step <= steps[i - 1]) || steps.at(-1) !== 100) {
    problems.push('rollout.steps: must rise and end at 100 (e.g. [5, 25, 100])');
  }
  if (typeof waitS !== 'number' || !(waitS >= 0 && waitS <= MAX_WAIT_S)) {
    problems.push(`rollout.wait_s: must be a number of seconds from 0 to ${MAX_WAIT_S}`);
  }
  if (typeof maxFailed !== 'number' || !(maxFailed >= 0 && maxFailed <= 100)) {
    problems.push('rollout.max_failed_percent: must be a number from 0 to 100');
  }
  return problems;
}
