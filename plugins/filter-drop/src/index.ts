import { definePlugin, opt } from '@pipeline/core';

const options = {
  percentage: opt.number({ default: 100, description: 'share of the events reaching this filter to drop, 0–100' }),
};

export default definePlugin({
  kind: 'filter',
  name: 'drop',
  parallel: true,
  description: 'Drops events (all of them, or a random share).',
  options,
  create(o) {
    const share = o.percentage / 100;
    const always = o.percentage === 100;
    return {
      filter(event) {
        if (always || Math.random() < share) event.cancelled = true;
        // Like Logstash's drop, the common add_field/add_tag never apply.
        return false;
      },
    };
  },
});
