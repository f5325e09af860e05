import { SubgraphDataSource } from '@civic/gateway/server';

/** What the gateway passes on to a subgraph: the request id and the client's language, nothing else. */
describe('SubgraphDataSource', () => {
  const send = (context: Record<string, unknown>) => {
    const headers = new Headers({ 'content-type': 'application/json' });
    const ds = new SubgraphDataSource({ url: 'http://127.0.0.1:1/graphql' });
    ds.willSendRequest({ request: { http: { headers, method: 'POST', url: '' } }, context } as never);
    return Object.fromEntries(headers.entries());
  };

  test('forwards the request id and Accept-Language', () => {
    expect(send({ requestId: 'req-1', acceptLanguage: 'ar, fr;q=0.8' })).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      'accept-language': 'ar, fr;q=0.8',
    });
  });

  test('forwards no client header it was not asked to (no Authorization, no cookies)', () => {
    expect(send({ requestId: 'req-2', acceptLanguage: null, authorization: 'Bearer x' })).toEqual({
      'content-type': 'application/json',
      'x-request-id': 'req-2',
    });
  });
});
