import { describeActionLogContract } from '../../test/actionLogContract.ts';
import { MemoryActionLog } from './actionLog.ts';

describeActionLogContract('MemoryActionLog', async () => new MemoryActionLog());
