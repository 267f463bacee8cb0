/*
 * The scenario a command works on: the file it was given, else the .sqlos editor in front, read as the
 * user sees it (unsaved edits included) and parsed; a missing or broken one is a UserError in the
 * command's own words.
 */
import * as vscode from 'vscode';
import type { Scenario } from '../core/scenario/ast';
import { parseScenario } from '../core/scenario/parser';
import { LANGUAGE } from '../ids';
import { textOf } from '../text';
import { UserError } from './register';

export interface ScenarioFile {
  file: vscode.Uri;
  /** The file as the workspace names it (messages, parse errors). */
  name: string;
  source: string;
  scenario: Scenario;
}

/**
 * `none`: said when there is no scenario ("Open a .sqlos scenario to explore."); `broken`: what follows
 * "NAME has errors (see Problems)" before the first error (": ", "; nothing ran. First: ").
 */
export async function scenarioFile(uri: unknown, say: { none: string; broken: string }): Promise<ScenarioFile> {
  const ed = vscode.window.activeTextEditor;
  const file = uri instanceof vscode.Uri ? uri : ed?.document.languageId === LANGUAGE ? ed.document.uri : undefined;
  if (!file) throw new UserError(say.none);
  const name = vscode.workspace.asRelativePath(file);
  const source = await textOf(file);
  const parsed = parseScenario(source, name);
  if (!parsed.ok) throw new UserError(`${name} has errors (see Problems)${say.broken}${parsed.errors[0].toString()}`);
  return { file, name, source, scenario: parsed.scenario };
}
