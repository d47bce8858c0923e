import express, { type Express, type Request, type Response } from 'express';
import { stringify as stringifyYaml } from 'yaml';
import type { AppContext } from './app';
import { HISTORY_DEFAULT, HISTORY_MAX } from './config-routes';
import { HttpError } from './errors';
import { etagFor, ifMatchHolds, noneMatchHits } from './etag';
import {
  deviceLayerProblems,
  fleetBodyProblems,
  GROUP_NAME_PATTERN,
  groupBodyProblems,
  tagsProblems,
  type ParsedLayerChange,
} from './layer-bodies';
import { dryRunParam, preview } from './dry-run';
import { isPlainObject } from './layers';
import { clientAddress, JSON_TYPES, limitParam, methodNotAllowed, requestBody, requestSource, requireAdmin, YAML_TYPES } from './requests';
import type { LayerKey, LayerVersion, RolloutState } from './store-api';

const ROLLOUT_STATES: ReadonlyArray<RolloutState['state']> = ['running', 'halted', 'completed', 'aborted', 'rolled_back'];
const ROLLOUTS_DEFAULT = 100;
const ROLLOUTS_MAX = 1000;

/**
 * A layer as JSON, or with `Accept: application/yaml` (or another YAML type) as the YAML text of `editable`: what a
 * `PUT` of the layer takes, so that a client without a YAML library can edit the text and send it back.
 */
function sendLayer(req: Request, res: Response, json: unknown, editable: unknown): void {
  const type = req.accepts(['application/json', ...YAML_TYPES]);
  res.vary('Accept');
  if (type && type !== 'application/json') res.type(type).send(stringifyYaml(editable));
  else res.json(json);
}

/**
 * The layers: GET/PUT /fleet, GET/PUT/DELETE /groups/{name}, GET /groups, GET /groups/{name}/devices, the device's
 * own layer at /config/{id}/layer, each with /history and /rollback; PUT /devices/{id}/tags;
 * GET /config/{id}/effective; GET /rollouts, GET /rollouts/{id} and POST /rollouts/{id}/resume|abort|rollback.
 */
