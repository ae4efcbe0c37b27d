export * from '@pipeline/net/testing';
export { RelpClient, type Response } from './client.js';
