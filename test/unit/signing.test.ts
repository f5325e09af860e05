import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { subgraphTimeoutMs } from '@civic/common/config';
import { maskInternalErrors } from '@civic/common/errors';
import {
  SIGNATURE_HEADER,
  secretFor,
  secretVariable,
  sign,
  signedHeaders,
  verify,
} from '@civic/common/signing';
import { loadConfig } from '@civic/subgraphs/catalog';

/** The signature of calls to subgraphs (common/src/signing.ts), at fixed times. */

const SECRET = 'whsec-test-0123456789abcdef';
const BODY = '{"query":"{ organization(id: \\"tn-municipality-34012\\") { name } }"}';
const T = 1_700_000_000;

describe('sign', () => {
  test('is t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const expected = createHmac('sha256', SECRET).update(`${T}.${BODY}`).digest('hex');
    expect(sign(SECRET, BODY, T)).toBe(`t=${T},v1=${expected}`);
  });

  test('signs the bytes: a string as UTF-8, the same as its Buffer (Arabic text included)', () => {
    const body = '{"query":"{ search(text: \\"بلدية\\") }"}';
    expect(sign(SECRET, body, T)).toBe(sign(SECRET, Buffer.from(body, 'utf8'), T));
  });
});

test("docs/partners.md's worked example is what the gateway sends, and what it verifies", () => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'partners.md'), 'utf8');
  const line = /printf '%s' '(\d+)\.(.*)' \| openssl dgst -sha256 -hmac (\S+) -hex/.exec(doc);
  const header = /x-civic-signature: (t=\d+,v1=[0-9a-f]{64})/.exec(doc);
  expect(line).not.toBeNull();
  expect(header).not.toBeNull();
  const [, t, body, secret] = line!;
  expect(sign(secret, body, Number(t))).toBe(header![1]);
  expect(doc).toContain(`SHA2-256(stdin)= ${header![1].split('v1=')[1]}`);
  expect(verify(secret, header![1], body, Number(t))).toEqual({ ok: true });
});

describe('verify', () => {
  const header = sign(SECRET, BODY, T);

  test('accepts its own signature, within 300 s either way', () => {
    expect(verify(SECRET, header, BODY, T)).toEqual({ ok: true });
    expect(verify(SECRET, header, Buffer.from(BODY), T + 300)).toEqual({ ok: true });
    expect(verify(SECRET, header, BODY, T - 300)).toEqual({ ok: true });
  });

  test.each([
    ['no header', undefined, 'missing', /^Missing x-civic-signature header/],
    ['an empty header', '  ', 'missing', /^Missing/],
    ['no timestamp', `v1=${'a'.repeat(64)}`, 'malformed', /^Malformed x-civic-signature header: expected t=/],
    ['no signature', `t=${T}`, 'malformed', /^Malformed/],
    ['a short signature', `t=${T},v1=abc`, 'malformed', /^Malformed/],
    ['a timestamp that is not a number', `t=soon,v1=${'a'.repeat(64)}`, 'malformed', /^Malformed/],
    ['two timestamps', `t=${T},${header}`, 'malformed', /^Malformed/],
    ['a part without =', `${header},junk`, 'malformed', /^Malformed/],
  ])('refuses %s', (_what, value, reason, message) => {
    expect(verify(SECRET, value, BODY, T)).toEqual({
      ok: false,
      reason,
      message: expect.stringMatching(message),
    });
  });

  test('refuses another secret, another body, another timestamp', () => {
    const wrong = { ok: false, reason: 'wrong', message: expect.stringMatching(/^Wrong x-civic-signature/) };
    expect(verify('another-secret-0123456789', header, BODY, T)).toEqual(wrong);
    expect(verify(SECRET, header, `${BODY} `, T)).toEqual(wrong);
    expect(verify(SECRET, header.replace(`t=${T}`, `t=${T + 1}`), BODY, T)).toEqual(wrong);
  });

  test('refuses a signature older than 300 s, or more than 300 s in the future', () => {
    expect(verify(SECRET, header, BODY, T + 301)).toEqual({
      ok: false,
      reason: 'expired',
      message: 'Expired x-civic-signature: signed 301 s ago, more than the 300 s allowed',
    });
    expect(verify(SECRET, header, BODY, T - 301)).toMatchObject({
      reason: 'expired',
      message: expect.stringContaining('301 s in the future'),
    });
    expect(verify(SECRET, header, BODY, T + 10, 5)).toMatchObject({ reason: 'expired' });
  });

  test('says "wrong", not "expired", for an old signature made without the secret', () => {
    expect(verify(SECRET, sign('another-secret-0123456789', BODY, T), BODY, T + 1000)).toMatchObject({
      reason: 'wrong',
    });
  });

  test('accepts any of several v1 values (a signer rotating its secret), and ignores unknown parts', () => {
    const other = sign('old-secret-0123456789abc', BODY, T).split(',')[1];
    expect(verify(SECRET, `${header},${other}`, BODY, T)).toEqual({ ok: true });
    expect(verify(SECRET, `t=${T},${other},${header.split(',')[1]},v2=xyz`, BODY, T)).toEqual({ ok: true });
  });
});

