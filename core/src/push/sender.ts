import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { describeError } from '../errors';
import type { Logger } from '../plugin-api';
import { requestBody } from './encode';
import type { PushMetrics } from './metrics';
import { SegmentQueue, type Batch } from './queue';
import { authorization, type ReceiverSettings } from './settings';

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
/** How much of an error answer is kept for the log line. */
const ANSWER_CHARS = 300;

interface Answer {
  status: number;
  text: string;
  retryAfterMs?: number;
}

/**
 * Drains one receiver's queue, oldest first, one batch in flight (so each series arrives in order): a 2xx moves the
 * checkpoint; a 5xx, a 429, a timeout or a connection error is retried with capped exponential backoff and jitter;
 * any other 4xx will never succeed, so the batch is dropped (counted, logged once) rather than blocking the queue.
 * A batch goes when it is full (`max_samples_per_send`) or its oldest sample has waited `batch_send_deadline`.
 */
export class Sender {
  private stopped = false;
  private readonly loop: Promise<void>;
  private readonly agent: HttpAgent;
  private inFlight: ClientRequest | undefined;
  /** Ends the current wait early: on stop, and (while idle) on an append that makes a batch due sooner. */
  private wakeUp: (() => void) | undefined;
  /**
   * While idle, which appends end the wait: with nothing pending, the first (the wait then ends at its batch's
   * deadline); with a batch waiting for its deadline, only one that fills it. The others change nothing, so that a
   * cycle costs no timer.
   */
  private wakeOnAppend: 'none' | 'first' | 'full' = 'none';
  /** The last failure of the current streak of failures, said once when it starts and once when it ends. */
  private failing: string | undefined;

