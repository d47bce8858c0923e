import { configProblems } from '@edge-metrics/core/plugin';
import express, { type Express, type Request, type Response } from 'express';
import { stringify as stringifyYaml } from 'yaml';
import type { AppContext } from './app';
import { HttpError } from './errors';
import { etagFor, ifMatchHolds, noneMatchHits } from './etag';
import { dryRunParam, preview } from './dry-run';
import {
  clientAddress,
  JSON_TYPES,
  limitParam,
  methodNotAllowed,
  requestBody,
  requestSource,
  signalOnClose,
  waitSeconds,
  YAML_TYPES,
} from './requests';

export const CONFIG_TYPES = ['application/json', 'application/yaml', 'text/yaml', 'application/x-yaml'];
export const HISTORY_DEFAULT = 100;
export const HISTORY_MAX = 1000;

/** GET and PUT /config/{device_id}, GET /config/{device_id}/history. */
export function registerConfigRoutes(app: Express, context: AppContext): void {
  const { store, notifier, logger } = context;
  const readBody = express.text({ type: [...JSON_TYPES, ...YAML_TYPES], limit: context.bodyLimitBytes });

  app
    .route('/config/:deviceId')
    .get(async (req: Request, res: Response) => {
      const deviceId = String(req.params.deviceId);
      const type = req.accepts(CONFIG_TYPES);
      if (!type) throw new HttpError(406, `a config is served as ${CONFIG_TYPES.join(', ')}`);
      const wait = waitSeconds(req, context.maxWaitSeconds);
      const ifNoneMatch = req.get('If-None-Match');
      let generation = notifier.generation(deviceId);
      let current = await store.current(deviceId);
      if (!current) throw new HttpError(404, `no config for device ${deviceId}; PUT /config/${deviceId} creates it`);
      const asDevice = requestSource(req, res) === 'device';
      if (asDevice) await store.recordSeen(deviceId, clientAddress(req));
      // Hold the request only while the client already has the current version: otherwise it needs it now. A wake-up
      // that finds no new version (a re-check after another replica's notices were missed) keeps holding it.
      const deadline = Date.now() + wait * 1000;
      let held = false;
      while (wait > 0 && ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, current.version) && Date.now() < deadline) {
        const reason = await notifier.wait(deviceId, deadline - Date.now(), signalOnClose(res), generation);
        if (reason === 'aborted') return;
        held = true;
        generation = notifier.generation(deviceId);
        current = (await store.current(deviceId)) ?? current;
        if (reason === 'closing') res.set('Connection', 'close');
        if (reason !== 'changed') break;
      }
      // A device holding a long-poll is there all along: seen again when it ends, so that a 55 s poll keeps it online.
      if (held && asDevice) await store.recordSeen(deviceId, clientAddress(req));
      // When this version was stored: a device merging offline changes lets the later change of a key win.
      res.set({ ETag: etagFor(current.version), 'X-Config-Updated-At': current.created_at, Vary: 'Accept', 'Cache-Control': 'no-cache' });
      if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, current.version)) {
        res.status(304).end();
      } else if (type === 'application/json') {
        res.json(current.config);
      } else {
        res.type(type).send(stringifyYaml(current.config));
      }
    })
    .put(readBody, async (req: Request, res: Response) => {
      const deviceId = String(req.params.deviceId);
      const config = requestBody(req, ['json', 'yaml']);
      const problems = configProblems(config);
      const claimedId = (config as { device_id?: unknown } | null)?.device_id;
      if (typeof claimedId === 'string' && claimedId !== deviceId) {
        problems.push(`device_id: ${JSON.stringify(claimedId)} is not the device in the URL (${deviceId})`);
      }
      if (problems.length > 0) {
        logger.warn(`${deviceId}: refused an invalid config from ${clientAddress(req)}: ${problems.join('; ')}`);
        throw new HttpError(400, `the config for ${deviceId} is invalid; nothing was stored`, { problems });
      }
      const source = requestSource(req, res);
      const address = clientAddress(req);
      const dryRun = dryRunParam(req);
      const { version, outcome, preview: dryRunResult } = await store.writeDeviceConfig(
        deviceId,
        config as Record<string, unknown>,
        { source, address },
        (currentVersion) => checkPreconditions(req, deviceId, currentVersion),
        dryRun,
      );
      if (dryRunResult) {
        res.json(preview(dryRunResult));
        return;
      }
      if (outcome !== 'unchanged') {
        logger.info(`${deviceId}: stored version ${version} (source ${source}, from ${address})`);
      }
      res.set('ETag', etagFor(version));
      if (outcome === 'created') res.status(201).location(`/config/${deviceId}`);
      res.json({ device_id: deviceId, version, changed: outcome !== 'unchanged' });
    })
    .all(methodNotAllowed('GET, HEAD, PUT'));

  app
    .route('/config/:deviceId/history')
    .get(async (req: Request, res: Response) => {
      const deviceId = String(req.params.deviceId);
      const limit = limitParam(req, HISTORY_DEFAULT, HISTORY_MAX);
      const versions = await store.history(deviceId, limit);
      if (versions.length === 0) throw new HttpError(404, `no config for device ${deviceId}`);
      res.json({ device_id: deviceId, versions });
    })
    .all(methodNotAllowed('GET, HEAD'));
}

/** If-Match (the version the client based its change on) and If-None-Match: * (create only); 412 when they fail. */
function checkPreconditions(req: Request, deviceId: string, currentVersion: number | undefined): void {
  const ifMatch = req.get('If-Match');
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, currentVersion)) {
    const where = currentVersion === undefined ? 'has no config yet' : `is at version ${currentVersion}`;
    throw new HttpError(412, `${deviceId} ${where}, not If-Match ${ifMatch}: fetch the config again and retry`, {
      current_version: currentVersion ?? null,
    });
  }
  const ifNoneMatch = req.get('If-None-Match');
  if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, currentVersion)) {
    throw new HttpError(412, `${deviceId} already has version ${currentVersion} (If-None-Match ${ifNoneMatch})`, {
      current_version: currentVersion,
    });
  }
}
