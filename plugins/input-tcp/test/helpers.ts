export * from '@pipeline/net/testing';