describe('secrets', () => {
  test('come from SUBGRAPH_SECRET_<NAME>, upper case, - as _', () => {
    expect(secretVariable('city-indicators')).toBe('SUBGRAPH_SECRET_CITY_INDICATORS');
    expect(secretFor('city-indicators', { SUBGRAPH_SECRET_CITY_INDICATORS: SECRET })).toBe(SECRET);
    expect(secretFor('budgets', { SUBGRAPH_SECRET_BUDGETS: '' })).toBeNull();
    expect(secretFor('budgets', {})).toBeNull();
  });

  test('signedHeaders: the header when the subgraph has a secret, none otherwise', () => {
    const env = { SUBGRAPH_SECRET_PROCUREMENT: SECRET };
    expect(signedHeaders('procurement', BODY, env, T)).toEqual({ [SIGNATURE_HEADER]: sign(SECRET, BODY, T) });
    expect(signedHeaders('budgets', BODY, env, T)).toEqual({});
  });

  test("are read into the config for the project's subgraphs, and refused when short", () => {
    const c = loadConfig({ SUBGRAPH_SECRET_BUDGETS: SECRET, SUBGRAPH_SECRET_ORGANIZATIONS: '' });
    expect(c.subgraphSecrets).toEqual({ organizations: null, commitments: null, budgets: SECRET });
    expect(() => loadConfig({ SUBGRAPH_SECRET_BUDGETS: 'short' })).toThrow(
      /SUBGRAPH_SECRET_BUDGETS: must be at least 16 characters/,
    );
  });
});

describe('SUBGRAPH_TIMEOUT_MS', () => {
  test('defaults to 5000 and is validated by name', () => {
    expect(loadConfig({}).subgraphTimeoutMs).toBe(5000);
    expect(subgraphTimeoutMs({})).toBe(5000);
    expect(subgraphTimeoutMs({ SUBGRAPH_TIMEOUT_MS: '250' })).toBe(250);
    expect(() => subgraphTimeoutMs({ SUBGRAPH_TIMEOUT_MS: 'soon' })).toThrow(/SUBGRAPH_TIMEOUT_MS/);
    expect(() => loadConfig({ SUBGRAPH_TIMEOUT_MS: '0' })).toThrow(/SUBGRAPH_TIMEOUT_MS/);
  });
});

describe('maskInternalErrors', () => {
  const mask = maskInternalErrors(() => undefined);

  test("passes the gateway's subgraph errors through, and keeps the subgraph's name on a masked one", () => {
    const timeout = {
      message: 'Subgraph "partner" did not answer within 5000 ms',
      extensions: { code: 'SUBGRAPH_TIMEOUT', serviceName: 'partner' },
    };
    expect(mask(timeout, null)).toEqual(timeout);
    expect(
      mask(
        { message: 'connect ECONNREFUSED 10.0.0.7:4003', extensions: { code: 'X', serviceName: 'budgets' } },
        null,
      ),
    ).toEqual({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR', serviceName: 'budgets' },
    });
  });
});
