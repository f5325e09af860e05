import { serverAudits } from 'graphql-http';
import { startSystem, type System } from '../support/system';

/**
 * The GraphQL over HTTP audit of graphql-http, against the real gateway: every MUST and every SHOULD passes
 * (a failed SHOULD is a "warn", a failed MUST an "error"; the MAYs are only reported). Among the SHOULDs: a
 * client that asks for `application/json` gets 200 for a document that does not parse or validate, or whose
 * variables do not fit (common/src/service.ts, legacyJsonStatus).
 */
let system: System;

beforeAll(async () => {
  system = await startSystem('sqlite');
});

afterAll(async () => {
  await system?.stop();
});

it('passes every MUST and every SHOULD of the GraphQL over HTTP audit', async () => {
  const audits = serverAudits({ url: system.gatewayUrl });
  const results = await Promise.all(audits.map((a) => a.fn()));
  const must = results.filter((r) => r.name.startsWith('MUST'));
  const should = results.filter((r) => r.name.startsWith('SHOULD'));
  const failed = [...must, ...should].flatMap((r) => (r.status === 'ok' ? [] : [`${r.name}: ${r.reason}`]));
  expect(failed).toEqual([]);
  expect(must.length).toBeGreaterThanOrEqual(13);
  expect(should.length).toBeGreaterThanOrEqual(23);
  console.log(
    `graphql-http audit of the gateway: MUST ${must.length}/${must.length}, SHOULD ${should.length}/${should.length}`,
  );
});
