/**
 * Checks an HTTP service discovery answer the way Prometheus reads it (sources in test/fixtures/README.md):
 * - docs/http_sd.md: status 200, `Content-Type: application/json`, UTF-8, a JSON list of
 *   `{"targets": ["<host>", ...], "labels": {"<labelname>": "<labelvalue>", ...}}`, `[]` when there is no target.
 * - discovery/http/http.go: the Content-Type must match `^(?i:application\/json(;\s*charset=("utf-8"|utf-8))?)$`
 *   (after trimming); a `null` group fails the refresh.
 * - discovery/targetgroup/targetgroup.go: each group is decoded with DisallowUnknownFields into
 *   `targets []string` and `labels model.LabelSet` (label names `[a-zA-Z_][a-zA-Z0-9_]*`, string values).
 * Returns the problems; empty when Prometheus would take the answer.
 */
export function httpSdProblems(status: number, contentType: string | undefined, body: Buffer): string[] {
  const problems: string[] = [];
  if (status !== 200) problems.push(`status ${status}, not 200`);
  if (!/^application\/json(;\s*charset=("utf-8"|utf-8))?$/i.test((contentType ?? '').trim())) {
    problems.push(`Content-Type ${JSON.stringify(contentType)} is not application/json`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return [...problems, 'the body is not UTF-8'];
  }
  let groups: unknown;
  try {
    groups = JSON.parse(text);
  } catch (error) {
    return [...problems, `the body is not JSON: ${(error as Error).message}`];
  }
  if (!Array.isArray(groups)) return [...problems, 'the body is not a JSON list'];
  groups.forEach((group: unknown, index) => {
    const at = `group ${index}`;
    if (typeof group !== 'object' || group === null || Array.isArray(group)) {
      problems.push(`${at} is not an object`);
      return;
    }
    for (const key of Object.keys(group)) {
      if (key !== 'targets' && key !== 'labels') problems.push(`${at} has the unknown field ${key}`);
    }
    const { targets, labels } = group as { targets?: unknown; labels?: unknown };
    if (targets !== undefined && targets !== null) {
      if (!Array.isArray(targets) || !targets.every((target) => typeof target === 'string')) {
        problems.push(`${at}: targets is not a list of strings`);
      }
    }
    if (labels !== undefined && labels !== null) {
      if (typeof labels !== 'object' || Array.isArray(labels)) {
        problems.push(`${at}: labels is not an object`);
      } else {
        for (const [name, value] of Object.entries(labels)) {
          if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) problems.push(`${at}: ${JSON.stringify(name)} is not a label name`);
          if (typeof value !== 'string') problems.push(`${at}: the value of label ${name} is not a string`);
        }
      }
    }
  });
  return problems;
}
