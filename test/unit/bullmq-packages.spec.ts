import { BullModule } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { describe, expect, it } from 'vitest';
import { TransactionModule } from '../../lib/index.js';
import { BULLMQ_PACKAGES } from '../../lib/queues/bullmq.packages.js';

/** What the module loaded of BullMQ for an application importing `imports`. */
async function bullMqPackagesFor(imports: unknown[]) {
  const moduleRef = await Test.createTestingModule({
    imports: [TransactionModule.forRoot(), ...(imports as never[])],
  }).compile();
  try {
    return moduleRef.get<unknown>(BULLMQ_PACKAGES, { strict: false });
  } finally {
    await moduleRef.close();
  }
}

describe('BullMQ support', () => {
  it('is not loaded for an application that does not import BullModule', async () => {
    expect(await bullMqPackagesFor([])).toBeUndefined();
  });

  it('is loaded for an application that imports BullModule', async () => {
    const packages = await bullMqPackagesFor([
      BullModule.forRoot({ connection: { host: '127.0.0.1', port: 6379, lazyConnect: true } }),
    ]);
    expect(packages).toMatchObject({
      Queue: expect.any(Function),
      FlowProducer: expect.any(Function),
    });
  });
});
