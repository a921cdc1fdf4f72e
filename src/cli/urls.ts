import type { KeelConfig } from '../config';

export function uiUrl(config: Pick<KeelConfig, 'uiPort'>): string {
  return `http://localhost:${config.uiPort}`;
}

export function runUrl(config: Pick<KeelConfig, 'uiPort' | 'namespace'>, workflowId: string): string {
  return `${uiUrl(config)}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
