import jsonCodec from '@pipeline/codec-json';
import jsonLinesCodec from '@pipeline/codec-json_lines';
import lineCodec from '@pipeline/codec-line';
import plainCodec from '@pipeline/codec-plain';
import { completeCodec, type CodecImplementation, type CodecInstance, type PluginContext, type PluginDefinition } from '@pipeline/core';

/**
 * The codecs `additional_codecs` may name. The runtime builds only an input's own `codec`; a codec
 * picked by content type is built here from the built-in definitions, with its default options (as
 * Logstash instantiates an additional codec by name, without options).
 */
const BUILT_IN: Readonly<Record<string, PluginDefinition<'codec'>>> = {
  json: jsonCodec as PluginDefinition<'codec'>,
  json_lines: jsonLinesCodec as PluginDefinition<'codec'>,
  line: lineCodec as PluginDefinition<'codec'>,
  plain: plainCodec as PluginDefinition<'codec'>,
};

export const ADDITIONAL_CODECS = Object.keys(BUILT_IN);

/** A config error for an `additional_codecs` hash, or undefined. */
export function additionalCodecsError(h: Record<string, unknown>): string | undefined {
  for (const [type, name] of Object.entries(h)) {
    if (typeof name !== 'string') return `the codec for '${type}' must be a codec name, got ${JSON.stringify(name)}`;
    if (!Object.hasOwn(BUILT_IN, name)) return `unknown codec '${name}' for '${type}' (additional_codecs takes ${ADDITIONAL_CODECS.join(', ')})`;
    if (mimeOf(type) === '') return `'${type}' is not a content type`;
  }
  return undefined;
}

/** The media type of a Content-Type value: what comes before any parameter, lowercased. */
export function mimeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function defaults(def: PluginDefinition<'codec'>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(def.options)) if (spec.default !== undefined) out[k] = structuredClone(spec.default);
  return out;
}

/** One instance per content type, made at load (decodeMessage carries nothing over between bodies). */
export function additionalCodecs(h: Record<string, unknown>, ctx: PluginContext): Map<string, CodecInstance> {
  const out = new Map<string, CodecInstance>();
  for (const [type, name] of Object.entries(h)) {
    const def = BUILT_IN[name as string]!;
    out.set(mimeOf(type), completeCodec(def.create(defaults(def) as never, ctx) as CodecImplementation));
  }
  return out;
}
