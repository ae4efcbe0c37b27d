import { definePlugin } from '@pipeline/core';

/** Discards every event: for benchmarks and for branches that must end somewhere. */
export default definePlugin({
  kind: 'output',
  name: 'null',
  description: 'Drops events.',
  options: {},
  create() {
    return { receive() {} };
  },
});
