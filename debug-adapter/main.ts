/* The debug adapter as a standalone program (stdin/stdout), for DebugClient tests and other editors. */
import { DebugSession } from '@vscode/debugadapter';
import { SqliteosDebugSession } from './session';

DebugSession.run(SqliteosDebugSession);
