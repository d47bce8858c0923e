import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describeError, type Logger } from '@edge-metrics/core/plugin';
import { parsePmicAdc, parseThrottled, type PmicRail, type ThrottledFlag } from './vcgencmd-output';

const execFileAsync = promisify(execFile);

/** What execFile rejects with: `code` is the exit status, or an errno string such as `ENOENT`. */
type RunError = Omit<NodeJS.ErrnoException, 'code'> & { code?: number | string; killed?: boolean; stdout?: string; stderr?: string };

export interface Timed<T> {
  value: T;
  /** When vcgencmd answered (ms since the epoch). */
  atMs: number;
}

/**
 * Runs `vcgencmd get_throttled` and `vcgencmd pmic_read_adc` as child processes and keeps their last results, so
 * that collection reads a cache and never waits for a process to start and the firmware to answer.
 * Where vcgencmd is missing, or a board has no PMIC ADC (before the Raspberry Pi 5), it says so once and stops
 * asking; other failures are logged once each and drop the stale result until vcgencmd answers again.
 */
export class VcgencmdReader {
  throttled: Timed<Record<ThrottledFlag, boolean>> | undefined;
  pmicRails: Timed<PmicRail[]> | undefined;

  private missing = false;
  private pmic: 'unknown' | 'present' | 'absent' = 'unknown';
  private refreshing: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(
    private readonly path: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Refreshes both results, unless a refresh is already running (then waits for that one). Never rejects. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Kills a running vcgencmd and stops refreshing. */
  stop(): void {
    this.abort.abort();
  }

  private async refreshAll(): Promise<void> {
    this.throttled = await this.query('get_throttled', parseThrottled);
    if (this.pmic !== 'absent') this.pmicRails = await this.query('pmic_read_adc', (output) => this.pmicRailsOf(output));
  }

  private pmicRailsOf(output: string): PmicRail[] {
    const rails = parsePmicAdc(output);
    if (rails.length > 0) {
      this.pmic = 'present';
    } else if (this.pmic === 'unknown') {
      this.noPmic(output);
    } else {
      throw new Error(`'${this.path} pmic_read_adc' printed no rail readings: ${JSON.stringify(output.trim())}`);
    }
    return rails;
  }

  /** A board whose first answer to pmic_read_adc has no readings has no PMIC ADC: it is not asked again. */
  private noPmic(output: string): void {
    this.pmic = 'absent';
    this.logger.warnOnce('vcgencmd pmic_read_adc', `'${this.path} pmic_read_adc' reports no PMIC rails ` +
      `(${JSON.stringify(output.trim().split('\n')[0] ?? '')}): only a Raspberry Pi 5 has them, so ` +
      'raspberrypi_pmic_rail_watts is not reported');
  }

  private async query<T>(command: string, parse: (output: string) => T): Promise<Timed<T> | undefined> {
    if (this.missing || this.abort.signal.aborted) return undefined;
    let output: string;
    try {
      output = await this.run(command);
    } catch (error) {
      this.reportFailedRun(command, error as RunError);
      return undefined;
    }
    try {
      return { value: parse(output), atMs: Date.now() };
    } catch (error) {
      const message = `${describeError(error)}${accessHint(output)}`;
      this.logger.warnOnce(message, message);
      return undefined;
    }
  }

  private reportFailedRun(command: string, error: RunError): void {
    if (this.abort.signal.aborted) return;
    const what = `'${this.path} ${command}'`;
    if (error.code === 'ENOENT') {
      this.missing = true;
      this.logger.warnOnce('vcgencmd missing', `vcgencmd not found at '${this.path}' (option vcgencmd_path): ` +
        'raspberrypi_throttled and raspberrypi_pmic_rail_watts are not reported (Raspberry Pi OS has it in /usr/bin)');
    } else if (error.killed) {
      this.logger.warnOnce(`${what} timeout`, `${what} did not answer within ${this.timeoutMs} ms ` +
        '(option vcgencmd_timeout_ms); its metrics are left out until it answers');
    } else if (typeof error.code === 'number') {
      const said = (error.stderr || error.stdout || '').trim();
      if (command === 'pmic_read_adc' && this.pmic === 'unknown' && !accessHint(said)) return this.noPmic(said);
      const message = `${what} exited with status ${error.code}${said ? ` (${JSON.stringify(said)})` : ''}${accessHint(said)}`;
      this.logger.warnOnce(message, message);
    } else {
      this.logger.warnOnce(`${what} ${error.message}`, `${what}: ${error.message}`);
    }
  }

  /** Rejects with the child's `stdout` and `stderr` attached to the error. */
  private async run(command: string): Promise<string> {
    const options = { encoding: 'utf8' as const, timeout: this.timeoutMs, signal: this.abort.signal, maxBuffer: 64 * 1024 };
    return (await execFileAsync(this.path, [command], options)).stdout;
  }
}

/** vcgencmd says "VCHI initialization failed" when its user may not open the firmware's device. */
function accessHint(output: string): string {
  return /VCHI|vchiq|vcio/i.test(output)
    ? ": vcgencmd needs /dev/vcio (or /dev/vchiq), so add the exporter's user to the video group"
    : '';
}
