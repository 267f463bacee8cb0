/*
 * Every id the extension shares with package.json, in one place: commands, views, settings, context keys
 * and tree item context values. package.json is checked against this file by a unit test.
 */

export const Cmd = {
  runScenario: 'sqliteos.runScenario',
  loadScenario: 'sqliteos.loadScenario',
  openExample: 'sqliteos.openExample',
  useSimulator: 'sqliteos.useSimulator',
  connect: 'sqliteos.connect',
  connectThisMachine: 'sqliteos.connectThisMachine',
  connectWsl: 'sqliteos.connectWsl',
  disconnect: 'sqliteos.disconnect',
  stepStatement: 'sqliteos.stepStatement',
  stepMicro: 'sqliteos.stepMicro',
  runToEnd: 'sqliteos.runToEnd',
  reset: 'sqliteos.reset',
  query: 'sqliteos.query',
  refresh: 'sqliteos.refresh',
  exportTable: 'sqliteos.exportTable',
  openRow: 'sqliteos.openRow',
  openBlob: 'sqliteos.openBlob',
  copyValue: 'sqliteos.copyValue',
  loadMore: 'sqliteos.loadMore',
  setProfile: 'sqliteos.setProfile',
  setLocks: 'sqliteos.setLocks',
  explore: 'sqliteos.explore',
  replay: 'sqliteos.replay',
  minimize: 'sqliteos.minimize',
  debugScenario: 'sqliteos.debugScenario',
  runOnKernel: 'sqliteos.runOnKernel',
  compareWithSimulator: 'sqliteos.compareWithSimulator',
  recordProgram: 'sqliteos.recordProgram',
  kernelSource: 'sqliteos.kernel.source',
  kernelPatch: 'sqliteos.kernel.patch',
  kernelBuild: 'sqliteos.kernel.build',
  kernelInstall: 'sqliteos.kernel.install',
  kernelTest: 'sqliteos.kernel.test',
  benchRun: 'sqliteos.bench.run',
  benchReport: 'sqliteos.bench.report',
  benchExport: 'sqliteos.bench.export',
  benchImport: 'sqliteos.bench.import',
} as const;

export const View = {
  container: 'sqliteos',
  target: 'sqliteos.target',
  tables: 'sqliteos.tables',
  locks: 'sqliteos.locks',
  waitQueues: 'sqliteos.waitQueues',
} as const;

export const Setting = {
  section: 'sqliteos',
  profile: 'simulator.profile',
  locks: 'simulator.locks',
  capacity: 'simulator.capacity',
  pageSize: 'tables.pageSize',
  refreshDelay: 'views.refreshDelayMs',
  hideOwnProcesses: 'views.hideOwnProcesses',
  pollInterval: 'ssh.pollIntervalMs',
  sshHosts: 'ssh.hosts',
  connectTimeout: 'ssh.connectTimeout',
  kernelMachine: 'kernel.machine',
  kernelTree: 'kernel.tree',
  kernelConfig: 'kernel.config',
  kernelOut: 'kernel.outDir',
  kernelJobs: 'kernel.jobs',
  kernelImage: 'kernel.image',
  kernelScripts: 'kernel.scriptsDir',
} as const;

/** Each setting's default, beside its key; package.json declares the same (a unit test checks). */
export const Defaults = {
  [Setting.pageSize]: 200,
  [Setting.refreshDelay]: 100,
  [Setting.hideOwnProcesses]: false,
  [Setting.pollInterval]: 1000,
  [Setting.connectTimeout]: 30,
} as const;

export const Ctx = {
  targetLoaded: 'sqliteos.targetLoaded',
  /** The active target is a real kernel (SSH or this machine): Disconnect shows. */
  remoteTarget: 'sqliteos.remoteTarget',
  scenarioLoaded: 'sqliteos.scenarioLoaded',
} as const;

/** contextValue of each tree item kind (one per node class), with its state after a '+'. */
export enum Node {
  target = 'sqliteos:target',
  detail = 'sqliteos:detail',
  table = 'sqliteos:table',
  row = 'sqliteos:row',
  value = 'sqliteos:value',
  blob = 'sqliteos:value+blob',
  loadMore = 'sqliteos:loadMore',
  message = 'sqliteos:message',
  warning = 'sqliteos:message+warning',
  anomaly = 'sqliteos:anomaly',
  schema = 'sqliteos:schema',
  error = 'sqliteos:message+error',
  lockSummary = 'sqliteos:lockSummary',
  connection = 'sqliteos:connection',
  mutex = 'sqliteos:mutex',
  queue = 'sqliteos:queue',
  queueEmpty = 'sqliteos:queue+empty',
  sleeper = 'sqliteos:process+blocked',
}

export const SCHEME = 'sqliteos';
export const LANGUAGE = 'sqlos';
