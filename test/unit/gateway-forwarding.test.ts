import { SubgraphDataSource } from '@civic/gateway/subgraph-source';
import { startProbeSubgraph, type ProbeSubgraph } from '../support/probe-subgraph';

/** What the gateway passes on to a subgraph: the request id and the client's language, nothing else. */
describe('SubgraphDataSource', () => {
  const send = (context: Record<string, unknown>) => {
    const ds = new SubgraphDataSource({ name: 'test', url: 'http://127.0.0.1:1/graphql', secret: null });
    return ds.headersFor({}, context);
  };

  test('forwards the request id and Accept-Language', () => {
    expect(send({ requestId: 'req-1', acceptLanguage: 'ar, fr;q=0.8' })).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-request-id': 'req-1',
      'accept-language': 'ar, fr;q=0.8',
    });
  });

  test('forwards no client header it was not asked to (no Authorization, no cookies)', () => {
    expect(send({ requestId: 'req-2', acceptLanguage: null, authorization: 'Bearer x' })).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      'x-request-id': 'req-2',
    });
  });

  describe('on the wire, to a real subgraph', () => {
    let probe: ProbeSubgraph;
    beforeAll(async () => {
      probe = await startProbeSubgraph();
    });
    afterAll(async () => {
      await probe?.stop();
    });

    test('sends only the allowed headers, whatever was put on the request before it', async () => {
      const ds = new SubgraphDataSource({
        name: 'probe',
        url: probe.url,
        secret: 'unit-secret-0123456789abcdef',
      });
      const res = await ds.process({
        // GraphQLDataSourceRequestKind.HEALTH_CHECK (the enum is not exported at run time).
        kind: 'health check' as never,
        request: {
          query: '{ __typename }',
          // What a careless plugin might have copied from the client's request.
          http: {
            method: 'POST',
            url: probe.url,
            headers: new Headers({ authorization: 'Bearer x', cookie: 'a=b', 'x-request-id': 'req-3' }),
          } as never,
        },
        context: {},
      });
      expect(res.data).toEqual({ __typename: 'Query' });
      const received = probe.requests.at(-1)!;
      expect(received['x-request-id']).toBe('req-3');
      expect(received['x-civic-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      expect(received.authorization).toBeUndefined();
      expect(received.cookie).toBeUndefined();
    });
  });
});
