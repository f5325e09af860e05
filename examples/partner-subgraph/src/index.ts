import { startPartnerSubgraph } from './server';

/**
 * Runs the partner subgraph from the environment: PORT (default 4010), HOST (default 0.0.0.0) and
 * PARTNER_SECRET (the secret the Civic Graph operators gave you; without it requests are not checked).
 */
async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? 4010);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT must be a port number (0 to 65535); got "${process.env.PORT}"`);
  }
  const secret = process.env.PARTNER_SECRET || undefined;
  const subgraph = await startPartnerSubgraph({ port, host: process.env.HOST || '0.0.0.0', secret });
  console.log(`city indicators partner subgraph at ${subgraph.url}`);
  if (!secret) console.warn('PARTNER_SECRET is not set: requests are not signature-checked');
  const shutdown = (): void => {
    subgraph.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
