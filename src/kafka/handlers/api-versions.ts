// ApiVersions (key 18), v0-4. The advertised table is computed from the
// handlers (never a version that is not served). Features stay empty so
// clients keep the classic paths (kafka-notes §1: no TV2, no KIP-848 yet).
// The too-new-version case (KIP-511) is answered by the connection itself.

import type { ApiVersionsRequest } from '../../protocol/kafka/generated/api-versions-request.ts';
import type { ApiVersionsResponse } from '../../protocol/kafka/generated/api-versions-response.ts';
import type { Init } from '../../protocol/kafka/codec/index.ts';
import type { Handler } from './types.ts';

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** The ApiVersions table from the handler list, sorted by key. */
export function advertisedApis(handlers: Iterable<Handler>): AdvertisedApi[] {
  return [...handlers]
    .map((h) => ({ apiKey: h.apiKey, minVersion: h.advertisedMinVersion ?? h.minVersion, maxVersion: h.maxVersion }))
    .sort((a, b) => a.apiKey - b.apiKey);
}

export function apiVersionsHandler(table: () => readonly AdvertisedApi[]): Handler<ApiVersionsRequest, Init<ApiVersionsResponse>> {
  return {
    apiKey: 18,
    minVersion: 0,
    maxVersion: 4,
    handle: () => ({
      errorCode: 0,
      apiKeys: table(),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      finalizedFeatures: [],
      zkMigrationReady: false,
    }),
  };
}
