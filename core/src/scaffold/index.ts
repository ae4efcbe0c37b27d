export { generatePlugin, ScaffoldError, type GenerateOptions, type GenerateResult } from './generate.js';
export { SCAFFOLD_KINDS, templateSchema, type ScaffoldKind } from './templates.js';
