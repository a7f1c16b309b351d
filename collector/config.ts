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
  retention: z.object({
    alerts_days: z.number().int().min(365).max(36500).default(400).describe('Closed alerts last seen longer ago than this are deleted (at least 365 days: Decree 53/2022 keeps incident logs ≥ 12 months).'),
    findings_days: z.number().int().min(90).max(36500).default(120).describe('Findings observed longer ago than this are deleted, except the current state of each host (at least 90 days).'),
    interval_hours: z.number().min(0).max(168).default(6).describe('How often the collector applies the retention to the embedded store; 0 turns it off. (An Elasticsearch/OpenSearch store uses store.retention.)'),
  }).strict().prefault({}).describe('Retention of the embedded store.'),
  store: z.unknown().default({ type: 'sqlite' }).describe('Store settings (see "store" below): type sqlite | elasticsearch | opensearch.'),
}).strict();

export type CollectorConfig = z.infer<typeof collectorConfigSchema>;
