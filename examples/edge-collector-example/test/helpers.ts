import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FixtureTree } from '@edge-metrics/core/testing';

/** One folder per capture: its `dev` file and, where the parser must give it, `expected.json`. */
export const FIXTURES = join(__dirname, 'fixtures');

/** A captured /proc/net/dev (fixtures/README.md names the source of each). */
export function capturedNetDev(name: string): string {
  return readFileSync(join(FIXTURES, name, 'dev'), 'utf8');
}

/** A procfs in a temporary folder, at `path('proc')`, whose net/dev is `text`. */
export async function procTree(text: string): Promise<FixtureTree> {
  const tree = await FixtureTree.create();
  await tree.write('proc/net/dev', text);
  return tree;
}
