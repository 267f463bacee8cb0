/*
 * The one resolution of a run's options (profile, lock policy, capacity), used by the CLI, the Run and
 * Load commands, the debugger and the explorer. Precedence, highest first:
 *   1. launch arguments (a launch.json's "profile" / "locks" / "capacity", a replayed schedule's)
 *   2. overrides chosen for this session (the CLI's flags; "Choose Profile" / "Choose Lock Policy")
 *   3. the scenario file's @profile / @locks / @capacity lines
 *   4. settings (sqliteos.simulator.profile / .locks / .capacity)
 *   5. the built-in defaults: companion, sqliteos, 65536 bytes
 * Every result (RunResult, explore's, the debug console's first line) says which profile and locks ran.
 */
import type { Scenario } from './ast';
import { DEFAULT_CAPACITY, SimOptions } from '../sim/types';

export type OptionLayer = Partial<Pick<SimOptions, 'profile' | 'locks' | 'capacity'>>;

export interface OptionSources {
  launch?: OptionLayer;
  overrides?: OptionLayer;
  file?: Pick<Scenario, 'profile' | 'locks' | 'capacity'>;
  settings?: OptionLayer;
}

export const DEFAULT_OPTIONS: Required<OptionLayer> = { profile: 'companion', locks: 'sqliteos', capacity: DEFAULT_CAPACITY };

export function resolveOptions(src: OptionSources): Required<OptionLayer> {
  const layers = [src.launch, src.overrides, src.file, src.settings, DEFAULT_OPTIONS];
  const pick = <K extends keyof OptionLayer>(k: K) => layers.map((l) => l?.[k]).find((v) => v !== undefined && v !== null) as Required<OptionLayer>[K];
  return { profile: pick('profile'), locks: pick('locks'), capacity: pick('capacity') };
}
