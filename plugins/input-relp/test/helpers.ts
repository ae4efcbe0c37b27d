export * from '@pipeline/input-tcp/testing';
export { RelpClient, type Response } from './client.js';
