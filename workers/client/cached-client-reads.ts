// Client reads through the read cache: one group per owner for lists (any write drops all of that
// owner's lists), one per client for single reads. Every write calls forgetClient() before answering.
import { type Cache, cacheGroups } from '../../shared/cache.ts';
import { clientListCacheField } from '../../shared/client-list-query.ts';
import type { ClientListQuery, ClientRepository } from './client-repository.ts';

export function createCachedClientReads(cache: Cache, clients: ClientRepository) {
  return {
    list(query: ClientListQuery, fresh = false) {
      return cache.readThrough(
        cacheGroups.clientLists(query.ownerId),
        clientListCacheField(query),
        () => clients.listForOwner(query),
        fresh,
      );
    },
    /** Any owner's client: the caller checks ownership on what comes back. */
    byId(clientId: string, fresh = false) {
      return cache.readThrough(cacheGroups.client(clientId), 'row', () => clients.findById(clientId), fresh);
    },
    forgetClient(ownerId: string, clientId?: string) {
      const groups = [cacheGroups.clientLists(ownerId)];
      if (clientId) groups.push(cacheGroups.client(clientId));
      return cache.invalidate(...groups);
    },
  };
}

export type CachedClientReads = ReturnType<typeof createCachedClientReads>;
