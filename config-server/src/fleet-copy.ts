import { existsSync } from 'node:fs';
import { ConfigServerError } from './errors';
import { isPostgresUrl, PostgresDatabase } from './postgres-db';
import type { SqlDatabase, SqlValue } from './sql';
import { SqliteDatabase } from './sqlite-db';

/** Every table with its columns and key, parents before children; every row is copied as it is. */
export const FLEET_TABLES: ReadonlyArray<{ table: string; columns: readonly string[]; key: string }> = [
  { table: 'devices', columns: ['device_id', 'created_at', 'last_seen_at', 'last_seen_address', 'device_type', 'target_address', 'metrics_port', 'reported_at', 'tags'], key: 'device_id' },
  { table: 'config_versions', columns: ['device_id', 'version', 'config', 'source', 'address', 'created_at', 'apply_status', 'apply_error', 'apply_reported_at', 'cause'], key: 'device_id, version' },
  { table: 'layers', columns: ['layer', 'current_version'], key: 'layer' },
  { table: 'layer_versions', columns: ['layer', 'version', 'body', 'source', 'address', 'created_at', 'note'], key: 'layer, version' },
  { table: 'layer_pins', columns: ['device_id', 'layer', 'version'], key: 'device_id, layer' },
  { table: 'rollouts', columns: ['id', 'layer', 'from_version', 'to_version', 'steps', 'wait_s', 'max_failed_percent', 'state', 'step', 'next_step_at', 'reason', 'created_at', 'updated_at'], key: 'id' },
  { table: 'rollout_devices', columns: ['rollout_id', 'device_id', 'position', 'step', 'version'], key: 'rollout_id, device_id' },
];

/** A database named as `--db` names it: a SQLite file or a `postgres://` URL. */
export function openDatabase(db: string): SqlDatabase {
  return isPostgresUrl(db) ? new PostgresDatabase(db) : new SqliteDatabase(db);
}

/** Every row of `table`, in key order. */
export function tableRows(db: SqlDatabase, { table, columns, key }: (typeof FLEET_TABLES)[number]): Promise<Array<Record<string, SqlValue>>> {
  return db.all(`SELECT ${columns.join(', ')} FROM ${table} ORDER BY ${key}`);
}

/**
 * Copies a whole fleet (every device, every version of every config and layer, statuses, tags, rollouts) from one
 * database to another, SQLite or PostgreSQL either way, in one transaction of the target. Both are brought to the
 * current schema first; a target that holds any device, layer or rollout is refused, so nothing is overwritten.
 * Answers how many rows each table got. Tokens are not in the database: they stay where the server reads them.
 * Console sessions are not copied: a move of the database is a stop of every server, after which signing in again is
 * what an operator expects, and a session stays tied to the database it was opened on.
 */
export async function copyFleet(from: string, to: string): Promise<Record<string, number>> {
  if (!isPostgresUrl(from) && !existsSync(from)) throw new ConfigServerError('ECS_DB_OPEN_FAILED', `there is no database file ${from} to copy from`);
  const source = openDatabase(from);
  let target: SqlDatabase | undefined;
  try {
    await source.open();
    target = openDatabase(to);
    await target.open();
    const into = target;
    return await into.transaction(async (sql) => {
      for (const table of ['devices', 'layers', 'rollouts']) {
        const { count } = (await sql.get<{ count: number }>(`SELECT COUNT(*) AS count FROM ${table}`))!;
        if (count > 0) {
          throw new ConfigServerError('ECS_DB_NOT_EMPTY', `the database ${into.name} already holds a fleet (${count} row(s) in ${table}): copy into an empty one`);
        }
      }
      const copied: Record<string, number> = {};
      for (const spec of FLEET_TABLES) {
        const rows = await tableRows(source, spec);
        const insert = `INSERT INTO ${spec.table} (${spec.columns.join(', ')}) VALUES (${spec.columns.map(() => '?').join(', ')})`;
        for (const row of rows) await sql.run(insert, spec.columns.map((column) => row[column]));
        copied[spec.table] = rows.length;
      }
      // PostgreSQL's rollout ids come from an identity column: new rollouts continue after the copied ones.
      if (into instanceof PostgresDatabase) {
        await sql.get("SELECT setval(pg_get_serial_sequence('rollouts', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM rollouts), false)");
      }
      return copied;
    });
  } finally {
    await source.close();
    await target?.close();
  }
}
