/** An error a plugin raises at run time (not a config mistake): carries the plugin id and a code. */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly code: string = 'PIPELINE_PLUGIN_ERROR',
    readonly pluginId?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'PluginError';
  }
}
