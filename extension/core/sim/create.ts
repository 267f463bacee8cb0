/*
 * A simulated kernel of a profile: the engine (engine.ts) given that profile's programs, so the engine
 * itself knows no profile.
 */
import { companionProfile } from './companion';
import { loadSqlJs, SimDb } from './db';
import { SimEngine } from './engine';
import { upstreamProfile } from './upstream';
import { SimOptions } from './types';
import { resolveOptions } from '../scenario/options';

export async function createKernel(opts: Partial<SimOptions> = {}): Promise<SimEngine> {
  const full: SimOptions = resolveOptions({ launch: opts });
  return new SimEngine(full, new SimDb(await loadSqlJs()), full.profile === 'upstream' ? upstreamProfile() : companionProfile());
}
