import type { Request } from 'express';
import { HttpError } from './errors';
import type { LayerWriteResult } from './store-api';

/** `?dry_run=true|false`; 400 for anything else. */
export function dryRunParam(req: Request): boolean {
  const raw = req.query.dry_run;
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1' || raw === '') return true;
  throw new HttpError(400, `dry_run must be true or false, not ${JSON.stringify(raw)}`);
}

/** The answer to a dry run: every affected device, whether it stays valid, and what the server cannot check. */
export function preview(result: LayerWriteResult): Record<string, unknown> {
  return {
    dry_run: true,
    layer: result.layer,
    version: result.version,
    changed: result.changed,
    valid: result.affected.every((device) => device.valid),
    invalid_devices: result.affected.filter((device) => !device.valid).map((device) => device.device_id),
    devices: result.affected,
    warnings: result.warnings,
  };
}
