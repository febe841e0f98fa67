// Worker thread of WalCheckpointer (sqlite-checkpointer.ts): runs WAL checkpoints on its own
// connection, so that their fsyncs never block the server's event loop. Plain JS: it needs no loader.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';

const db = new Database(workerData.file);
// Same durability as the server's connection: a checkpoint syncs the WAL, then the database file.
db.pragma('synchronous = NORMAL');
db.pragma('wal_autocheckpoint = 0');

parentPort.on('message', ({ id, mode }) => {
  if (mode === 'CLOSE') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    // PASSIVE never waits for the server's connection; RESTART is only asked for while it is idle.
    const [result] = db.pragma(`wal_checkpoint(${mode === 'RESTART' ? 'RESTART' : 'PASSIVE'})`);
    parentPort.postMessage({ id, busy: result.busy, log: result.log, checkpointed: result.checkpointed });
  } catch (error) {
    parentPort.postMessage({ id, error: String(error) });
  }
});
