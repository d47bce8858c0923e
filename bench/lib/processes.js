'use strict';
// Child processes the bench measures: started, awaited until they announce themselves, stopped.

const { spawn } = require('node:child_process');
const { once } = require('node:events');
const { createInterface } = require('node:readline');

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const OUTPUT_KEPT = 50;

/**
 * Spawns `command` and resolves once a line of its stdout or stderr matches `ready`, with the match; rejects
 * with the last lines it printed when it exits or stays silent for too long first.
 */
async function startProcess(command, args, { ready, cwd, env, name }) {
  const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const keep = (line) => {
    lines.push(line);
    if (lines.length > OUTPUT_KEPT) lines.shift();
  };
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  const match = await new Promise((resolve, reject) => {
    const fail = (why) => reject(new Error(`${name}: ${why}; its last output:\n  ${lines.join('\n  ')}`));
    const timer = setTimeout(() => fail(`did not print ${ready} within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS);
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        keep(line);
        const found = ready.exec(line);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
      });
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      fail(`could not be started (${error.message})`);
    });
    exited.then(([code, signal]) => {
      clearTimeout(timer);
      fail(`exited (${signal ?? `status ${code}`}) before it was ready`);
    });
  });
  return {
    pid: child.pid,
    match,
    /** SIGTERM, and SIGKILL when it has not exited within 10 s. */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a Node script to its end and returns what it printed on stdout, parsed as JSON. */
async function runJsonScript(script, args, { nodeArgs = [], cwd } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk) => (stderr += chunk));
  const [code, signal] = await once(child, 'exit');
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} failed (${signal ?? `status ${code}`}):\n${stderr.trim()}`);
  return JSON.parse(stdout);
}

module.exports = { startProcess, runJsonScript };
