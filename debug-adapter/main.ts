/* The debug adapter as a standalone program (stdin/stdout), for DebugClient tests and other editors. */
import { DebugSession } from '@vscode/debugadapter';
import { SqliteosDebugSession } from './session';

/** The session reading scenarios from disk (DebugSession.run constructs it with no arguments). */
class StandaloneSession extends SqliteosDebugSession {
  constructor() {
    super();
  }
}

DebugSession.run(StandaloneSession);
