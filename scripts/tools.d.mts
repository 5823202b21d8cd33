// Types of tools.mjs for the TypeScript tests that import it.
import type { TestOptions } from 'vitest';

export interface Tool {
  readonly for: string;
  readonly env: string;
  readonly deb: string;
  readonly install: string;
}
export type ToolName = 'go' | 'chromium';
export interface Host {
  readonly debian: boolean;
  readonly root: boolean;
  readonly aptGet: boolean;
}
type Env = Record<string, string | undefined>;
interface Report {
  testResults: { assertionResults: { status: string; meta?: { missingTools?: string[] } }[] }[];
}

export const TOOLS: Record<ToolName, Tool>;
export function findTool(name: ToolName, env?: Env): string | undefined;
export function isCI(env?: Env): boolean;
export function skips(name: ToolName, env?: Env): boolean;
export function needs(name: ToolName): TestOptions;
export function crossCheck<T>(name: ToolName, check: () => T): T | undefined;
export function toolPath(name: ToolName): string;
export function thisHost(): Host;
export function installPlan(missing: ToolName[], env?: Env, host?: Host): { packages: string[]; reason?: string };
export function ensureTools(log?: (line: string) => void, env?: Env, host?: Host): ToolName[];
export function skipSummary(reports: Report[]): { line: string; totals: string; failed: number; forTools: number };
