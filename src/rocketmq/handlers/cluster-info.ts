// GET_BROKER_CLUSTER_INFO (106, name server; rocketmq-remoting.md §4.4): this
// node is the one broker of its cluster.

import { RequestCode, ResponseCode } from '../../protocol/rocketmq/index.ts';
import { brokerData } from './route.ts';
import { json, type RocketmqHandler } from './types.ts';

export const getBrokerClusterInfo: RocketmqHandler = {
  codes: [RequestCode.GET_BROKER_CLUSTER_INFO],
  name: 'GET_BROKER_CLUSTER_INFO',
  handle(ctx) {
    const { state } = ctx;
    return {
      code: ResponseCode.SUCCESS,
      body: json({ brokerAddrTable: { [state.brokerName]: brokerData(state) }, clusterAddrTable: { [state.clusterName]: [state.brokerName] } }),
    };
  },
};
