/** The collector's configuration file (collector.yaml in the data directory, optional). */
import { z } from 'zod';

export const collectorConfigSchema = z.object({
  listen: z.object({
    host: z.string().default('127.0.0.1').describe('Address the gRPC server binds to (0.0.0.0 for all interfaces).'),
    port: z.number().int().min(0).max(65535).default(7443).describe('gRPC port for enrollment and agent streams (TLS 1.3, mutual TLS for streams); 0 picks a free port.'),
  }).strict().default({ host: '127.0.0.1', port: 7443 }).describe('Where agents connect.'),
  server_names: z.array(z.string()).default([]).describe('Extra DNS names for the collector certificate (agents connect by one of them).'),
  rules_dir: z.string().default('rules/detection').describe('Folder of detection rules (Sigma-style YAML), relative to the program folder unless absolute.'),
  max_message_bytes: z.number().int().min(65536).max(64 * 1024 * 1024).default(4 * 1024 * 1024).describe('Largest agent message accepted; larger ones are refused with RESOURCE_EXHAUSTED and the stream survives.'),
  store: z.unknown().default({ type: 'sqlite' }).describe('Store settings (see "store" below): type sqlite | elasticsearch | opensearch.'),
}).strict();

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;
