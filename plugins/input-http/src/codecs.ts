import type { CodecInstance, PluginContext } from '@pipeline/core';

/** The media type of a Content-Type value: what comes before any parameter, lowercased. */
export function mimeOf(contentType: string): string {
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/** A config error for an `additional_codecs` key that is no content type, or undefined. */
export function contentTypesError(h: Record<string, unknown>): string | undefined {
  for (const type of Object.keys(h)) if (mimeOf(type) === '') return `'${type}' is not a content type`;
  return undefined;
}

/**
 * One instance per content type, made at load (decodeMessage carries nothing over between bodies).
 * The runtime resolved and built the codecs `additional_codecs` names (any codec, built-in or
 * installed, with its options), as it builds the input's own `codec`.
 */
export function additionalCodecs(ctx: PluginContext): Map<string, CodecInstance> {
  const out = new Map<string, CodecInstance>();
  for (const [type, factory] of ctx.codecsOf('additional_codecs')) out.set(mimeOf(type), factory.create());
  return out;
}
