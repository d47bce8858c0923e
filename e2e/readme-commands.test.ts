import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO, run, tempDir } from './helpers';

/**
 * The shell blocks of every README, run verbatim in the repository as a new user would after the quick start
 * (`npm ci && npm start`, `npm test`: what `.ci/run` does before the e2e suite). A block that is not meant to run
 * here (on a device, with an installed package, on hardware, on another machine) has the line
 * `<!-- readme-test: skip: <why> -->` just before its fence.
 *
 * The blocks of one README run in order in one shell, in a network namespace of their own: only its loopback,
 * so the commands keep their own ports (8080, 9100, 9101) without meeting anything else on this machine, and
 * reach nothing outside it. The exporter and the config server (started without --once, --help, --version or
 * `plugins`) are started in the background, waited for until they listen, and stopped when the README is done.
 */

const SKIP = /^<!-- readme-test: skip: (\S.*) -->$/;
const FENCE = /^```(bash|sh|shell)\s*$/;
/** Files the commands create in the repository; the test needs them absent, and removes them. */
const WRITTEN = ['config.yaml', '.config.yaml.sync.json', 'config-server.db', 'config-server.db-wal', 'config-server.db-shm'];

interface Block {
  where: string;
  skip?: string;
  commands: string[];
}

/** The shell blocks of one README, each as its commands (continued lines joined, comment lines left out). */
function shellBlocks(file: string): Block[] {
  const lines = readFileSync(join(REPO, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  lines.forEach((line, index) => {
    if (!FENCE.test(line)) return;
    const end = lines.indexOf('```', index + 1);
    const commands = lines
      .slice(index + 1, end)
      .join('\n')
      .split(/(?<!\\)\n/)
      .filter((command) => command.trim() !== '' && !command.trim().startsWith('#'));
    const skip = SKIP.exec(lines[index - 1] ?? '')?.[1];
    blocks.push({ where: `${file}:${index + 1}`, commands, ...(skip ? { skip } : {}) });
  });
  return blocks;
}

/** A command that serves until stopped: the exporter or the config server, not asked for a one-shot answer. */
function isService(command: string): boolean {
  return /\bedge-metrics-(exporter|config-server)\b/.test(command) && !/\s(--once|--help|--version|plugins)\b/.test(command);
}

/** A bash script that runs the blocks' commands in order, stops at the first failure, and stops its services. */
function script(blocks: Block[]): string {
  const out = [
    'set -uo pipefail',
    'exec 2>&1',
    'ip link set lo up || exit 1',
    'services=()',
    // Waits for every process of each service's group (npx returns before the exporter has written its sync state
    // on SIGTERM), for 10 s at most.
    'stop_services() {',
    '  for pid in "${services[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done',
    '  for pid in "${services[@]}"; do for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done; done',
    '  wait',
    '}',
    'trap stop_services EXIT',
    // Waits until the service's log says it listens; fails with the log if it ends or takes over a minute.
    'listening() {',
    '  for _ in $(seq 600); do',
    "    grep -Eq 'serving /metrics on|listening on' \"$1\" && return 0",
    '    kill -0 "$2" 2>/dev/null || { echo "it ended:"; cat "$1"; return 1; }',
    '    sleep 0.1',
    '  done',
    '  echo "it did not listen within 60 s:"; cat "$1"; return 1',
    '}',
  ];
  let services = 0;
  for (const block of blocks) {
    for (const command of block.commands) {
      const shown = JSON.stringify(`${block.where}: ${command}`).replace(/\$/g, '\\$').replace(/`/g, '\\`');
      out.push(`printf '\\n$ %s\\n' ${shown}`);
      if (isService(command)) {
        const log = `"$README_TEST_LOGS/service-${services++}.log"`;
        // Its own process group, so that stopping it stops npx and the node process it started.
        out.push(`setsid bash -c ${shellQuote(command)} > ${log} 2>&1 &`, 'services+=($!)', `listening ${log} $! || exit 1`);
      } else {
        out.push(command, `status=$?; [ $status -eq 0 ] || { echo "exit $status: "${shown}; exit 1; }`);
      }
    }
  }
  return out.join('\n') + '\n';
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

const readmes = execFileSync('git', ['ls-files', '*README.md', 'README.md'], { cwd: REPO, encoding: 'utf8' }).split('\n').filter(Boolean);
const blocks = new Map(readmes.map((file) => [file, shellBlocks(file)]));

test('every skip marker stands just before a shell block and says why', () => {
  const stray = readmes.flatMap((file) =>
    readFileSync(join(REPO, file), 'utf8')
      .split('\n')
      .flatMap((line, index, lines) => (line.startsWith('<!-- readme-test') && !(SKIP.test(line) && FENCE.test(lines[index + 1] ?? '')) ? [`${file}:${index + 1}: ${line}`] : [])),
  );
  expect(stray).toEqual([]);
});

const runnable = [...blocks].map(([file, all]) => [file, all.filter((block) => !block.skip)] as const).filter(([, mine]) => mine.length > 0);

describe.each(runnable)('%s', (file, mine) => {
  let logs: Awaited<ReturnType<typeof tempDir>>;
  beforeAll(async () => {
    logs = await tempDir();
    const present = WRITTEN.filter((name) => existsSync(join(REPO, name)));
    if (present.length > 0) throw new Error(`move ${present.join(', ')} out of ${REPO} first: the README commands write there`);
  });
  afterAll(async () => {
    await Promise.all(WRITTEN.map((name) => rm(join(REPO, name), { force: true })));
    await logs?.cleanup();
  });

  test(`its commands run verbatim: ${mine.map((block) => block.where).join(', ')}`, async () => {
    const path = join(logs.path, 'readme.sh');
    await writeFile(path, script(mine));
    // -r: a user namespace, so that the network namespace needs no privilege.
    const result = run('unshare', ['-rn', 'bash', path], { cwd: REPO, env: { README_TEST_LOGS: logs.path }, timeoutMs: 240_000 });
    // On failure, everything the commands printed, which ends with the one that failed.
    expect(result.code === 0 ? 'all ran' : `exit ${result.code}:\n${result.stdout}`).toBe('all ran');
  });
});