  private constructor(
    readonly settings: ReceiverSettings,
    private readonly queue: SegmentQueue,
    private readonly metrics: PushMetrics,
    private readonly logger: Logger,
  ) {
    const { url, ca, insecureSkipVerify } = settings;
    this.agent = url.protocol === 'https:' ? new HttpsAgent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: !insecureSkipVerify, ...(ca ? { ca } : {}) }) : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    queue.onAppend(() => {
      if (this.wakeOnAppend === 'first' || (this.wakeOnAppend === 'full' && queue.pendingSamples >= settings.maxSamplesPerSend)) this.wakeUp?.();
    });
    this.loop = this.run();
  }

  /** Opens the receiver's queue (what a previous run left is sent first) and starts draining it. */
  static async start(settings: ReceiverSettings, metrics: PushMetrics, logger: Logger): Promise<Sender> {
    const { name } = settings;
    const queue = await SegmentQueue.open(settings.queueDir, { maxBytes: settings.maxDiskBytes, maxAgeMs: settings.maxAgeMs }, {
      dropped: (reason, samples, detail) => {
        metrics.recordDropped(name, reason, samples);
        logger.warnOnce(`remote_write\u0000${name}\u0000${reason}`, `remote_write ${name}: ${detail} (counted in edge_remote_write_samples_dropped_total{reason="${reason}"}; said once)`);
      },
      repaired: (detail) => logger.warn(`remote_write ${name}: ${detail}`),
    });
    metrics.add(name, queue);
    return new Sender(settings, queue, metrics, logger);
  }

  /** Queues one cycle (an encoded, compressed `WriteRequest` of `samples` series); never waits. */
  append(payload: Buffer, samples: number, timestampMs: number): void {
    this.queue.append(payload, samples, timestampMs);
    this.metrics.recordAppended(this.settings.name, samples);
  }

  /** Stops sending (a request in flight is abandoned and sent again next time) and writes what is buffered. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.inFlight?.destroy(new Error('stopping'));
    this.wakeUp?.();
    await this.loop;
    await this.queue.close();
    this.agent.destroy();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const oldest = this.queue.oldestPendingTimestamp;
        const waitMs = this.untilDue(oldest, Date.now());
        if (waitMs > 0) {
          this.wakeOnAppend = oldest === undefined ? 'first' : 'full';
          await this.sleep(waitMs);
          this.wakeOnAppend = 'none';
          continue;
        }
        const batch = await this.queue.readBatch(this.settings.maxSamplesPerSend);
        if (batch.samples > 0) await this.deliver(batch);
        else if (batch.consumed.size > 0) await this.queue.commit(batch);
        // Counted but not on disk yet: the writer is behind.
        else await this.sleep(100);
      } catch (error) {
        // The queue's disk failed under the reader: said once, tried again after a pause.
        this.logger.warnOnce(`remote_write\u0000${this.settings.name}\u0000read`, `remote_write ${this.settings.name}: cannot read the queue in ${this.settings.queueDir}: ${describeError(error)}`);
        await this.sleep(MAX_BACKOFF_MS);
      }
    }
  }

  /**
   * Milliseconds until a batch is due: 0 when one is full or its oldest sample (collected at `oldest`) has waited
   * long enough.
   */
  private untilDue(oldest: number | undefined, now: number): number {
    if (this.queue.pendingSamples >= this.settings.maxSamplesPerSend) return 0;
    if (oldest === undefined) return this.settings.batchSendDeadlineMs;
    return Math.max(0, oldest + this.settings.batchSendDeadlineMs - now);
  }

  private async deliver(batch: Batch): Promise<void> {
    const { name } = this.settings;
    const body = requestBody(batch.payloads);
    for (let attempt = 0; !this.stopped; attempt++) {
      let problem: string;
      let retryAfterMs: number | undefined;
      try {
        const answer = await this.post(body);
        if (answer.status >= 200 && answer.status < 300) {
          await this.queue.commit(batch);
          this.metrics.recordSent(name, batch.samples, Date.now());
          if (this.failing !== undefined) this.logger.info(`remote_write ${name}: sending again (after: ${this.failing})`);
          this.failing = undefined;
          return;
        }
        if (answer.status !== 429 && answer.status < 500) {
          await this.queue.commit(batch);
          this.metrics.recordDropped(name, 'rejected', batch.samples);
          this.logger.warnOnce(
            `remote_write\u0000${name}\u0000${answer.status}`,
            `remote_write ${name}: the receiver refused ${batch.samples} samples with HTTP ${answer.status} (${answer.text || 'no text'}): dropped, not retried; further refusals are counted in edge_remote_write_samples_dropped_total{reason="rejected"}`,
          );
          return;
        }
        problem = `HTTP ${answer.status} (${answer.text || 'no text'})`;
        retryAfterMs = answer.retryAfterMs;
      } catch (error) {
        if (this.stopped) return;
        problem = describeError(error);
      }
      this.metrics.recordRetried(name, batch.samples);
      if (this.failing === undefined) this.logger.warn(`remote_write ${name}: ${problem}; retrying with backoff, the samples wait on disk`);
      this.failing = problem;
      await this.sleep(backoffMs(attempt, retryAfterMs));
    }
  }

  private post(body: Buffer): Promise<Answer> {
    const { url, headers, timeoutMs } = this.settings;
    const requestHeaders: OutgoingHttpHeaders = {
      ...headers,
      'Content-Type': 'application/x-protobuf',
      'Content-Encoding': 'snappy',
      'X-Prometheus-Remote-Write-Version': '0.1.0',
      'User-Agent': 'edge-metrics-exporter',
      'Content-Length': body.length,
    };
    const auth = authorization(this.settings);
    if (auth !== undefined) requestHeaders.Authorization = auth;
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Answer>((resolve, reject) => {
      const request = send(url, { method: 'POST', headers: requestHeaders, agent: this.agent }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < ANSWER_CHARS) text += chunk;
        });
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, text: text.slice(0, ANSWER_CHARS).trim(), ...retryAfter(response.headers['retry-after']) });
        });
        response.on('error', reject);
      });
      // The whole exchange, not only the connection: a receiver that accepts and never answers is bounded too.
      const timer = setTimeout(() => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s (timeout)`)), timeoutMs);
      request.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.on('close', () => (this.inFlight = undefined));
      this.inFlight = request;
      request.end(body);
    });
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = done;
    });
  }
}

/** Exponential from 0.5 s, capped at 30 s, with jitter (half of it random), so that a fleet does not retry in step. */
function backoffMs(attempt: number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** Math.min(attempt, 16));
  const jittered = ceiling / 2 + Math.random() * (ceiling / 2);
  return retryAfterMs === undefined ? jittered : Math.min(MAX_BACKOFF_MS, Math.max(jittered, retryAfterMs));
}

/** A 429's or 503's `Retry-After` in seconds (the date form is not used by receivers). */
function retryAfter(header: string | undefined): { retryAfterMs?: number } {
  const seconds = Number(header);
  return header !== undefined && Number.isFinite(seconds) && seconds >= 0 ? { retryAfterMs: seconds * 1000 } : {};
}