export function registerLayerRoutes(app: Express, context: AppContext): void {
  const { store, logger, rollouts } = context;
  const readBody = express.text({ type: [...JSON_TYPES, ...YAML_TYPES], limit: context.bodyLimitBytes });

  /** Stores (or previews with ?dry_run=true) a layer change and answers it; a rollout answers 202. */
  const writeLayer = async (req: Request, res: Response, layer: LayerKey, parsed: ParsedLayerChange | null, note?: string): Promise<void> => {
    const dryRun = dryRunParam(req);
    const change = { source: requestSource(req, res), address: clientAddress(req) };
    const result = await store.changeLayer(layer, parsed?.body ?? null, change, {
      precondition: (current) => checkLayerPreconditions(req, layer, current),
      dryRun,
      ...(parsed?.rollout ? { rollout: parsed.rollout } : {}),
      ...(note ? { note } : {}),
    });
    if (dryRun) {
      res.json(preview(result));
      return;
    }
    res.set('ETag', etagFor(result.version));
    const answer = {
      layer,
      version: result.version,
      changed: result.changed,
      devices: result.affected.map((device) => device.device_id),
      warnings: result.warnings,
    };
    if (!result.changed) {
      res.json(answer);
      return;
    }
    if (result.rollout) {
      rollouts.schedule(result.rollout.id, Date.parse(result.rollout.next_step_at!));
      logger.info(`${layer}: stored version ${result.version} as rollout ${result.rollout.id} to ${result.affected.length} device(s) in steps ${result.rollout.steps.join(', ')} %`);
      res.status(202).location(`/rollouts/${result.rollout.id}`).json({ ...answer, rollout: result.rollout });
      return;
    }
    logger.info(`${layer}: stored version ${result.version}${note ? ` (${note})` : ''}; ${result.affected.length} device(s) get a new effective config`);
    res.json(answer);
  };

  /** GET of a layer's current version, history and rollback, for a layer named by `layerOf`. */
  const layerRoutes = (path: string, layerOf: (req: Request) => Promise<LayerKey>, show: (stored: LayerVersion) => unknown, ...guards: Array<(req: Request, res: Response, next: () => void) => void>): void => {
    app
      .route(`${path}/history`)
      .get(...guards, async (req: Request, res: Response) => {
        const layer = await layerOf(req);
        const versions = await store.layerHistory(layer, limitParam(req, HISTORY_DEFAULT, HISTORY_MAX));
        if (versions.length === 0) throw new HttpError(404, `${layer} has no versions`);
        res.json({ layer, versions: versions.map((stored) => ({ ...stored, body: undefined, ...(stored.body ? { content: show(stored) } : { deleted: true }) })) });
      })
      .all(methodNotAllowed('GET, HEAD'));
    app
      .route(`${path}/rollback`)
      .post(...guards, express.text({ type: JSON_TYPES }), async (req: Request, res: Response) => {
        const layer = await layerOf(req);
        const body = requestBody(req, ['json']);
        const wanted = isPlainObject(body) ? body.version : undefined;
        if (!isPlainObject(body) || Object.keys(body).some((key) => key !== 'version') || !Number.isInteger(wanted) || (wanted as number) < 1) {
          throw new HttpError(400, 'the body must be {"version": N}: the version of the layer to make current again');
        }
        const old = await store.layerVersion(layer, wanted as number);
        if (!old) throw new HttpError(404, `${layer} has no version ${String(wanted)}`);
        await writeLayer(req, res, layer, old.body && { body: old.body }, `rollback to version ${old.version}`);
      })
      .all(methodNotAllowed('POST'));
  };

  // The fleet layer.
  app
    .route('/fleet')
    .get(requireAdmin, async (req: Request, res: Response) => {
      const stored = await store.layer('fleet');
      if (stored) res.set('ETag', etagFor(stored.version));
      const config = stored?.body?.config ?? {};
      sendLayer(req, res, { version: stored?.version ?? 0, config, updated_at: stored?.created_at ?? null }, config);
    })
    .put(requireAdmin, readBody, async (req: Request, res: Response) => {
      const { problems, parsed } = fleetBodyProblems(requestBody(req, ['json', 'yaml']));
      if (!parsed) throw new HttpError(400, 'the fleet layer is invalid; nothing was stored', { problems });
      await writeLayer(req, res, 'fleet', parsed);
    })
    .all(methodNotAllowed('GET, HEAD, PUT'));
  layerRoutes('/fleet', async () => 'fleet', (stored) => stored.body!.config, requireAdmin);

  // Groups.
  app.get('/groups', requireAdmin, async (_req: Request, res: Response) => {
    res.json({ groups: await store.groups() });
  });
  app.use('/groups/:name', requireAdmin, (req: Request, _res: Response, next: () => void) => {
    groupLayer(req);
    next();
  });
  app
    .route('/groups/:name')
    .get(async (req: Request, res: Response) => {
      const layer = groupLayer(req);
      const stored = await store.layer(layer);
      if (!stored?.body) throw new HttpError(404, `no group ${String(req.params.name)}`);
      res.set('ETag', etagFor(stored.version));
      const { selector = {}, priority = 0, config } = stored.body;
      sendLayer(req, res, { name: String(req.params.name), version: stored.version, ...stored.body, updated_at: stored.created_at }, { selector, priority, config });
    })
    .put(readBody, async (req: Request, res: Response) => {
      const { problems, parsed } = groupBodyProblems(requestBody(req, ['json', 'yaml']));
      if (!parsed) throw new HttpError(400, `the group ${String(req.params.name)} is invalid; nothing was stored`, { problems });
      await writeLayer(req, res, groupLayer(req), parsed);
    })
    .delete(async (req: Request, res: Response) => {
      const layer = groupLayer(req);
      if (!(await store.layer(layer))?.body) throw new HttpError(404, `no group ${String(req.params.name)}`);
      await writeLayer(req, res, layer, null);
    })
    .all(methodNotAllowed('GET, HEAD, PUT, DELETE'));
  app
    .route('/groups/:name/devices')
    .get(async (req: Request, res: Response) => {
      const devices = await store.groupDevices(String(req.params.name));
      if (!devices) throw new HttpError(404, `no group ${String(req.params.name)}`);
      res.json({ group: String(req.params.name), devices });
    })
    .all(methodNotAllowed('GET, HEAD'));
  layerRoutes('/groups/:name', async (req) => groupLayer(req), (stored) => stored.body);

  // A device's own layer, written directly: only the keys it overrides.
  const registeredDevice = async (req: Request): Promise<LayerKey> => {
    const deviceId = String(req.params.deviceId);
    if (!(await store.current(deviceId))) throw new HttpError(404, `no config for device ${deviceId}; PUT /config/${deviceId} creates it`);
    return `device:${deviceId}`;
  };
  app
    .route('/config/:deviceId/layer')
    .get(async (req: Request, res: Response) => {
      const stored = await store.layer(await registeredDevice(req));
      res.set('ETag', etagFor(stored?.version ?? 0));
      const config = stored?.body?.config ?? {};
      sendLayer(req, res, { device_id: String(req.params.deviceId), version: stored?.version ?? 0, config, discovered: stored?.body?.discovered ?? {} }, config);
    })
    .put(readBody, async (req: Request, res: Response) => {
      const layer = await registeredDevice(req);
      const body = requestBody(req, ['json', 'yaml']);
      const problems = deviceLayerProblems(body, String(req.params.deviceId));
      if (problems.length > 0) throw new HttpError(400, `the layer of ${String(req.params.deviceId)} is invalid; nothing was stored`, { problems });
      // What the device discovered stays as it is: this route writes the keys the device overrides.
      const discovered = (await store.layer(layer))?.body?.discovered;
      await writeLayer(req, res, layer, { body: { config: body as Record<string, unknown>, ...(discovered ? { discovered } : {}) } });
    })
    .all(methodNotAllowed('GET, HEAD, PUT'));
  layerRoutes('/config/:deviceId/layer', registeredDevice, (stored) => stored.body!.config);

  app
    .route('/config/:deviceId/effective')
    .get(async (req: Request, res: Response) => {
      const effective = await store.effective(String(req.params.deviceId));
      if (!effective) throw new HttpError(404, `no config for device ${String(req.params.deviceId)}`);
      res.set('ETag', etagFor(effective.version));
      res.json(effective);
    })
    .all(methodNotAllowed('GET, HEAD'));

  // Tags, set by operators; groups select by them.
  app
    .route('/devices/:deviceId/tags')
    .get(async (req: Request, res: Response) => {
      const tags = await store.tags(String(req.params.deviceId));
      if (!tags) throw new HttpError(404, `no config for device ${String(req.params.deviceId)}`);
      res.json({ device_id: String(req.params.deviceId), tags });
    })
    .put(requireAdmin, express.text({ type: JSON_TYPES, limit: context.bodyLimitBytes }), async (req: Request, res: Response) => {
      const deviceId = String(req.params.deviceId);
      const { problems, tags } = tagsProblems(requestBody(req, ['json']));
      if (!tags) throw new HttpError(400, `the tags of ${deviceId} are invalid; nothing was stored`, { problems });
      const stored = await store.setTags(deviceId, tags, { source: 'admin', address: clientAddress(req) });
      if (!stored) throw new HttpError(404, `no config for device ${deviceId}; PUT /config/${deviceId} registers it`);
      res.json({ device_id: deviceId, tags: stored });
    })
    .all(methodNotAllowed('GET, HEAD, PUT'));

  // Rollouts.
  const rolloutId = (req: Request): number => {
    const id = Number(req.params.id);
    if (!Number.isSafeInteger(id) || id < 1) throw new HttpError(400, `a rollout id is a positive integer, not ${JSON.stringify(req.params.id)}`);
    return id;
  };
  app
    .route('/rollouts')
    .get(requireAdmin, async (req: Request, res: Response) => {
      const { state } = req.query;
      if (state !== undefined && !ROLLOUT_STATES.includes(state as RolloutState['state'])) {
        throw new HttpError(400, `state must be one of ${ROLLOUT_STATES.join(', ')}, not ${JSON.stringify(state)}`);
      }
      const limit = limitParam(req, ROLLOUTS_DEFAULT, ROLLOUTS_MAX);
      res.json({ rollouts: await store.rollouts({ ...(state === undefined ? {} : { state: state as RolloutState['state'] }), limit }) });
    })
    .all(methodNotAllowed('GET, HEAD'));
  app
    .route('/rollouts/:id')
    .get(requireAdmin, async (req: Request, res: Response) => {
      const rollout = await store.rollout(rolloutId(req));
      if (!rollout) throw new HttpError(404, `no rollout ${rolloutId(req)}`);
      res.json(rollout);
    })
    .all(methodNotAllowed('GET, HEAD'));
  app
    .route('/rollouts/:id/:action')
    .post(requireAdmin, async (req: Request, res: Response) => {
      const action = String(req.params.action);
      if (action !== 'resume' && action !== 'abort' && action !== 'rollback') {
        throw new HttpError(404, `no route POST ${req.path}: a rollout takes resume, abort or rollback`);
      }
      const rollout = await store.rolloutAction(rolloutId(req), action, { source: 'admin', address: clientAddress(req) });
      if (rollout.state === 'running' && rollout.next_step_at) rollouts.schedule(rollout.id, Date.parse(rollout.next_step_at));
      logger.info(`rollout ${rollout.id} of ${rollout.layer}: ${action} by ${clientAddress(req)}, now ${rollout.state}`);
      res.json(rollout);
    })
    .all(methodNotAllowed('POST'));
}

/** The layer key of a group path; 400 for a malformed name. */
function groupLayer(req: Request): LayerKey {
  const name = String(req.params.name);
  if (!GROUP_NAME_PATTERN.test(name)) {
    throw new HttpError(400, `group name ${JSON.stringify(name.slice(0, 80))} is not valid: use 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  return `group:${name}`;
}


/** If-Match on the layer's version, If-None-Match: * to create only; 412 when they fail. */
function checkLayerPreconditions(req: Request, layer: LayerKey, current: number | undefined): void {
  const ifMatch = req.get('If-Match');
  if (ifMatch !== undefined && !ifMatchHolds(ifMatch, current)) {
    throw new HttpError(412, `${layer} is at version ${current ?? 'none'}, not If-Match ${ifMatch}: fetch it again and retry`, { current_version: current ?? null });
  }
  const ifNoneMatch = req.get('If-None-Match');
  if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, current)) {
    throw new HttpError(412, `${layer} already has version ${current} (If-None-Match ${ifNoneMatch})`, { current_version: current });
  }
}
