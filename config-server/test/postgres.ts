import { startThrowawayPostgres, type ThrowawayPostgres } from '../scripts/throwaway-postgres';

let cluster: Promise<ThrowawayPostgres> | undefined;

/** The throwaway PostgreSQL cluster of this test file, started at first use and stopped after its last test. */
export function testPostgres(): Promise<ThrowawayPostgres> {
  cluster ??= startThrowawayPostgres();
  return cluster;
}

afterAll(async () => {
  await cluster?.then((started) => started.stop(), () => undefined);
});
