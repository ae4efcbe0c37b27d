// A filter that matches every event and does nothing itself, so a benchmark measures only the
// runtime: its common options (add_tag, add_field) and the conditionals around it.
import { definePlugin } from '@pipeline/core';

export default definePlugin({
  kind: 'filter',
  name: 'noop',
  options: {},
  create() {
    return { filter() {} };
  },
});
