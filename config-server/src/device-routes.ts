import express, { type Express, type Request, type Response } from 'express';
import type { AppContext } from './app';
import { statusReportProblems, type StatusReport } from './bodies';
import { HttpError } from './errors';
import { clientAddress, JSON_TYPES, methodNotAllowed, requestBody, requireAdmin } from './requests';
import type { DeviceSummary } from './store';

/** A Prometheus HTTP SD target group. */
interface TargetGroup {
  targets: string[];
  labels: Record<string, string>;
}

/** GET /devices, GET /devices/{device_id}, POST /devices/{device_id}/status, GET /sd. */
export function registerDeviceRoutes(app: Express, context: AppContext): void {
  const { store, logger } = context;
  const readJson = express.text({ type: JSON_TYPES, limit: context.bodyLimitBytes });

  /** A summary with `online`: seen within the last `offlineAfterSeconds`. */
  const withOnline = (device: DeviceSummary, now = Date.now()): DeviceSummary & { online: boolean } => ({
    ...device,
    online: device.last_seen !== null && now - Date.parse(device.last_seen) <= context.offlineAfterSeconds * 1000,
  });

  app.get('/devices', requireAdmin, async (_req: Request, res: Response) => {
    const now = Date.now();
    res.json({ devices: (await store.devices()).map((device) => withOnline(device, now)) });
  });

  app.get('/devices/:deviceId', async (req: Request, res: Response) => {
    const deviceId = String(req.params.deviceId);
    const device = await store.device(deviceId);
    if (!device) throw new HttpError(404, `no config for device ${deviceId}`);
    res.json(withOnline(device));
  });

  app
    .route('/devices/:deviceId/status')
    .post(readJson, async (req: Request, res: Response) => {
      const deviceId = String(req.params.deviceId);
      const report = requestBody(req, ['json']);
      const problems = statusReportProblems(report);
      if (problems.length > 0) throw new HttpError(400, `the status report of ${deviceId} is invalid`, { problems });
      const { version, status, error } = report as StatusReport;
      const outcome = await store.recordReport(deviceId, report as StatusReport, clientAddress(req));
      if (outcome === 'unknown-device') {
        throw new HttpError(404, `no config for device ${deviceId}; PUT /config/${deviceId} registers it`);
      }
      if (outcome === 'unknown-version') {
        throw new HttpError(409, `device ${deviceId} has no version ${version}`, {
          current_version: (await store.current(deviceId))?.version ?? null,
        });
      }
      if (status === 'failed') logger.warn(`${deviceId}: failed to apply version ${version}: ${error === undefined ? 'no reason given' : error}`);
      if (status === 'applied') logger.info(`${deviceId}: applied version ${version}`);
      res.json(withOnline(outcome));
    })
    .all(methodNotAllowed('POST'));

  app.get('/sd', requireAdmin, async (_req: Request, res: Response) => {
    res.json((await store.devices()).flatMap(targetGroup));
  });
}

/** The device's target group, or none until it has reported its metrics port. */
function targetGroup(device: DeviceSummary): TargetGroup[] {
  if (device.target === null) return [];
  const labels: Record<string, string> = { device_id: device.device_id };
  if (device.device_type !== null) labels.device_type = device.device_type;
  return [{ targets: [device.target], labels }];
}
