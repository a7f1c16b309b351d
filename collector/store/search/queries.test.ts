import { describe, expect, it } from 'vitest';
import { alertQuery, findingQuery, page } from './queries.js';

describe('search queries', () => {
  it('pages like the other stores, and refuses pages beyond what a search can reach', () => {
    expect(page({})).toEqual({ limit: 100, offset: 0 });
    expect(page({ limit: 50_000, offset: 10 })).toEqual({ limit: 10_000, offset: 10 });
    expect(page({ limit: -5, offset: -1 })).toEqual({ limit: 0, offset: 0 });
    expect(() => page({ limit: 100, offset: 99_950 })).toThrow(expect.objectContaining({ code: 'STORE_INVALID_INPUT' }));
  });

  it('filters findings by exact field values and refuses names that are not flat ECS names', () => {
    expect(findingQuery({ kind: 'fim', agentId: 'a', where: { 'event.action': 'created', 'file.size': 3 } })).toEqual({
      bool: { filter: [
        { term: { 'canhgac.kind': 'fim' } }, { term: { 'agent.id': 'a' } },
        { term: { 'event.action': 'created' } }, { term: { 'file.size': 3 } },
      ] },
    });
    expect(() => findingQuery({ kind: 'fim', where: { 'a b': 1 } })).toThrow(expect.objectContaining({ code: 'STORE_INVALID_INPUT' }));
    expect(() => findingQuery({ kind: 'fim', since: 'yesterday' })).toThrow(expect.objectContaining({ code: 'STORE_INVALID_INPUT' }));
    expect(() => findingQuery({ kind: 'nope' as 'fim' })).toThrow(expect.objectContaining({ code: 'STORE_INVALID_INPUT' }));
  });

  it('treats an empty list as no filter for alerts', () => {
    expect(alertQuery({ severity: [], status: ['open'] })).toEqual({ bool: { filter: [{ terms: { 'canhgac.alert.status': ['open'] } }] } });
  });
});
